/**
 * The engine behind H_PUT_TCE, H_PUT_TCE_INDIRECT and the TCE_PUT_BATCH fast path: a run of guest
 * TCEs, given as little-endian u64 bytes, put into a guest-view table and every hardware table
 * linked to it, as KVM does it:
 *
 * - pass 1 validates every entry and writes nothing if one is bad;
 * - pass 2 writes entry by entry: the linked hardware tables first (one guest TCE = 2^(Δshift)
 *   hardware TCEs of `ua | perms`, write-only upgraded to read-write, a clear clearing them), then
 *   the guest view. A failure at entry i clears entry i in the hardware tables and returns the
 *   error with entries 0..i-1 applied.
 *
 * Entries are read as two u32 halves straight from the caller's bytes (a view into the received
 * frame): no copy of the run, no per-entry object or bigint (a run that is not 4-byte aligned,
 * which assembled frames never are, is staged through a small fixed buffer). Unlinked tables take
 * each host page's share with one `Uint8Array.set`. The hot loops test "same memory slot / same
 * preregistered span as the last entry" with 32-bit integer compares only.
 */
import { ADDRESS_LIMIT, H_SUCCESS, H_TOO_HARD } from './constants.js';
import type { GuestTceTable } from './guest-tce-table.js';
import type { HwTarget } from './hw-port.js';
import type { MemorySlots } from './memslots.js';

export interface PutResult {
  /** PAPR return code. */
  ret: number;
  /** Entries applied (all of them on success). */
  written: number;
}

const TWO32 = 4294967296;
const INV_TWO32 = 1 / TWO32;
/** `hi` at or above this puts the address at or above 2^52: in no memory slot. */
const HI_LIMIT = ADDRESS_LIMIT / TWO32;
/** Hardware entries staged per HwTarget.write call. */
const HW_CHUNK = 8192;
const scratch = new Uint32Array(HW_CHUNK * 2);
/** Entries per staging copy when the run is not 4-byte aligned (then only). */
const UNALIGNED_CHUNK = 4096;
const unalignedWords = new Uint32Array(UNALIGNED_CHUNK * 2);
/** Per-call scratch of the (never re-entered) loops below. */
const slotRange = new Uint32Array(2);
const offset = new Uint32Array(2);
const NO_SPANS = new Uint32Array(0);

/**
 * The run's entries as u32 words (entry i = words[base + 2i], words[base + 2i + 1]), for entries
 * [first, first + n). Aligned runs (frames are assembled 8-byte aligned) are viewed in place, the
 * whole run at once; an unaligned run is staged through a small fixed buffer, UNALIGNED_CHUNK
 * entries at a time.
 */
class Words {
  readonly aligned: boolean;
  /** Entries per window of `words()`: the whole run when aligned (a small integer, never Infinity:
   * loop indexes derived from it must stay integers for the compiler). */
  readonly span: number;
  readonly #src: Uint8Array;
  readonly #at: number;
  readonly #view: Uint32Array | undefined;

  constructor(src: Uint8Array, at: number, count: number) {
    this.#src = src;
    this.#at = at;
    this.aligned = ((src.byteOffset + at) & 3) === 0;
    this.#view = this.aligned ? new Uint32Array(src.buffer, src.byteOffset + at, count * 2) : undefined;
    this.span = this.aligned ? Math.max(count, 1) : UNALIGNED_CHUNK;
  }

