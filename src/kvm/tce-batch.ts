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
 * frame): no copy of the run, no per-entry object, closure or bigint. A 4-byte aligned run is read
 * through a Uint32Array view, any other through a DataView (measured faster here than staging it
 * through an aligned copy). Unlinked tables take each host page's share with one `Uint8Array.set`.
 *
 * The hot loops test "inside the cached range" with two 32-bit integer operations: the range is
 * kept as (hi, first, span), the low words `lo` under high word `hi` with `(lo - first) >>> 0 <=
 * span`, and only a miss goes to the slow path that looks the memory slot (and preregistered
 * spans) up and refills the cache.
 */
import { ADDRESS_LIMIT, H_SUCCESS, H_TOO_HARD } from './constants.js';
import type { GuestTceTable } from './guest-tce-table.js';
import type { HwTarget } from './hw-port.js';
import type { MemorySlots } from './memslots.js';
import { SimdScanner, scanJs } from './tce-scan.js';

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
/** Hardware entries staged per HwTarget.write call (the staging buffer stays cache-sized). */
const HW_CHUNK = 8192;
const scratch = new Uint32Array(HW_CHUNK * 2);
/** Cache refills of the loops below write (hi, first, span[, deltaLo, deltaHi]) here. */
const cache = new Uint32Array(5);

/**
 * Caches the gpa range [start, last] (inclusive, both multiples of 4) restricted to high word
 * `hi`, as the low words of TCEs (address | perms, perms in bits 0-1) it admits: (hi, first,
 * span) in `cache`. Exact: `lo` is admitted iff `hi·2^32 + (lo & ~3)` lies in [start, last].
 */
function cacheRange(start: number, last: number, hi: number): void {
  const base = hi * TWO32;
  const first = Math.max(start, base) - base;
  const end = Math.min(last, base + TWO32 - 4) - base + 3;
  cache[0] = hi;
  cache[1] = first;
  cache[2] = end - first; // ≥ 3: the entry that caused the refill lies in the range
}

/** ioba_validate over the whole range: the first entry index (relative), or -1 for H_PARAMETER. */
export function iobaIndex(table: GuestTceTable, ioba: bigint, npages: bigint): number {
  const shift = BigInt(table.pageShift);
  if ((ioba & ((1n << shift) - 1n)) !== 0n) return -1;
  const idx = ioba >> shift;
  if (idx < table.offset || idx - table.offset + npages > table.size) return -1;
  return Number(idx - table.offset);
}

// ---- pass 1 ------------------------------------------------------------------------------------

/**
 * Pass 1's rules for one put: a TCE with permissions must be aligned to the table page, in a memory
 * slot, and (per linked hardware table) its first hardware page must be preregistered.
 */
class Admission {
  /** Bits of the low word that must be zero (bits 2..pageShift-1). */
  readonly alignMask: number;
  /** Bits of the high word that must be zero (page shifts above 32). */
  readonly #hiMask: number;
  readonly #slots: MemorySlots;
  readonly #targets: readonly HwTarget[];
  readonly #hwPage: number[];

  constructor(slots: MemorySlots, pageShift: number, targets: readonly HwTarget[]) {
    this.alignMask = (pageShift >= 32 ? 0xffff_ffff : 2 ** pageShift - 1) & ~3;
    this.#hiMask = pageShift > 32 ? 2 ** (pageShift - 32) - 1 : 0;
    this.#slots = slots;
    this.#targets = targets;
    this.#hwPage = targets.map((t) => 2 ** t.pageShift);
  }

