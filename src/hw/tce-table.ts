/**
 * A TCE table: the array of 64-bit translation entries behind one DMA window, stored the way a
 * PowerNV PHB walks it: up to five levels, each level one block of `levelBytes`, the leaf level
 * holding TCEs and the levels above holding pointers to the next level.
 *
 * Geometry (for `E = log2(windowSize) - pageShift` index bits and `levels` levels): each level is
 * meant to resolve `ceil(E / levels)` bits, but a level block is never smaller than a host page,
 * so a level really has `L = levelBytes / 8` entries and resolves `log2(L)` bits. An entry index
 * (relative to the window start) is split top to leaf in `log2(L)`-bit slices.
 *
 * Only the top level exists after creation. Lower levels appear on the first store of a non-zero
 * entry below them; reading under a missing level yields 0; clearing skips missing subtrees.
 * Levels are never freed individually (only with the whole table), as on the hardware.
 *
 * Storage: a leaf block is a Uint32Array of (lo, hi) pairs, i.e. host-native little-endian u64
 * entries, so raw little-endian TCE bytes can be copied in with one `Uint8Array.set`. Non-leaf
 * levels are plain arrays of children, filled sparsely.
 */
import { fail } from '../wire/errno.js';

/** Most levels a PowerNV table may have (the kernel's limit, also used by tableSizeBytes). */
export const MAX_TABLE_LEVELS = 5;

/** Bus address bits from 55 up are reserved: a table must not resolve them. */
export const TCE_BUS_BITS_LIMIT = 55;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The shape of a table, derived from its parameters alone. */
export interface TableGeometry {
  pageShift: number;
  windowSize: bigint;
  levels: number;
  /** E: index bits of the window. */
  entryBits: number;
  /** log2 of a level block's byte size (at least the host page shift). */
  levelByteShift: number;
  /** log2 of the entries per level block (`levelByteShift - 3`). */
  levelShift: number;
}

function isPowerOfTwo(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}

function log2(v: bigint): number {
  return v.toString(2).length - 1;
}

/**
 * The geometry of a table, or undefined when the parameters cannot describe one: levels 0 or above
 * MAX_TABLE_LEVELS, a window size that is not a power of two or is smaller than one IOMMU page.
 */
export function tableGeometry(
  pageShift: number,
  windowSize: bigint,
  levels: number,
  hostPageShift: number,
): TableGeometry | undefined {
  if (!Number.isInteger(levels) || levels < 1 || levels > MAX_TABLE_LEVELS) return undefined;
  if (!isPowerOfTwo(windowSize)) return undefined;
  const entryBits = log2(windowSize) - pageShift;
  if (entryBits < 0) return undefined;
  const perLevel = Math.ceil(entryBits / levels);
  const levelByteShift = Math.max(perLevel + 3, hostPageShift);
  return { pageShift, windowSize, levels, entryBits, levelByteShift, levelShift: levelByteShift - 3 };
}

/**
 * Worst-case bytes of a table with every level fully populated: what the kernel charges to locked
 * memory when a window is created (get_table_size), regardless of how much is ever used.
 * Returns 0n for parameters that describe no table (see tableGeometry).
 */
export function tableSizeBytes(pageShift: number, windowSize: bigint, levels: number, hostPageShift: number): bigint {
  const g = tableGeometry(pageShift, windowSize, levels, hostPageShift);
  if (g === undefined) return 0n;
  let blocks = 0n;
  for (let below = 1; below <= g.levels; below++) {
    // Blocks needed at a level = entries it must cover / entries per block, at least one.
    const shift = g.entryBits - below * g.levelShift;
    blocks += shift > 0 ? 1n << BigInt(shift) : 1n;
  }
  return blocks << BigInt(g.levelByteShift);
}

export interface TceTableParams {
  pageShift: number;
  windowSize: bigint;
  levels: number;
  /** Bus address of entry 0. */
  busStart: bigint;
  hostPageShift: number;
  /** Most levels the PHB supports (≤ MAX_TABLE_LEVELS). */
  maxLevels: number;
  /** Largest single level block the allocator can provide; a bigger one is ENOMEM. */
  maxLevelBytes: number;
}

