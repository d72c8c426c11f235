/**
 * The guest-view TCE table of one LIOBN (KVM_CREATE_SPAPR_TCE_64): what the guest's H_PUT_TCE
 * family writes and H_GET_TCE reads, what the table fd's mmap shows, and the links to hardware
 * tables of VFIO groups.
 *
 * Storage is as in KVM: flat host pages of PAGE_SIZE/8 entries, each allocated zero-filled on the
 * first non-zero store (or first touch by TCE_TABLE_WRITE); a page that was never written reads as
 * zeros. Entries are host-native u64, kept as u32 pairs (low word first) in a Uint32Array per
 * page, and copied in and out as little-endian bytes: vphb's KVM model runs on little-endian hosts
 * only (checked at load). Indexes are relative to the window start (`offset`), as numbers.
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
  /** log2(entries per host page). */
  readonly #entryShift: number;
  readonly #entryMask: number;
  readonly #words: (Uint32Array | undefined)[];
  readonly #bytes: (Uint8Array | undefined)[];
  #allocated = 0;
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
    this.#entryShift = hostPageShift - 3;
    this.#entryMask = (1 << this.#entryShift) - 1;
    this.#words = new Array<Uint32Array | undefined>(Number(tcePages)).fill(undefined);
    this.#bytes = new Array<Uint8Array | undefined>(Number(tcePages)).fill(undefined);
    this.#owner = owner;
  }

  get closed(): boolean {
    return this.#owner === undefined;
  }

  /** Host pages of entries materialised so far. */
  get allocatedPages(): number {
    return this.#allocated;
  }

  /** Entries per host page. */
  get entriesPerPage(): number {
    return this.#entryMask + 1;
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

  #page(p: number): Uint32Array {
    let words = this.#words[p];
    if (words === undefined) {
      words = new Uint32Array((this.#entryMask + 1) * 2);
      this.#words[p] = words;
      this.#bytes[p] = new Uint8Array(words.buffer);
      this.#allocated++;
    }
    return words;
  }

  getLo(index: number): number {
    const words = this.#words[index >>> this.#entryShift];
    return words === undefined ? 0 : words[(index & this.#entryMask) * 2]!;
  }

  getHi(index: number): number {
    const words = this.#words[index >>> this.#entryShift];
    return words === undefined ? 0 : words[(index & this.#entryMask) * 2 + 1]!;
  }

  get(index: number): bigint {
    return (BigInt(this.getHi(index)) << 32n) | BigInt(this.getLo(index));
  }

  /** Stores one entry; storing zero into a page never written allocates nothing. */
  put(index: number, lo: number, hi: number): void {
    const p = index >>> this.#entryShift;
    let words = this.#words[p];
    if (words === undefined) {
      if (lo === 0 && hi === 0) return;
      words = this.#page(p);
    }
    const w = (index & this.#entryMask) * 2;
    words[w] = lo;
    words[w + 1] = hi;
  }

  set(index: number, tce: bigint): void {
    this.put(index, Number(tce & 0xffff_ffffn), Number((tce >> 32n) & 0xffff_ffffn));
  }

  /** Stores one value into `count` entries from `index` (H_STUFF_TCE). */
  fill(index: number, count: number, lo: number, hi: number): void {
    const end = index + count;
    while (index < end) {
      const p = index >>> this.#entryShift;
      const n = Math.min(end - index, this.#entryMask + 1 - (index & this.#entryMask));
      let words = this.#words[p];
      if (words === undefined && (lo !== 0 || hi !== 0)) words = this.#page(p);
      if (words !== undefined) {
        const w = (index & this.#entryMask) * 2;
        if (lo === hi) words.fill(lo, w, w + 2 * n);
        else for (let k = w; k < w + 2 * n; k += 2) { words[k] = lo; words[k + 1] = hi; }
      }
      index += n;
    }
  }

  /**
   * Copies `count` little-endian u64 entries from `src` at byte `srcOffset` into the table from
   * `index`, one `Uint8Array.set` per host page; all-zero runs into pages never written are skipped.
   */
  writeLE(index: number, src: Uint8Array, srcOffset: number, count: number): void {
    const end = index + count;
    while (index < end) {
      const p = index >>> this.#entryShift;
      const n = Math.min(end - index, this.#entryMask + 1 - (index & this.#entryMask));
      const seg = src.subarray(srcOffset, srcOffset + n * 8);
      if (this.#bytes[p] !== undefined || !allZero(seg)) {
        this.#page(p);
        this.#bytes[p]!.set(seg, (index & this.#entryMask) * 8);
      }
      index += n;
      srcOffset += n * 8;
    }
  }

  /** Copies `count` entries from `index` into `dst` at byte `dstOffset` as little-endian u64. */
  readLE(index: number, count: number, dst: Uint8Array, dstOffset: number): void {
    const end = index + count;
    while (index < end) {
      const p = index >>> this.#entryShift;
      const n = Math.min(end - index, this.#entryMask + 1 - (index & this.#entryMask));
      const bytes = this.#bytes[p];
      const from = (index & this.#entryMask) * 8;
      if (bytes === undefined) dst.fill(0, dstOffset, dstOffset + n * 8);
      else dst.set(bytes.subarray(from, from + n * 8), dstOffset);
      index += n;
      dstOffset += n * 8;
    }
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
    this.#words.fill(undefined);
    this.#bytes.fill(undefined);
    this.#allocated = 0;
    owner.tableClosed(this);
  }
}

function allZero(bytes: Uint8Array): boolean {
  if ((bytes.byteOffset & 3) === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
