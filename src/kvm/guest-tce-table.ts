/**
 * The guest-view TCE table of one LIOBN (KVM_CREATE_SPAPR_TCE_64): what the guest's H_PUT_TCE
 * family writes and H_GET_TCE reads, what the table fd's mmap shows, and the links to hardware
 * tables of VFIO groups.
 *
 * Storage is as in KVM: host pages of PAGE_SIZE/8 entries (the leaves), each allocated zero-filled
 * on the first non-zero store (or first touch by TCE_TABLE_WRITE); a page never written reads as
 * zeros, and storing zeros (H_STUFF_TCE of a clear value, a batch of cleared entries) into it
 * materialises nothing. Unlike KVM's flat array of page pointers (8 bytes per page at creation:
 * 8 MiB for a 1 TiB window of 4 KiB pages), the pages sit in a sparse directory keyed by page
 * number, so creating a table costs a constant and a used one costs its touched leaves plus a
 * few dozen bytes each. Entries are host-native u64, kept as u32 pairs (low word first), and
 * copied in and out as little-endian bytes: vphb's KVM model runs on little-endian hosts only
 * (checked at load). Indexes are relative to the window start (`offset`), as numbers: they may
 * reach 2^32 and beyond (a table of more than 2^32 entries), so pages are found by division,
 * never by 32-bit shifts.
 */
import { CLOSE_RANK, type KernelFile } from '../vfio/kernel-file.js';
import { fail } from '../wire/errno.js';
import type { HwTarget, LinkableGroup } from './hw-port.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('vphb KVM TCE tables need a little-endian host');
}

/** Bytes of the table descriptor ahead of its page-pointer array (for accounting). */
export const TABLE_HEADER_BYTES = 128;
/** Largest page-pointer array vphb allocates (as kzalloc fails beyond its limit: ENOMEM). */
export const MAX_TABLE_PAGES = 1 << 22;

export interface TableGeometry {
  liobn: bigint;
  pageShift: number;
  /** Bus start of the window, in IOMMU pages. */
  offset: bigint;
  /** Entries (IOMMU pages) in the window. */
  size: bigint;
}

/** Host pages a table of `size` entries locks: the entry pages plus its descriptor. */
export function tablePages(size: bigint, hostPageShift: number): { tcePages: bigint; total: bigint } {
  const pageSize = 1n << BigInt(hostPageShift);
  const tcePages = (size * 8n + pageSize - 1n) / pageSize;
  const descriptor = (BigInt(TABLE_HEADER_BYTES) + tcePages * 8n + pageSize - 1n) / pageSize;
  return { tcePages, total: tcePages + descriptor };
}

interface Link {
  readonly group: LinkableGroup;
  readonly target: HwTarget;
}

/** Owner callbacks: the VM forgets the LIOBN and refunds the memory when the fd closes. */
export interface TableOwner {
  tableClosed(table: GuestTceTable): void;
}

export class GuestTceTable implements KernelFile {
  readonly closeRank = CLOSE_RANK.kvmTceTable;
  readonly liobn: bigint;
  readonly pageShift: number;
  readonly offset: bigint;
  readonly size: bigint;
  /** Entries as a number (the table is small enough for that: MAX_TABLE_PAGES). */
  readonly entries: number;
  /** Host pages charged to the VM's locked memory. */
  readonly accountedPages: number;
  /** Entries per host page (a power of two). */
  readonly #perPage: number;
  /** The sparse directory: page number → leaf. */
  readonly #leaves = new Map<number, Leaf>();
  #links: Link[] = [];
  /** Distinct current hardware targets, rebuilt when links change. */
  #targets: HwTarget[] = [];
  #owner: TableOwner | undefined;