type Leaf = Uint32Array;
type Level = Leaf | Directory;
interface Directory extends Array<Level | undefined> {}

/** Callback for entries found non-zero: index relative to the window, low and high 32 bits. */
export type TceVisitor = (index: number, lo: number, hi: number) => void;

export class TceTable {
  readonly pageShift: number;
  readonly busStart: bigint;
  readonly windowSize: bigint;
  readonly levels: number;
  /** Entries in the window (`windowSize >> pageShift`). */
  readonly entries: number;
  /** Bytes of one level block. */
  readonly levelBytes: number;
  /** Entries per level block. */
  readonly levelEntries: number;

  #top: Level | undefined;
  /** `levelEntries ** k` for k = 0..levels-1: entries covered by one slot k levels above the leaf. */
  readonly #span: number[];
  #pages = 1;
  #cacheBase = -1;
  #cacheLeaf: Leaf | undefined;

  /**
   * Validates the parameters in the kernel's order and allocates the top level. EINVAL: levels 0
   * or above the PHB's maximum, window size not a power of two (or below one page), table would
   * resolve bus bits ≥ 55. ENOMEM: one level block bigger than the allocator provides.
   */
  static create(p: TceTableParams): TceTable {
    TceTable.checkParams(p.pageShift, p.windowSize, p.levels, p.maxLevels);
    const g = tableGeometry(p.pageShift, p.windowSize, p.levels, p.hostPageShift)!;
    if (g.levelShift * g.levels + g.pageShift >= TCE_BUS_BITS_LIMIT) {
      throw fail(
        'EINVAL',
        `levels ${p.levels}: ${p.levels} levels of ${g.levelShift} bits + page_shift ${p.pageShift} reach bus bit ${TCE_BUS_BITS_LIMIT}`,
      );
    }
    if (2 ** g.levelByteShift > p.maxLevelBytes) {
      throw fail(
        'ENOMEM',
        `window_size 0x${p.windowSize.toString(16)} with ${p.levels} level(s) needs ${2 ** g.levelByteShift}-byte level blocks, more than the ${p.maxLevelBytes} bytes the allocator provides`,
      );
    }
    return new TceTable(p, g);
  }

  /** The EINVAL checks on the parameters alone (before accounting, as the kernel orders them). */
  static checkParams(pageShift: number, windowSize: bigint, levels: number, maxLevels: number): void {
    if (!Number.isInteger(pageShift) || pageShift < 0 || pageShift > 63) {
      throw fail('EINVAL', `page_shift ${pageShift} outside 0..63`);
    }
    if (!Number.isInteger(levels) || levels < 1 || levels > Math.min(maxLevels, MAX_TABLE_LEVELS)) {
      throw fail('EINVAL', `levels ${levels} outside 1..${Math.min(maxLevels, MAX_TABLE_LEVELS)}`);
    }
    if (!isPowerOfTwo(windowSize)) {
      throw fail('EINVAL', `window_size 0x${windowSize.toString(16)} is not a power of two`);
    }
    if (windowSize < 1n << BigInt(pageShift)) {
      throw fail('EINVAL', `window_size 0x${windowSize.toString(16)} is smaller than one 2^${pageShift} page`);
    }
  }

  private constructor(p: TceTableParams, g: TableGeometry) {
    this.pageShift = p.pageShift;
    this.busStart = p.busStart;
    this.windowSize = p.windowSize;
    this.levels = p.levels;
    this.entries = 2 ** g.entryBits;
    this.levelBytes = 2 ** g.levelByteShift;
    this.levelEntries = 2 ** g.levelShift;
    this.#span = [];
    for (let k = 0; k < this.levels; k++) this.#span.push(this.levelEntries ** k);
    this.#top = this.levels === 1 ? new Uint32Array(2 * this.levelEntries) : [];
  }

  /** Level blocks allocated so far (the top level counts from creation). */
  get allocatedLevelPages(): number {
    return this.#pages;
  }

  get allocatedBytes(): number {
    return this.#pages * this.levelBytes;
  }

  /** Bus address just past the window. */
  get busEnd(): bigint {
    return this.busStart + this.windowSize;
  }

