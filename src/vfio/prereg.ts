/**
 * Preregistered memory (VFIO sPAPR v2): ranges of a client's address space pinned and accounted
 * once, so that mapping them into TCE tables later costs nothing. The registry is per mm; every
 * container of that mm holding the exact same range shares one region (refcounted, accounted once).
 */
import { fail } from '../wire/errno.js';
import { TASK_SIZE } from './constants.js';
import type { Mm } from './locked-memory.js';

const hex = (v: bigint) => `0x${v.toString(16)}`;

/**
 * Something hardware TCEs can count references on: a container's hold of a region (PreregLink),
 * or, when lookups span the whole mm (the `linux` profile), the region itself.
 */
export interface PreregHold {
  readonly region: PreregRegion;
  countMapped(n: number): void;
}

/** Lowest set bit of v (v > 0), as a shift. */
function lowBit(v: bigint): number {
  return (v & -v).toString(2).length - 1;
}

export class PreregRegion implements PreregHold {
  readonly vaddr: bigint;
  readonly size: bigint;
  /** Same as vaddr/end, as numbers (user addresses are below 2^52). */
  readonly start: number;
  readonly end: number;
  /**
   * Largest IOMMU page the region can back: the natural alignment of vaddr | size, capped by the
   * page size backing the memory (`backingShift`; none given = no cap).
   */
  readonly pageShift: number;
  /** Holders of the region: containers, plus one for a region the kernel left pinned (orphaned). */
  users = 0;
  /** Hardware TCEs pointing into the region (all containers). */
  mapped = 0;

  constructor(vaddr: bigint, size: bigint, backingShift?: number) {
    this.vaddr = vaddr;
    this.size = size;
    this.start = Number(vaddr);
    this.end = Number(vaddr + size);
    const bits = vaddr | size;
    const natural = bits === 0n ? 63 : lowBit(bits);
    this.pageShift = backingShift === undefined ? natural : Math.min(natural, backingShift);
  }

  get region(): PreregRegion {
    return this;
  }

  countMapped(n: number): void {
    this.mapped += n;
  }

  contains(addr: number): boolean {
    return addr >= this.start && addr < this.end;
  }
}

export interface AcquireOptions {
  /** Page size (shift) backing the range; regions cannot back IOMMU pages larger than it. */
  backingShift?: number | undefined;
  /** Size 0 gets past the accounting and fails to allocate (ENOMEM), as the kernel's does. */
  sizeZeroEnomem?: boolean;
}

export class PreregRegistry {
  readonly #mm: Mm;
  /** Sorted by address; regions never overlap. */
  readonly #regions: PreregRegion[] = [];
  #last: PreregRegion | undefined;

  constructor(mm: Mm) {
    this.#mm = mm;
  }

  get regions(): readonly PreregRegion[] {
    return this.#regions;
  }

  /** The region registered with exactly this range, if any. */
  findExact(vaddr: bigint, size: bigint): PreregRegion | undefined {
    return this.#regions.find((r) => r.vaddr === vaddr && r.size === size);
  }