  constructor(geometry: TableGeometry, hostPageShift: number, owner: TableOwner) {
    this.liobn = geometry.liobn;
    this.pageShift = geometry.pageShift;
    this.offset = geometry.offset;
    this.size = geometry.size;
    const { tcePages, total } = tablePages(geometry.size, hostPageShift);
    if (tcePages > BigInt(MAX_TABLE_PAGES)) throw fail('ENOMEM', `table of ${geometry.size} entries too large`);
    this.entries = Number(geometry.size);
    this.accountedPages = Number(total);
    this.#perPage = 2 ** (hostPageShift - 3);
    this.#owner = owner;
  }

  get closed(): boolean {
    return this.#owner === undefined;
  }

  /** Host pages of entries materialised so far. */
  get allocatedPages(): number {
    return this.#leaves.size;
  }

  /** Entries per host page. */
  get entriesPerPage(): number {
    return this.#perPage;
  }

  /** Bus start of the window in bytes. */
  get busStart(): bigint {
    return this.offset << BigInt(this.pageShift);
  }

  /** Window size in bytes. */
  get windowSize(): bigint {
    return this.size << BigInt(this.pageShift);
  }

  // ---- entries -------------------------------------------------------------------------------

  /** The leaf of page `p`, allocated (zero-filled) if missing. */
  #page(p: number): Leaf {
    let leaf = this.#leaves.get(p);
    if (leaf === undefined) {
      const words = new Uint32Array(this.#perPage * 2);
      leaf = { words, bytes: new Uint8Array(words.buffer) };
      this.#leaves.set(p, leaf);
    }
    return leaf;
  }

  /** Page number of entry `index` (exact division: `#perPage` is a power of two). */
  #pageOf(index: number): number {
    return Math.floor(index / this.#perPage);
  }

  /** Leaf (or undefined) and word offset of entry `index`, in `at` (no allocation per entry). */
  #find(index: number): Uint32Array | undefined {
    const p = this.#pageOf(index);
    at.w = (index - p * this.#perPage) * 2;
    return this.#leaves.get(p)?.words;
  }

  getLo(index: number): number {
    const words = this.#find(index);
    return words === undefined ? 0 : words[at.w]!;
  }

  getHi(index: number): number {
    const words = this.#find(index);
    return words === undefined ? 0 : words[at.w + 1]!;
  }

  get(index: number): bigint {
    return (BigInt(this.getHi(index)) << 32n) | BigInt(this.getLo(index));
  }

  /** Stores one entry; storing zero into a page never written allocates nothing. */
  put(index: number, lo: number, hi: number): void {
    let words = this.#find(index);
    if (words === undefined) {
      if (lo === 0 && hi === 0) return;
      words = this.#page(this.#pageOf(index)).words;
    }
    words[at.w] = lo;
    words[at.w + 1] = hi;
  }

  set(index: number, tce: bigint): void {
    this.put(index, Number(tce & 0xffff_ffffn), Number((tce >> 32n) & 0xffff_ffffn));
  }

