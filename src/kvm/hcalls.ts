/**
 * The TCE hcalls as KVM serves them in the kernel. Each returns the PAPR return code as a value
 * (hcalls do not fail); H_TOO_HARD means "not handled in the kernel": the LIOBN has no in-kernel
 * table, the hcall is not enabled, or the TCE needs userspace (address not in guest RAM, memory not
 * preregistered for a linked hardware table).
 *
 * Check order per hcall (docs: ../shared/reference/spapr-semantics.md section 3). The ioba check
 * covers the first page only under the `iobaChecksFirstPageOnly` quirk (K12, the kernel's
 * iommu_tce_check_ioba: a range running past the window end is done for the part inside), else
 * the whole range of pages:
 * - H_PUT_TCE: LIOBN → ioba → TCE (pass 1) → hardware tables → guest view.
 * - H_PUT_TCE_INDIRECT: enabled → LIOBN → npages > 512 → tce_list alignment → ioba → tce_list in
 *   a memory slot → pass 1 (all entries) → pass 2 (entry by entry).
 * - H_STUFF_TCE: enabled → LIOBN → ioba → permission bits → hardware clears → guest view.
 * - H_GET_TCE: LIOBN → ioba.
 */
import {
  ADDRESS_LIMIT, H_GET_TCE, H_PARAMETER, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE, H_SUCCESS, H_TOO_HARD,
  INDIRECT_MAX_ENTRIES, TCE_PCI_READ, TCE_PCI_WRITE,
} from './constants.js';
import { iobaIndex, putTces, type PutResult } from './tce-batch.js';
import type { GuestTceTable } from './guest-tce-table.js';
import type { Vm } from './vm.js';

/**
 * The ioba check of an in-kernel hcall over `npages`: the first entry index (relative) and how
 * many entries to do, or undefined for H_PARAMETER.
 */
function iobaRange(vm: Vm, table: GuestTceTable, ioba: bigint, npages: bigint): { index: number; count: number } | undefined {
  if (!vm.quirks.iobaChecksFirstPageOnly) {
    const index = iobaIndex(table, ioba, npages);
    return index < 0 ? undefined : { index, count: Number(npages) };
  }
  const index = iobaIndex(table, ioba, 1n);
  if (index < 0) return undefined;
  const room = table.size - BigInt(index);
  return { index, count: Number(npages < room ? npages : room) };
}

/** The first `count` TCEs as little-endian u64 bytes. */
function bytesOf(tces: readonly bigint[], count: number): Uint8Array {
  const bytes = new Uint8Array(count * 8);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) dv.setBigUint64(i * 8, tces[i]!, true);
  return bytes;
}

/**
 * K11: the first of `count` TCEs without permission bits whose host page lies in no memory slot
 * (kvmppc_tce_to_ua fails for it in INDIRECT pass 2), or -1.
 */
function firstUntranslatable(vm: Vm, tces: readonly bigint[], count: number): number {
  const pageMask = (1n << BigInt(vm.hostPageShift)) - 1n;
  for (let i = 0; i < count; i++) {
    const tce = tces[i]!;
    if ((tce & PERMS) !== 0n) continue;
    const gpa = tce & ~pageMask;
    if (gpa >= BigInt(ADDRESS_LIMIT) || vm.memslots.find(Number(gpa)) === undefined) return i;
  }
  return -1;
}

/**
 * Pass 1's rules for TCEs [from, to) (the run's part after an untranslatable entry): each TCE with
 * permissions aligned to the table page, in a memory slot, and preregistered for every linked
 * hardware table.
 */
function admitsAll(vm: Vm, table: GuestTceTable, tces: readonly bigint[], from: number, to: number): boolean {
  const below = ((1n << BigInt(table.pageShift)) - 1n) & ~PERMS;
  const targets = table.targets();
  for (let i = from; i < to; i++) {
    const tce = tces[i]!;
    if ((tce & PERMS) === 0n) continue;
    if ((tce & below) !== 0n) return false;
    const gpa = tce & ~PERMS;
    if (gpa >= BigInt(ADDRESS_LIMIT)) return false;
    const slot = vm.memslots.find(Number(gpa));
    if (slot === undefined) return false;
    const ua = Number(gpa) + slot.uaDelta;
    if (targets.some((t) => t.preregisteredSpan(ua, 2 ** t.pageShift) === undefined)) return false;
  }
  return true;
}

const PERMS = BigInt(TCE_PCI_READ | TCE_PCI_WRITE);
const one = new Uint8Array(8);
const oneView = new DataView(one.buffer);
const LIST_ALIGN = 0xfffn;