  /** Words holding entries [first, first + n) (n <= span), and the word index of entry `first`. */
  words(first: number, n: number): { words: Uint32Array; base: number } {
    if (this.#view !== undefined) return { words: this.#view, base: first * 2 };
    const from = this.#at + first * 8;
    new Uint8Array(unalignedWords.buffer).set(this.#src.subarray(from, from + n * 8));
    return { words: unalignedWords, base: 0 };
  }
}

/**
 * The low words `lo` under high word `hi` for which [addr, addr + len) lies in [start, end)
 * (addr = hi·2^32 + lo): [first, last], or first > last when none. Lets the hot loops test
 * "same range as the last entry" with 32-bit integer compares only.
 */
function wordRange(start: number, end: number, hi: number, len: number, out: Uint32Array, i: number): void {
  const base = hi * TWO32;
  const first = Math.max(start, base) - base;
  const last = Math.min(end - len, base + TWO32 - len) - base;
  if (last < first || first >= TWO32) {
    out[i] = 1;
    out[i + 1] = 0;
  } else {
    out[i] = first;
    out[i + 1] = last;
  }
}

/** A signed offset (|d| < 2^53) as the two u32 words of its 64-bit two's complement. */
function splitOffset(d: number, out: Uint32Array): void {
  const hi = Math.floor(d / TWO32);
  out[0] = d - hi * TWO32;
  out[1] = hi >>> 0;
}

/** ioba_validate over the whole range: the first entry index (relative), or -1 for H_PARAMETER. */
export function iobaIndex(table: GuestTceTable, ioba: bigint, npages: bigint): number {
  const shift = BigInt(table.pageShift);
  if ((ioba & ((1n << shift) - 1n)) !== 0n) return -1;
  const idx = ioba >> shift;
  if (idx < table.offset || idx - table.offset + npages > table.size) return -1;
  return Number(idx - table.offset);
}

/**
 * Pass 1 over `count` entries: H_SUCCESS or the code of the first bad entry. A TCE with
 * permissions must be aligned to the table page, in a memory slot, and (per linked hardware
 * table) its first hardware page must be preregistered.
 */
function validateTces(
  slots: MemorySlots, pageShift: number, targets: readonly HwTarget[], run: Words, count: number,
): number {
  // Address bits below the page (bits 2..pageShift-1) must be zero.
  const loMask = pageShift >= 32 ? 0xffff_fffc : (2 ** pageShift - 1) & ~3;
  const hiMask = pageShift > 32 ? 2 ** (pageShift - 32) - 1 : 0;
  const nTargets = targets.length;
  const hwPage = nTargets === 0 ? [] : targets.map((t) => 2 ** t.pageShift);
  // Per target, the preregistered span the last entry fell in, as word ranges: [hi, first, last].
  const spans = nTargets === 0 ? NO_SPANS : new Uint32Array(3 * nTargets);
  for (let t = 0; t < nTargets; t++) spans[3 * t + 1] = 1;
  // The slot the last entry fell in, as a range of low words under one high word (integer-only
  // test for the common case), and its ua - gpa offset split in words. Starts empty; kept in
  // uint32 range so the compiler keeps them integers.
  let cHi = 0;
  let cLoFirst = 1;
  let cLoLast = 0;
  for (let first = 0; first < count; first += run.span) {
    const n = Math.min(count - first, run.span);
    const { words, base } = run.words(first, n);
    const end = base + 2 * n;
    for (let w = base; w < end; w += 2) {
      const lo = words[w]!;
      const perms = lo & 3;
      if (perms === 0) continue;
      const hi = words[w + 1]!;
      if ((lo & loMask) !== 0 || (hi & hiMask) !== 0) return H_TOO_HARD;
      if (hi !== cHi || lo < cLoFirst || lo > cLoLast) {
        if (hi >= HI_LIMIT) return H_TOO_HARD;
        const s = slots.find(hi * TWO32 + (lo - perms));
        if (s === undefined) return H_TOO_HARD;
        wordRange(s.gpaStart, s.gpaEnd, hi, 1, slotRange, 0);
        cHi = hi;
        cLoFirst = slotRange[0]!;
        cLoLast = slotRange[1]!;
        splitOffset(s.uaDelta, offset);
      }
      if (nTargets === 0) continue;
      const uaLo = (lo - perms + offset[0]!) >>> 0;
      const uaHi = (hi + offset[1]! + (uaLo < offset[0]! ? 1 : 0)) >>> 0;
      for (let t = 0; t < nTargets; t++) {
        const k = 3 * t;
        if (uaHi === spans[k] && uaLo >= spans[k + 1]! && uaLo <= spans[k + 2]!) continue;
        const ua = uaHi * TWO32 + uaLo;
        const span = targets[t]!.preregisteredSpan(ua, hwPage[t]!);
        if (span === undefined) return H_TOO_HARD;
        spans[k] = uaHi;
        wordRange(span.start, span.end, uaHi, hwPage[t]!, spans, k + 1);
      }
    }
  }
  return H_SUCCESS;
}

/**
 * Writes guest entries [first, first + count) (run entries `from`..) into one hardware target.
 * Returns how many guest entries were completed; fewer than `count` = entry `result` failed
 * (partly written).
 */
function mapIntoTarget(
  slots: MemorySlots, pageShift: number, target: HwTarget, run: Words, from: number, first: number, count: number,
): number {
  const sub = 2 ** (pageShift - target.pageShift);
  if (sub === 1) return mapSamePageSize(slots, target, run, from, first, count);
  const hwPage = 2 ** target.pageShift;
  const hwBase = first * sub;
  let flushed = 0; // hardware entries written so far (relative to hwBase)
  let staged = 0;
  let cs = 0;
  let ce = 0;
  let delta = 0;
  for (let done = 0; done < count; done += run.span) {
    const n = Math.min(count - done, run.span);
    const { words, base } = run.words(from + done, n);
    for (let e = 0; e < n; e++) {
      const lo = words[base + 2 * e]!;
      const perms = lo & 3;
      let ua = 0;
      let hwPerms = 0;
      if (perms !== 0) {
        const gpa = words[base + 2 * e + 1]! * TWO32 + (lo - perms);
        if (gpa < cs || gpa >= ce) {
          const s = slots.find(gpa)!; // validated in pass 1
          cs = s.gpaStart;
          ce = s.gpaEnd;
          delta = s.uaDelta;
        }
        ua = gpa + delta;
        hwPerms = perms === 2 ? 3 : perms;
      }
      for (let k = 0; k < sub; k++) {
        if (staged === HW_CHUNK) {
          const written = target.write(hwBase + flushed, scratch, staged);
          if (written < staged) return Math.floor((flushed + written) / sub);
          flushed += staged;
          staged = 0;
        }
        if (perms === 0) {
          scratch[staged * 2] = 0;
          scratch[staged * 2 + 1] = 0;
        } else {
          const a = ua + k * hwPage;
          const hi = Math.floor(a * INV_TWO32);
          scratch[staged * 2] = (a - hi * TWO32) | hwPerms;
          scratch[staged * 2 + 1] = hi;
        }
        staged++;
      }
    }
  }
  if (staged !== 0) {
    const written = target.write(hwBase + flushed, scratch, staged);
    if (written < staged) return Math.floor((flushed + written) / sub);
  }
  return count;
}

/**
 * mapIntoTarget when guest and hardware pages are the same size (one hardware entry per guest
 * entry), with 32-bit integer arithmetic only: hardware words = guest words + (ua - gpa) of the
 * slot, permissions upgraded (write-only → read-write).
 */
function mapSamePageSize(slots: MemorySlots, target: HwTarget, run: Words, from: number, first: number, count: number): number {
  let cHi = 0;
  let cLoFirst = 1;
  let cLoLast = 0;
  let dLo = 0;
  let dHi = 0;
  let staged = 0;
  let flushed = 0;
  for (let done = 0; done < count; done += run.span) {
    const n = Math.min(count - done, run.span);
    const { words, base } = run.words(from + done, n);
    const end = base + 2 * n;
    for (let w = base; w < end; w += 2) {
      if (staged === HW_CHUNK) {
        const written = target.write(first + flushed, scratch, staged);
        if (written < staged) return flushed + written;
        flushed += staged;
        staged = 0;
      }
      const lo = words[w]!;
      const perms = lo & 3;
      if (perms === 0) {
        scratch[2 * staged] = 0;
        scratch[2 * staged + 1] = 0;
      } else {
        const hi = words[w + 1]!;
        if (hi !== cHi || lo < cLoFirst || lo > cLoLast) {
          const s = slots.find(hi * TWO32 + (lo - perms))!; // validated in pass 1
          wordRange(s.gpaStart, s.gpaEnd, hi, 1, slotRange, 0);
          cHi = hi;
          cLoFirst = slotRange[0]!;
          cLoLast = slotRange[1]!;
          splitOffset(s.uaDelta, offset);
          dLo = offset[0]!;
          dHi = offset[1]!;
        }
        const uaLo = (lo - perms + dLo) >>> 0;
        scratch[2 * staged] = uaLo | perms | (perms >> 1);
        scratch[2 * staged + 1] = hi + dHi + (uaLo < dLo ? 1 : 0);
      }
      staged++;
    }
  }
  if (staged !== 0) {
    const written = target.write(first + flushed, scratch, staged);
    if (written < staged) return flushed + written;
  }
  return count;
}

function clearEntry(table: GuestTceTable, targets: readonly HwTarget[], index: number): void {
  for (const t of targets) {
    const sub = 2 ** (table.pageShift - t.pageShift);
    t.clear(index * sub, sub);
  }
}

/**
 * Puts `count` entries (little-endian u64 at byte `at` of `src`) into `table` from entry `index`
 * (relative to the window; the caller has checked the range). Two passes, as described above.
 */
export function putTces(
  slots: MemorySlots, table: GuestTceTable, index: number, src: Uint8Array, at: number, count: number,
): PutResult {
  const targets = table.targets();
  const run = new Words(src, at, count);
  const rc = validateTces(slots, table.pageShift, targets, run, count);
  if (rc !== H_SUCCESS) return { ret: rc, written: 0 };
  if (targets.length === 0) {
    table.writeLE(index, src, at, count);
    return { ret: H_SUCCESS, written: count };
  }
  if (targets.length === 1) {
    // One hardware table: chunks of entries, the hardware first, then the guest view.
    const target = targets[0]!;
    const per = Math.max(1, Math.floor(HW_CHUNK / 2 ** (table.pageShift - target.pageShift)));
    for (let done = 0; done < count; done += per) {
      const n = Math.min(per, count - done);
      const ok = mapIntoTarget(slots, table.pageShift, target, run, done, index + done, n);
      table.writeLE(index + done, src, at + done * 8, ok);
      if (ok < n) {
        clearEntry(table, targets, index + done + ok);
        return { ret: H_TOO_HARD, written: done + ok };
      }
    }
    return { ret: H_SUCCESS, written: count };
  }
  // Several hardware tables: entry by entry, every table, then the guest view.
  for (let i = 0; i < count; i++) {
    for (const target of targets) {
      if (mapIntoTarget(slots, table.pageShift, target, run, i, index + i, 1) !== 1) {
        clearEntry(table, targets, index + i);
        return { ret: H_TOO_HARD, written: i };
      }
    }
    table.writeLE(index + i, src, at + i * 8, 1);
  }
  return { ret: H_SUCCESS, written: count };
}