  /**
   * Calls `fn(p, from, n, srcEntry)` for each host page share of entries [index, index + count):
   * page number, first entry within the page, entries, and the share's first entry relative to
   * `index`.
   */
  #pages(index: number, count: number, fn: (p: number, from: number, n: number, rel: number) => void): void {
    const perPage = this.#perPage;
    let p = this.#pageOf(index);
    let from = index - p * perPage;
    for (let rel = 0; rel < count; p++) {
      const n = Math.min(count - rel, perPage - from);
      fn(p, from, n, rel);
      rel += n;
      from = 0;
    }
  }

  /** Stores one value into `count` entries from `index` (H_STUFF_TCE); zeros skip absent pages. */
  fill(index: number, count: number, lo: number, hi: number): void {
    const zero = lo === 0 && hi === 0;
    if (zero && this.#leaves.size === 0) return;
    this.#pages(index, count, (p, from, n) => {
      const leaf = zero ? this.#leaves.get(p) : this.#page(p);
      if (leaf === undefined) return;
      const w = from * 2;
      if (lo === hi) leaf.words.fill(lo, w, w + 2 * n);
      else for (let k = w; k < w + 2 * n; k += 2) { leaf.words[k] = lo; leaf.words[k + 1] = hi; }
    });
  }

  /**
   * Copies `count` little-endian u64 entries from `src` at byte `srcOffset` into the table from
   * `index`, one `Uint8Array.set` per host page; all-zero runs into pages never written are skipped.
   */
  writeLE(index: number, src: Uint8Array, srcOffset: number, count: number): void {
    this.#pages(index, count, (p, from, n, rel) => {
      const seg = src.subarray(srcOffset + rel * 8, srcOffset + (rel + n) * 8);
      const leaf = this.#leaves.get(p) ?? (allZero(seg) ? undefined : this.#page(p));
      leaf?.bytes.set(seg, from * 8);
    });
  }

  /** Copies `count` entries from `index` into `dst` at byte `dstOffset` as little-endian u64. */
  readLE(index: number, count: number, dst: Uint8Array, dstOffset: number): void {
    this.#pages(index, count, (p, from, n, rel) => {
      const leaf = this.#leaves.get(p);
      const to = dstOffset + rel * 8;
      if (leaf === undefined) dst.fill(0, to, to + n * 8);
      else dst.set(leaf.bytes.subarray(from * 8, (from + n) * 8), to);
    });
  }

  /**
   * The leaf words of page `p` if it exists (for fused passes that compare before storing), and
   * the page geometry. @internal tce-batch.ts
   */
  leafWords(p: number): Uint32Array | undefined {
    return this.#leaves.get(p)?.words;
  }

  /** The leaf words of page `p`, allocated if missing. @internal tce-batch.ts */
  leafWordsForWrite(p: number): Uint32Array {
    return this.#page(p).words;
  }

  // ---- links to hardware tables ----------------------------------------------------------------

  /** Links `group` through `target`; linking the same group to the same window again is a no-op. */
  link(group: LinkableGroup, target: HwTarget): void {
    if (this.#links.some((l) => l.group.identity === group.identity && l.target.identity === target.identity)) return;
    this.#links.push({ group, target });
    this.#rebuild();
  }

  /** Drops every link of the group file `identity`. */
  unlinkGroup(identity: object): void {
    const before = this.#links.length;
    this.#links = this.#links.filter((l) => l.group.identity !== identity);
    if (this.#links.length !== before) this.#rebuild();
  }

  get linkCount(): number {
    return this.#links.length;
  }

  /**
   * The distinct hardware tables hcalls on this LIOBN must also write. Links whose window is gone
   * (removed, replaced, group detached) are dropped here, before anything could touch them.
   */
  targets(): readonly HwTarget[] {
    const links = this.#links;
    for (let i = 0; i < links.length; i++) {
      if (!links[i]!.target.isCurrent()) {
        this.#links = links.filter((l) => l.target.isCurrent());
        this.#rebuild();
        break;
      }
    }
    return this.#targets;
  }

  #rebuild(): void {
    const seen = new Set<object>();
    this.#targets = [];
    for (const l of this.#links) {
      if (seen.has(l.target.identity)) continue;
      seen.add(l.target.identity);
      this.#targets.push(l.target);
    }
  }

  // ---- lifetime --------------------------------------------------------------------------------

  /** close(2) of the table fd: the LIOBN goes away, links drop, memory is refunded. */
  close(): void {
    const owner = this.#owner;
    if (owner === undefined) return;
    this.#owner = undefined;
    this.#links = [];
    this.#targets = [];
    this.#leaves.clear();
    owner.tableClosed(this);
  }
}

interface Leaf {
  readonly words: Uint32Array;
  readonly bytes: Uint8Array;
}

/** Out-parameter of GuestTceTable#find (one per module: the model is single-threaded). */
const at = { w: 0 };

function allZero(bytes: Uint8Array): boolean {
  if ((bytes.byteOffset & 3) === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