  get freed(): boolean {
    return this.#top === undefined;
  }

  /** True when the bus address lies in the window. */
  contains(iova: bigint): boolean {
    return iova >= this.busStart && iova < this.busStart + this.windowSize;
  }

  /** Entry index of a bus address inside the window (caller checks `contains`). */
  indexOf(iova: bigint): number {
    return Number((iova - this.busStart) >> BigInt(this.pageShift));
  }

  /** Drops every level; the table is unusable afterwards. */
  free(): void {
    this.#top = undefined;
    this.#pages = 0;
    this.#cacheBase = -1;
    this.#cacheLeaf = undefined;
  }

  // ---- single entries ------------------------------------------------------------------------

  getLo(index: number): number {
    this.#check(index, 1);
    const leaf = this.#leaf(index, false);
    return leaf === undefined ? 0 : leaf[2 * (index % this.levelEntries)]!;
  }

  getHi(index: number): number {
    this.#check(index, 1);
    const leaf = this.#leaf(index, false);
    return leaf === undefined ? 0 : leaf[2 * (index % this.levelEntries) + 1]!;
  }

  get(index: number): bigint {
    return (BigInt(this.getHi(index)) << 32n) | BigInt(this.getLo(index));
  }

  /** Stores one entry from its 32-bit halves (unsigned or signed, taken modulo 2^32). */
  setParts(index: number, lo: number, hi: number): void {
    this.#check(index, 1);
    const zero = lo === 0 && hi === 0;
    const leaf = this.#leaf(index, !zero);
    if (leaf === undefined) return;
    const at = 2 * (index % this.levelEntries);
    leaf[at] = lo;
    leaf[at + 1] = hi;
  }

  set(index: number, tce: bigint): void {
    if (tce < 0n || tce >= 1n << 64n) throw fail('EINVAL', `tce 0x${tce.toString(16)} is not a u64`);
    this.setParts(index, Number(tce & 0xffff_ffffn), Number(tce >> 32n));
  }

  // ---- ranges --------------------------------------------------------------------------------

  /**
   * Copies `count` little-endian u64 entries from `src` (any byte alignment) into entries
   * `index..index+count-1`. A missing leaf is allocated only if its part of `src` is non-zero.
   */
  writeLE(index: number, src: Uint8Array, srcOffset: number, count: number): void {
    this.#check(index, count);
    if (!Number.isInteger(srcOffset) || srcOffset < 0 || srcOffset + count * 8 > src.length) {
      throw fail('EINVAL', `source holds ${src.length} bytes, ${count} entries from offset ${srcOffset} do not fit`);
    }
    const L = this.levelEntries;
    let i = index;
    let off = srcOffset;
    let left = count;
    while (left > 0) {
      const o = i % L;
      const n = Math.min(left, L - o);
      const bytes = src.subarray(off, off + n * 8);
      let leaf = this.#leaf(i, false);
      if (leaf === undefined && !allZero(bytes)) leaf = this.#leaf(i, true);
      if (leaf !== undefined) {
        if (LITTLE_ENDIAN) {
          new Uint8Array(leaf.buffer, leaf.byteOffset + o * 8, n * 8).set(bytes);
        } else {
          const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          for (let k = 0; k < n; k++) {
            leaf[2 * (o + k)] = dv.getUint32(8 * k, true);
            leaf[2 * (o + k) + 1] = dv.getUint32(8 * k + 4, true);
          }
        }
      }
      i += n;
      off += n * 8;
      left -= n;
    }
  }