  /** The region containing user address `addr`. */
  at(addr: number): PreregRegion | undefined {
    const last = this.#last;
    if (last !== undefined && last.contains(addr)) return last;
    const r = holdAt(this.#regions, addr);
    if (r !== undefined) this.#last = r;
    return r;
  }

  /**
   * A holder takes the range: the exact existing region gains a user; otherwise a new region is
   * accounted, pinned and checked against the others, in the kernel's order (mm_iommu_do_alloc):
   * ENOMEM locked-memory limit (or, `sizeZeroEnomem`, size 0); EFAULT the range is not user
   * memory (beyond TASK_SIZE); EINVAL overlaps another region without matching it exactly.
   * Nothing remains on failure. Alignment and the caller's own duplicates are the caller's checks.
   */
  acquire(vaddr: bigint, size: bigint, opts: AcquireOptions = {}): PreregRegion {
    const existing = this.findExact(vaddr, size);
    if (existing !== undefined) {
      existing.users++;
      return existing;
    }
    const end = vaddr + size;
    const pages = Number(size >> BigInt(this.#mm.pageShift));
    this.#mm.charge(pages, `preregistering ${hex(size)} bytes at ${hex(vaddr)}`);
    try {
      if (size === 0n && opts.sizeZeroEnomem === true) {
        throw fail('ENOMEM', 'size 0: the page array of an empty region cannot be allocated');
      }
      if (end > TASK_SIZE) {
        throw fail('EFAULT', `vaddr ${hex(vaddr)} size ${hex(size)}: cannot pin memory beyond the user address space (${hex(TASK_SIZE)})`);
      }
      const clash = this.#regions.find((r) => vaddr < r.vaddr + r.size && r.vaddr < end);
      if (clash !== undefined) {
        throw fail(
          'EINVAL',
          `vaddr ${hex(vaddr)} size ${hex(size)} overlaps preregistered ${hex(clash.vaddr)} size ${hex(clash.size)}`,
        );
      }
    } catch (e) {
      this.#mm.uncharge(pages);
      throw e;
    }
    const region = new PreregRegion(vaddr, size, opts.backingShift);
    region.users = 1;
    let i = this.#regions.findIndex((r) => r.start > region.start);
    if (i < 0) i = this.#regions.length;
    this.#regions.splice(i, 0, region);
    return region;
  }

  /**
   * A holder lets go; the last one unpins and unaccounts the region. With `keepIfMapped`, a region
   * hardware TCEs still point into is not freed: it keeps one (orphan) user and stays pinned and
   * accounted, as the kernel's mm_iommu_put leaves it. Returns false when the region stayed for that.
   */
  release(region: PreregRegion, keepIfMapped = false): boolean {
    if (region.users <= 0) return true;
    region.users--;
    if (region.users > 0) return true;
    if (keepIfMapped && region.mapped > 0) {
      region.users = 1;
      return false;
    }
    const i = this.#regions.indexOf(region);
    if (i >= 0) this.#regions.splice(i, 1);
    if (this.#last === region) this.#last = undefined;
    this.#mm.uncharge(Number(region.size >> BigInt(this.#mm.pageShift)));
    return true;
  }
}

/** The hold (sorted by address, non-overlapping) whose region contains `addr`, by binary search. */
export function holdAt<T extends PreregHold>(holds: readonly T[], addr: number): T | undefined {
  let lo = 0;
  let hi = holds.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const h = holds[mid]!;
    if (addr < h.region.start) hi = mid - 1;
    else if (addr >= h.region.end) lo = mid + 1;
    else return h;
  }
  return undefined;
}

/** A run of IOMMU pages inside one held region. */
export interface PreregSegment {
  hold: PreregHold;
  pages: number;
}

/**
 * Splits [vaddr, vaddr + pages·2^pageShift) into runs inside the holds (sorted by address).
 * Stops at the first page not in held memory or in a region that cannot back pages that large:
 * `done` is the number of pages covered and `error` the EINVAL for the page that stopped it.
 */
export function preregSegments(
  holds: readonly PreregHold[],
  vaddr: number,
  pages: number,
  pageShift: number,
): { segments: PreregSegment[]; done: number; error?: Error } {
  const pageSize = 2 ** pageShift;
  const end = vaddr + pages * pageSize;
  const segments: PreregSegment[] = [];
  let cur = vaddr;
  while (cur < end) {
    const hold = holdAt(holds, cur);
    const done = (cur - vaddr) / pageSize;
    if (hold === undefined) {
      return { segments, done, error: fail('EINVAL', `vaddr 0x${cur.toString(16)} is not in preregistered memory`) };
    }
    if (hold.region.pageShift < pageShift || cur + pageSize > hold.region.end) {
      return {
        segments,
        done,
        error: fail(
          'EINVAL',
          `vaddr 0x${cur.toString(16)}: preregistered region 0x${hold.region.vaddr.toString(16)} is backed by 2^${hold.region.pageShift} pages, smaller than the 2^${pageShift} IOMMU page`,
        ),
      };
    }
    const stop = Math.min(end, hold.region.end);
    segments.push({ hold, pages: (stop - cur) / pageSize });
    cur = stop;
  }
  return { segments, done: pages };
}
