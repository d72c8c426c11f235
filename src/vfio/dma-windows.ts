/**
 * A container's DMA windows: one TCE table per window slot, the locked memory charged for each,
 * and the programming of every table into the TVT of every attached PE. Creation is all or
 * nothing: a table is charged, allocated and programmed into each PE, and any failure unwinds
 * those steps in reverse (except the charge of a table whose allocation failed, under the
 * `failedCreateKeepsCharge` quirk, K4).
 *
 * Kernel figures (PowerNV IODA2):
 * - the charge is pnv_pci_ioda2_get_table_size: twice the worst-case size of the levels, one copy
 *   for the hardware table and one for its userspace view (it_userspace) (K1);
 * - a table holds at least one host page of TCEs and its window covers what the table holds
 *   (pnv_pci_ioda2_table_alloc_pages sets it_size from the allocation): a 256 MiB window of 64K
 *   pages under 64K host pages has 8192 entries and covers 512 MiB (K2).
 */
import type { Pe } from '../hw/pe.js';
import { TceTable, tableSizeBytes } from '../hw/tce-table.js';
import type { Mm } from './locked-memory.js';
import { quirksOf, type Quirks } from './profile.js';

/** Window slots a container can use (the kernel's IOMMU_TABLE_GROUP_MAX_TABLES). */
export const MAX_WINDOWS = 2;

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** A container window as seen from outside (tests, introspection, the KVM link). */
export interface WindowInfo {
  slot: number;
  table: TceTable;
  /** Host pages charged to locked memory for the table (0 when not charged). */
  chargedPages: number;
}

export interface WindowParams {
  pageShift: number;
  windowSize: bigint;
  levels: number;
  /** Charge the worst-case table size to locked memory (v2 windows). */
  charge: boolean;
}

/** Zeroes `count` entries of `table` from `index` on behalf of the owner (which tracks references). */
export type ClearEntries = (table: TceTable, index: number, count: number) => void;

/**
 * Host pages TCE_CREATE charges for a window (K1): the worst-case table size twice over (the
 * hardware table and its userspace view), in host pages.
 */
export function windowChargePages(pageShift: number, windowSize: bigint, levels: number, hostPageShift: number): number {
  return Number((2n * tableSizeBytes(pageShift, windowSize, levels, hostPageShift)) >> BigInt(hostPageShift));
}

/**
 * The bus range a window really covers (K2): its table holds at least one host page of TCEs,
 * `2^(hostPageShift - 3)` entries, and the window grows to match.
 */
export function coveredWindowSize(pageShift: number, windowSize: bigint, hostPageShift: number): bigint {
  const least = 1n << BigInt(hostPageShift - 3 + pageShift);
  return windowSize < least ? least : windowSize;
}

export class DmaWindows {
  readonly #tables: (TceTable | undefined)[] = new Array<TceTable | undefined>(MAX_WINDOWS).fill(undefined);
  readonly #charged: number[] = new Array<number>(MAX_WINDOWS).fill(0);
  readonly #clear: ClearEntries;
  readonly #quirks: Quirks;

  constructor(clear: ClearEntries, quirks: Quirks = quirksOf()) {
    this.#clear = clear;
    this.#quirks = quirks;
  }

  get list(): WindowInfo[] {
    const out: WindowInfo[] = [];
    this.#tables.forEach((table, slot) => {
      if (table !== undefined) out.push({ slot, table, chargedPages: this.#charged[slot]! });
    });
    return out;
  }

  get empty(): boolean {
    return this.#tables.every((t) => t === undefined);
  }

  at(slot: number): TceTable | undefined {
    return this.#tables[slot];
  }

  has(table: TceTable): boolean {
    return this.#tables.includes(table);
  }

  /** The window containing bus address `iova`. */
  find(iova: bigint): { slot: number; table: TceTable } | undefined {
    const slot = this.#tables.findIndex((t) => t !== undefined && t.contains(iova));
    return slot < 0 ? undefined : { slot, table: this.#tables[slot]! };
  }

  /** The first free slot below `slots`, or -1. */
  freeSlot(slots: number): number {
    return this.#tables.findIndex((t, i) => t === undefined && i < slots);
  }

  /**
   * Creates the window in `slot` at the bus start `pes[0]`'s PHB decodes there, and programs it
   * into every PE. Check order: EINVAL parameters, ENOMEM locked memory, EINVAL bus bits, ENOMEM
   * level block, then whatever programming a PE fails with. Nothing remains on failure.
   */
  create(mm: Mm, pes: readonly Pe[], slot: number, p: WindowParams): TceTable {
    const phb = pes[0]!.phb;
    TceTable.checkParams(p.pageShift, p.windowSize, p.levels, phb.spec.maxLevels);
    const pages = p.charge ? windowChargePages(p.pageShift, p.windowSize, p.levels, mm.pageShift) : 0;
    mm.charge(pages, `a ${hex(p.windowSize)}-byte window table and its userspace view (page_shift ${p.pageShift}, ${p.levels} level(s))`);
    let table: TceTable;
    try {
      table = TceTable.create({
        pageShift: p.pageShift,
        windowSize: coveredWindowSize(p.pageShift, p.windowSize, mm.pageShift),
        levels: p.levels,
        busStart: phb.windowStart(slot),
        hostPageShift: mm.pageShift,
        maxLevels: phb.spec.maxLevels,
        maxLevelBytes: phb.spec.maxLevelBytes,
      });
    } catch (e) {
      if (!this.#quirks.failedCreateKeepsCharge) mm.uncharge(pages);
      throw e;
    }
    const done: Pe[] = [];
    try {
      for (const pe of pes) {
        pe.program(slot, table);
        done.push(pe);
      }
    } catch (e) {
      for (const pe of done.reverse()) pe.unprogram(slot);
      table.free();
      mm.uncharge(pages);
      throw e;
    }
    this.#tables[slot] = table;
    this.#charged[slot] = pages;
    return table;
  }

  /**
   * Unprograms the window in `slot` from the PEs, clears and frees its table, and refunds its
   * charge to `mm` (no-op for an empty slot).
   */
  remove(slot: number, pes: readonly Pe[], mm: Mm | undefined): void {
    const table = this.#tables[slot];
    if (table === undefined) return;
    for (const pe of [...pes].reverse()) pe.unprogram(slot);
    this.#clear(table, 0, table.entries);
    table.free();
    this.#tables[slot] = undefined;
    mm?.uncharge(this.#charged[slot]!);
    this.#charged[slot] = 0;
  }

  /** Programs every window into a PE joining the container; a failure unprograms what was done. */
  programInto(pe: Pe): void {
    const done: number[] = [];
    try {
      this.#tables.forEach((table, slot) => {
        if (table === undefined) return;
        pe.program(slot, table);
        done.push(slot);
      });
    } catch (e) {
      for (const slot of done.reverse()) pe.unprogram(slot);
      throw e;
    }
  }

  /** Empties a leaving PE's TVT slots of this container's windows. */
  unprogramFrom(pe: Pe): void {
    this.#tables.forEach((table, slot) => {
      if (table !== undefined) pe.unprogram(slot);
    });
  }
}