  /** Copies entries `index..index+count-1` as little-endian u64 into `dst` at `dstOffset`. */
  readLE(index: number, count: number, dst: Uint8Array, dstOffset: number): void {
    this.#check(index, count);
    if (!Number.isInteger(dstOffset) || dstOffset < 0 || dstOffset + count * 8 > dst.length) {
      throw fail('EINVAL', `destination holds ${dst.length} bytes, ${count} entries from offset ${dstOffset} do not fit`);
    }
    const L = this.levelEntries;
    let i = index;
    let off = dstOffset;
    let left = count;
    while (left > 0) {
      const o = i % L;
      const n = Math.min(left, L - o);
      const leaf = this.#leaf(i, false);
      if (leaf === undefined) {
        dst.fill(0, off, off + n * 8);
      } else if (LITTLE_ENDIAN) {
        dst.set(new Uint8Array(leaf.buffer, leaf.byteOffset + o * 8, n * 8), off);
      } else {
        const dv = new DataView(dst.buffer, dst.byteOffset + off, n * 8);
        for (let k = 0; k < n; k++) {
          dv.setUint32(8 * k, leaf[2 * (o + k)]!, true);
          dv.setUint32(8 * k + 4, leaf[2 * (o + k) + 1]!, true);
        }
      }
      i += n;
      off += n * 8;
      left -= n;
    }
  }

  /**
   * Zeroes entries `index..index+count-1`, skipping subtrees that were never allocated.
   * `onCleared`, if given, sees every entry that was non-zero, before it is zeroed.
   */
  clear(index: number, count: number, onCleared?: TceVisitor): void {
    this.#check(index, count);
    this.#walk(index, index + count, (leaf, base, o, n) => {
      if (onCleared !== undefined) visit(leaf, base, o, n, onCleared);
      leaf.fill(0, 2 * o, 2 * (o + n));
    });
  }

  /** Calls `cb` for every non-zero entry in `index..index+count-1`, in index order. */
  forEachNonZeroIn(index: number, count: number, cb: TceVisitor): void {
    this.#check(index, count);
    this.#walk(index, index + count, (leaf, base, o, n) => visit(leaf, base, o, n, cb));
  }

  /** Calls `cb` for every non-zero entry of the table, in index order. */
  forEachNonZero(cb: TceVisitor): void {
    this.forEachNonZeroIn(0, this.entries, cb);
  }

  // ---- internals -----------------------------------------------------------------------------

  #check(index: number, count: number): void {
    if (this.#top === undefined) throw fail('EINVAL', 'TCE table has been freed');
    if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || count < 0 || index + count > this.entries) {
      throw fail('EINVAL', `entries ${index}..${index + count} outside the table's ${this.entries}`);
    }
  }

  /** The leaf block holding `index`, allocating missing levels on the way when `alloc`. */
  #leaf(index: number, alloc: boolean): Leaf | undefined {
    const L = this.levelEntries;
    const base = index - (index % L);
    if (base === this.#cacheBase) return this.#cacheLeaf;
    let node = this.#top!;
    for (let k = this.levels - 1; k >= 1; k--) {
      const dir = node as Directory;
      const slot = Math.floor(index / this.#span[k]!) % L;
      let child = dir[slot];
      if (child === undefined) {
        if (!alloc) return undefined;
        child = k === 1 ? new Uint32Array(2 * L) : [];
        dir[slot] = child;
        this.#pages++;
      }
      node = child;
    }
    this.#cacheBase = base;
    this.#cacheLeaf = node as Leaf;
    return node as Leaf;
  }

  /** Visits the allocated leaf segments of [from, to): fn(leaf, leafBaseIndex, offset, count). */
  #walk(from: number, to: number, fn: (leaf: Leaf, base: number, o: number, n: number) => void): void {
    const L = this.levelEntries;
    let i = from;
    outer: while (i < to) {
      let node = this.#top!;
      for (let k = this.levels - 1; k >= 1; k--) {
        const span = this.#span[k]!;
        const child = (node as Directory)[Math.floor(i / span) % L];
        if (child === undefined) {
          i = (Math.floor(i / span) + 1) * span;
          continue outer;
        }
        node = child;
      }
      const o = i % L;
      const n = Math.min(to - i, L - o);
      fn(node as Leaf, i - o, o, n);
      i += n;
    }
  }
}

function allZero(bytes: Uint8Array): boolean {
  for (let k = 0; k < bytes.length; k++) if (bytes[k] !== 0) return false;
  return true;
}

function visit(leaf: Leaf, base: number, o: number, n: number, cb: TceVisitor): void {
  for (let k = o; k < o + n; k++) {
    const lo = leaf[2 * k]!;
    const hi = leaf[2 * k + 1]!;
    if (lo !== 0 || hi !== 0) cb(base + k, lo, hi);
  }
}