  /**
   * The slow path of a TCE (hi, lo) with permissions, its low word aligned, outside the cached
   * range: H_TOO_HARD, or H_SUCCESS with `cache` refilled with the gpa range under `hi` around
   * it in which every page is in the same slot and (per target) in the same preregistered span,
   * i.e. admitted without a lookup. (The cache pins `hi`, so the high word's alignment is checked
   * here only.)
   */
  admit(hi: number, lo: number): number {
    if ((hi & this.#hiMask) !== 0 || hi >= HI_LIMIT) return H_TOO_HARD;
    const gpa = hi * TWO32 + (lo - (lo & 3));
    const s = this.#slots.find(gpa);
    if (s === undefined) return H_TOO_HARD;
    let start = s.gpaStart;
    let last = s.gpaEnd - 1;
    for (let t = 0; t < this.#targets.length; t++) {
      const len = this.#hwPage[t]!;
      const span = this.#targets[t]!.preregisteredSpan(gpa + s.uaDelta, len);
      if (span === undefined) return H_TOO_HARD;
      start = Math.max(start, span.start - s.uaDelta);
      last = Math.min(last, span.end - len - s.uaDelta);
    }
    cacheRange(Math.ceil(start / 4) * 4, Math.floor(last / 4) * 4, hi);
    return H_SUCCESS;
  }
}

/** Empties the cached range: (hi 0, first 0, span 0) admits only lo 0, which has no permissions. */
function resetCache(): void {
  cache.fill(0);
}

/*
 * The pass 1 loops scan while entries stay in the cached range, which is loop-invariant inside
 * the inner loop (so the compiler keeps it in registers); an entry outside it leaves the inner
 * loop for the slow path (Admission.admit), which refills the cache around it.
 */

/** Runs shorter than this are scanned in JS: the copy and call into WebAssembly do not pay. */
const SIMD_MIN_ENTRIES = 64;
const simd = SimdScanner.create();

/**
 * Pass 1 over a 4-byte aligned run: `words[2i]`, `words[2i + 1]` are entry i's halves. The scan
 * for entries the cached range does not admit is scanJs, or its WebAssembly SIMD twin (same
 * answers, about twice as fast) for longer runs.
 */
function validateWords(rules: Admission, words: Uint32Array, count: number): number {
  const alignMask = rules.alignMask;
  const fast = simd !== undefined && count >= SIMD_MIN_ENTRIES ? simd : undefined;
  fast?.begin(words);
  resetCache();
  for (let e = 0; e < count; e++) {
    e = fast !== undefined
      ? fast.scan(e, count, alignMask, cache[0]!, cache[1]!, cache[2]!)
      : scanJs(words, e, count, alignMask, cache[0]!, cache[1]!, cache[2]!);
    if (e === count) break;
    const lo = words[2 * e]!;
    if ((lo & alignMask) !== 0) return H_TOO_HARD; // not aligned to the table page
    if (rules.admit(words[2 * e + 1]!, lo) !== H_SUCCESS) return H_TOO_HARD; // refills the cache
  }
  return H_SUCCESS;
}

/** validateWords for a run at any byte alignment (a DataView over exactly its bytes). */
function validateView(rules: Admission, view: DataView, count: number): number {
  const alignMask = rules.alignMask;
  const end = 8 * count;
  resetCache();
  for (let b = 0; b < end; b += 8) {
    const cHi = cache[0]!;
    const cFirst = cache[1]!;
    const cSpan = cache[2]!;
    for (; b < end; b += 8) {
      const lo = view.getUint32(b, true);
      if ((lo & 3) === 0) continue;
      if ((lo & alignMask) !== 0) return H_TOO_HARD;
      if (view.getUint32(b + 4, true) !== cHi || ((lo - cFirst) >>> 0) > cSpan) break;
    }
    if (b < end && rules.admit(view.getUint32(b + 4, true), view.getUint32(b, true)) !== H_SUCCESS) return H_TOO_HARD;
  }
  return H_SUCCESS;
}

/** A run's entries as u32 words, or undefined when it is not 4-byte aligned. */
function wordsOf(src: Uint8Array, at: number, count: number): Uint32Array | undefined {
  const offset = src.byteOffset + at;
  return (offset & 3) === 0 ? new Uint32Array(src.buffer, offset, count * 2) : undefined;
}

// ---- pass 2, linked ------------------------------------------------------------------------------

/** Entry `e` of the run (aligned words, or the DataView of an unaligned run): low word. */
function loOf(words: Uint32Array | undefined, view: DataView, e: number): number {
  return words !== undefined ? words[2 * e]! : view.getUint32(8 * e, true);
}

function hiOf(words: Uint32Array | undefined, view: DataView, e: number): number {
  return words !== undefined ? words[2 * e + 1]! : view.getUint32(8 * e + 4, true);
}

/**
 * Caches the slot holding the (validated) TCE (hi, lo): its range as in cacheRange plus its
 * ua - gpa offset as two u32 words (64-bit two's complement) in cache[3], cache[4].
 */
function cacheSlot(slots: MemorySlots, hi: number, lo: number): number {
  const s = slots.find(hi * TWO32 + (lo - (lo & 3)))!; // validated in pass 1
  cacheRange(s.gpaStart, s.gpaEnd - 4, hi);
  const dHi = Math.floor(s.uaDelta / TWO32);
  cache[3] = s.uaDelta - dHi * TWO32;
  cache[4] = dHi >>> 0;
  return s.uaDelta;
}

/**
 * Hardware entries of guest entries [from, from + n) when both tables have the same page size:
 * `ua | perms` (write-only → read-write; 0 for entries without permissions) into `scratch`, with
 * 32-bit integer arithmetic only (hardware words = guest words + the slot's ua - gpa).
 */
function stageSamePage(slots: MemorySlots, words: Uint32Array | undefined, view: DataView, from: number, n: number): void {
  if (words !== undefined) {
    stageSamePageWords(slots, words, from, n);
    return;
  }
  // The empty cache (hi 0, first 0, span 0) admits only lo 0, which has no permissions.
  let cHi = 0;
  let cFirst = 0;
  let cSpan = 0;
  let dLo = 0;
  let dHi = 0;
  for (let k = 0; k < n; k++) {
    const lo = loOf(words, view, from + k);
    const perms = lo & 3;
    if (perms === 0) {
      scratch[2 * k] = 0;
      scratch[2 * k + 1] = 0;
      continue;
    }
    const hi = hiOf(words, view, from + k);
    if (hi !== cHi || ((lo - cFirst) >>> 0) > cSpan) {
      cacheSlot(slots, hi, lo);
      cHi = cache[0]!;
      cFirst = cache[1]!;
      cSpan = cache[2]!;
      dLo = cache[3]!;
      dHi = cache[4]!;
    }
    const uaLo = (lo - perms + dLo) >>> 0;
    scratch[2 * k] = uaLo | perms | (perms >> 1);
    scratch[2 * k + 1] = hi + dHi + (uaLo < dLo ? 1 : 0);
  }
}

/** stageSamePage for an aligned run (the common case): the same loop over the words directly. */
function stageSamePageWords(slots: MemorySlots, words: Uint32Array, from: number, n: number): void {
  let cHi = 0;
  let cFirst = 0;
  let cSpan = 0;
  let dLo = 0;
  let dHi = 0;
  const base = 2 * from;
  for (let w = 0; w < 2 * n; w += 2) {
    const lo = words[base + w]!;
    const perms = lo & 3;
    if (perms === 0) {
      scratch[w] = 0;
      scratch[w + 1] = 0;
      continue;
    }
    const hi = words[base + w + 1]!;
    if (hi !== cHi || ((lo - cFirst) >>> 0) > cSpan) {
      cacheSlot(slots, hi, lo);
      cHi = cache[0]!;
      cFirst = cache[1]!;
      cSpan = cache[2]!;
      dLo = cache[3]!;
      dHi = cache[4]!;
    }
    const uaLo = (lo - perms + dLo) >>> 0;
    scratch[w] = uaLo | perms | (perms >> 1);
    scratch[w + 1] = hi + dHi + (uaLo < dLo ? 1 : 0);
  }
}

/**
 * Writes guest entries [from, from + count) of the run into one hardware target from hardware
 * entry `(index + from)·sub`, HW_CHUNK hardware entries per call. Returns how many guest entries
 * were completed; fewer than `count` = entry `from + result` failed (partly written).
 */
function mapIntoTarget(
  slots: MemorySlots, pageShift: number, target: HwTarget,
  words: Uint32Array | undefined, view: DataView, index: number, from: number, count: number,
): number {
  const sub = 2 ** (pageShift - target.pageShift);
  if (sub === 1) {
    for (let done = 0; done < count; done += HW_CHUNK) {
      const n = Math.min(HW_CHUNK, count - done);
      stageSamePage(slots, words, view, from + done, n);
      const written = target.write(index + from + done, scratch, n);
      if (written < n) return done + written;
    }
    return count;
  }
  // Hardware pages smaller than the guest's: 2^Δshift hardware entries per guest entry.
  const hwPage = 2 ** target.pageShift;
  const hwBase = (index + from) * sub;
  let flushed = 0; // hardware entries written so far (relative to hwBase)
  let staged = 0;
  let cs = 0;
  let ce = 0;
  let delta = 0;
  for (let e = from; e < from + count; e++) {
    const lo = loOf(words, view, e);
    const perms = lo & 3;
    let ua = 0;
    if (perms !== 0) {
      const gpa = hiOf(words, view, e) * TWO32 + (lo - perms);
      if (gpa < cs || gpa >= ce) {
        const s = slots.find(gpa)!; // validated in pass 1
        cs = s.gpaStart;
        ce = s.gpaEnd;
        delta = s.uaDelta;
      }
      ua = gpa + delta;
    }
    const hwPerms = perms === 2 ? 3 : perms;
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
  if (staged !== 0) {
    const written = target.write(hwBase + flushed, scratch, staged);
    if (written < staged) return Math.floor((flushed + written) / sub);
  }
  return count;
}

function clearEntry(table: GuestTceTable, targets: readonly HwTarget[], index: number): void {
  for (const t of targets) {
    const sub = 2 ** (table.pageShift - t.pageShift);
    t.clear(index * sub, sub);
  }
}

// ---- the put -------------------------------------------------------------------------------------

/**
 * Puts `count` entries (little-endian u64 at byte `at` of `src`) into `table` from entry `index`
 * (relative to the window; the caller has checked the range). Two passes, as described above.
 */
export function putTces(
  slots: MemorySlots, table: GuestTceTable, index: number, src: Uint8Array, at: number, count: number,
): PutResult {
  const targets = table.targets();
  const rules = new Admission(slots, table.pageShift, targets);
  const words = wordsOf(src, at, count);
  const view = new DataView(src.buffer, src.byteOffset + at, count * 8);
  const rc = words !== undefined ? validateWords(rules, words, count) : validateView(rules, view, count);
  if (rc !== H_SUCCESS) return { ret: rc, written: 0 };
  if (targets.length === 0) {
    table.writeLE(index, src, at, count);
    return { ret: H_SUCCESS, written: count };
  }
  if (targets.length === 1) {
    // One hardware table: the hardware first (all of it, or up to the failing entry), then the
    // guest view of what the hardware took.
    const ok = mapIntoTarget(slots, table.pageShift, targets[0]!, words, view, index, 0, count);
    table.writeLE(index, src, at, ok);
    if (ok === count) return { ret: H_SUCCESS, written: count };
    clearEntry(table, targets, index + ok);
    return { ret: H_TOO_HARD, written: ok };
  }
  // Several hardware tables: entry by entry, every table, then the guest view.
  for (let i = 0; i < count; i++) {
    for (const target of targets) {
      if (mapIntoTarget(slots, table.pageShift, target, words, view, index, i, 1) !== 1) {
        clearEntry(table, targets, index + i);
        return { ret: H_TOO_HARD, written: i };
      }
    }
    table.writeLE(index + i, src, at + i * 8, 1);
  }
  return { ret: H_SUCCESS, written: count };
}

// ---- the streamed put ------------------------------------------------------------------------------

/** One run of entries retained by a StreamedPut: `n` entries at byte `at` of `src`. */
interface Segment {
  readonly src: Uint8Array;
  readonly at: number;
  readonly n: number;
}

/**
 * putTces for an unlinked table whose entries arrive in pieces (the chunks of a received frame):
 * pass 1 runs on each piece as it arrives (`add`), the pieces are kept (views, no copy), and
 * `commit` stores them once all are in. Pieces may split an entry anywhere; the split entry is
 * joined in an 8-byte copy. Its specification is putTces on the concatenated entries: when every
 * entry is valid, `commit` gives the same result and table contents; when one is not, `valid` is
 * false and the caller runs putTces (which answers the error and writes nothing). For tables with
 * at most one hardware target (`targets`, as `table.targets()` returned when the put began):
 * `commit` then writes each piece to the hardware, then to the guest view, as putTces does for
 * the whole run, and a hardware failure ends the put at that entry exactly as there.
 */
export class StreamedPut {
  readonly #table: GuestTceTable;
  readonly #index: number;
  readonly #count: number;
  readonly #rules: Admission;
  readonly #slots: MemorySlots;
  readonly #targets: readonly HwTarget[];
  readonly #segments: Segment[] = [];
  /** Entries seen so far (complete ones). */
  #seen = 0;
  #valid = true;
  /** A split entry's first bytes. */
  #carry: Uint8Array | undefined;
  #carried = 0;

  constructor(slots: MemorySlots, table: GuestTceTable, targets: readonly HwTarget[], index: number, count: number) {
    if (targets.length > 1) throw new RangeError('StreamedPut: at most one hardware target');
    this.#table = table;
    this.#index = index;
    this.#count = count;
    this.#slots = slots;
    this.#targets = targets;
    this.#rules = new Admission(slots, table.pageShift, targets);
  }

  /** The hardware targets the put was validated for. */
  get targets(): readonly HwTarget[] {
    return this.#targets;
  }

  /** False once an entry failed pass 1 (the rest is then only counted). */
  get valid(): boolean {
    return this.#valid;
  }

  /** True once all `count` entries have arrived. */
  get complete(): boolean {
    return this.#seen === this.#count && this.#carried === 0;
  }

  /** The next `bytes` bytes of entries, at byte `at` of `src` (kept until commit). */
  add(src: Uint8Array, at: number, bytes: number): void {
    if (this.#carried > 0) {
      const take = Math.min(8 - this.#carried, bytes);
      this.#carry!.set(src.subarray(at, at + take), this.#carried);
      this.#carried += take;
      at += take;
      bytes -= take;
      if (this.#carried < 8) return;
      this.#carried = 0;
      this.#run(this.#carry!, 0, 1);
    }
    const n = bytes >>> 3;
    if (n > 0) this.#run(src, at, n);
    const rest = bytes - n * 8;
    if (rest > 0) {
      this.#carry = new Uint8Array(8);
      this.#carry.set(src.subarray(at + n * 8, at + bytes));
      this.#carried = rest;
    }
  }

  #run(src: Uint8Array, at: number, n: number): void {
    if (this.#seen + n > this.#count) throw new RangeError('more entries than announced');
    this.#seen += n;
    if (!this.#valid) return;
    const words = wordsOf(src, at, n);
    const rc = words !== undefined ? validateWords(this.#rules, words, n) : validateView(this.#rules, new DataView(src.buffer, src.byteOffset + at, n * 8), n);
    if (rc !== H_SUCCESS) {
      this.#valid = false;
      this.#segments.length = 0;
      return;
    }
    this.#segments.push({ src, at, n });
  }

  /** Stores every entry (all valid and complete: the caller checks). */
  commit(): PutResult {
    if (!this.#valid || !this.complete) throw new Error('StreamedPut.commit: not a complete valid run');
    const table = this.#table;
    const target = this.#targets[0];
    let e = 0;
    for (const s of this.#segments) {
      const index = this.#index + e;
      if (target === undefined) table.writeLE(index, s.src, s.at, s.n);
      else {
        const words = wordsOf(s.src, s.at, s.n);
        const view = new DataView(s.src.buffer, s.src.byteOffset + s.at, s.n * 8);
        const ok = mapIntoTarget(this.#slots, table.pageShift, target, words, view, index, 0, s.n);
        table.writeLE(index, s.src, s.at, ok);
        if (ok < s.n) {
          clearEntry(table, this.#targets, index + ok);
          return { ret: H_TOO_HARD, written: e + ok };
        }
      }
      e += s.n;
    }
    return { ret: H_SUCCESS, written: this.#count };
  }
}