/** H_PUT_TCE(liobn, ioba, tce). */
export function hPutTce(vm: Vm, liobn: bigint, ioba: bigint, tce: bigint): number {
  if (!vm.hcallEnabled(H_PUT_TCE)) return H_TOO_HARD;
  const table = vm.findTable(liobn);
  if (table === undefined) return H_TOO_HARD;
  const index = iobaIndex(table, ioba, 1n);
  if (index < 0) return H_PARAMETER;
  oneView.setBigUint64(0, tce, true);
  return putTces(vm.memslots, table, index, one, 0, 1).ret;
}

/** H_GET_TCE(liobn, ioba) → (ret, tce); tce is 0 unless ret is H_SUCCESS. */
export function hGetTce(vm: Vm, liobn: bigint, ioba: bigint): { ret: number; tce: bigint } {
  if (!vm.hcallEnabled(H_GET_TCE)) return { ret: H_TOO_HARD, tce: 0n };
  const table = vm.findTable(liobn);
  if (table === undefined) return { ret: H_TOO_HARD, tce: 0n };
  const index = iobaIndex(table, ioba, 1n);
  if (index < 0) return { ret: H_PARAMETER, tce: 0n };
  return { ret: H_SUCCESS, tce: table.get(index) };
}

/**
 * H_PUT_TCE_INDIRECT(liobn, ioba, tce_list, npages): `tces` are the list's entries (host values;
 * the guest's list is big-endian in its memory), npages is their count.
 */
export function hPutTceIndirect(vm: Vm, liobn: bigint, ioba: bigint, tceList: bigint, tces: readonly bigint[]): PutResult {
  if (!vm.hcallEnabled(H_PUT_TCE_INDIRECT)) return { ret: H_TOO_HARD, written: 0 };
  const table = vm.findTable(liobn);
  if (table === undefined) return { ret: H_TOO_HARD, written: 0 };
  const npages = tces.length;
  if (npages > INDIRECT_MAX_ENTRIES) return { ret: H_PARAMETER, written: 0 };
  if ((tceList & LIST_ALIGN) !== 0n) return { ret: H_PARAMETER, written: 0 };
  const range = iobaRange(vm, table, ioba, BigInt(npages));
  if (range === undefined) return { ret: H_PARAMETER, written: 0 };
  if (tceList >= BigInt(ADDRESS_LIMIT) || vm.memslots.find(Number(tceList)) === undefined) {
    return { ret: H_TOO_HARD, written: 0 };
  }
  const { index, count } = range;
  const untranslatable = vm.quirks.indirectTranslatesEveryEntry ? firstUntranslatable(vm, tces, count) : -1;
  if (untranslatable >= 0) {
    // Pass 1 covers every entry; pass 2 stops at the entry it cannot translate (K11).
    if (!admitsAll(vm, table, tces, untranslatable + 1, count)) return { ret: H_TOO_HARD, written: 0 };
    const r = putTces(vm.memslots, table, index, bytesOf(tces, untranslatable), 0, untranslatable);
    return r.ret !== H_SUCCESS ? r : { ret: H_PARAMETER, written: untranslatable };
  }
  return putTces(vm.memslots, table, index, bytesOf(tces, count), 0, count);
}

/** H_STUFF_TCE(liobn, ioba, tce_value, npages): only clearing or poison values (no permissions). */
export function hStuffTce(vm: Vm, liobn: bigint, ioba: bigint, tceValue: bigint, npages: bigint): number {
  if (!vm.hcallEnabled(H_STUFF_TCE)) return H_TOO_HARD;
  const table = vm.findTable(liobn);
  if (table === undefined) return H_TOO_HARD;
  const range = iobaRange(vm, table, ioba, npages);
  if (range === undefined) return H_PARAMETER;
  if ((tceValue & BigInt(TCE_PCI_READ | TCE_PCI_WRITE)) !== 0n) return H_PARAMETER;
  const { index, count } = range;
  for (const target of table.targets()) {
    const sub = 2 ** (table.pageShift - target.pageShift);
    target.clear(index * sub, count * sub);
  }
  table.fill(index, count, Number(tceValue & 0xffff_ffffn), Number(tceValue >> 32n));
  return H_SUCCESS;
}

/**
 * The TCE_PUT_BATCH fast path: H_PUT_TCE_INDIRECT semantics for `count` little-endian u64 entries
 * at byte `at` of `src`, without the 512-entry limit, the list address or the enable switch.
 */
export function tcePutBatch(vm: Vm, liobn: bigint, ioba: bigint, src: Uint8Array, at: number, count: number): PutResult {
  const table = vm.findTable(liobn);
  if (table === undefined) return { ret: H_TOO_HARD, written: 0 };
  const index = iobaIndex(table, ioba, BigInt(count));
  if (index < 0) return { ret: H_PARAMETER, written: 0 };
  return putTces(vm.memslots, table, index, src, at, count);
}
