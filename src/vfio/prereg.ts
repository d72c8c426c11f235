/**
 * Preregistered memory (VFIO sPAPR v2): ranges of a client's address space pinned and accounted
 * once, so that mapping them into TCE tables later costs nothing. The registry is per mm; every
 * container of that mm holding the exact same range shares one region (refcounted, accounted once).
 */
import { fail } from '../wire/errno.js';
import { TASK_SIZE } from './constants.js';
import type { Mm } from './locked-memory.js';

const hex = (v: bigint) => `0x${v.toString(16)}`;

export class PreregRegion {
  readonly vaddr: bigint;
  readonly size: bigint;
  /** Same as vaddr/end, as numbers (user addresses are below 2^52). */
  readonly start: number;
  readonly end: number;
  /**
   * Largest IOMMU page the region can back: vphb treats memory as backed by pages as large as the
   * region's natural alignment (the lowest set bit of vaddr | size).
   */
  readonly pageShift: number;
  /** Containers holding the region. */
  users = 0;
  /** Hardware TCEs pointing into the region (all containers). */
  mapped = 0;

  constructor(vaddr: bigint, size: bigint) {
    this.vaddr = vaddr;
    this.size = size;
    this.start = Number(vaddr);
    this.end = Number(vaddr + size);
    const bits = vaddr | size;
    this.pageShift = (bits & -bits).toString(2).length - 1;
  }

  contains(addr: number): boolean {
    return addr >= this.start && addr < this.end;
  }
}

export class PreregRegistry {
  readonly #mm: Mm;
  readonly #regions: PreregRegion[] = [];

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

  /**
   * A holder takes the range: the exact existing region gains a user; otherwise a new region is
   * pinned and accounted. EINVAL: overlaps another region without matching it exactly; ENOMEM:
   * locked-memory limit; EFAULT: the range is not user memory (beyond TASK_SIZE).
   * Alignment and the caller's own duplicates are the caller's checks.
   */
  acquire(vaddr: bigint, size: bigint): PreregRegion {
    const existing = this.findExact(vaddr, size);
    if (existing !== undefined) {
      existing.users++;
      return existing;
    }
    const end = vaddr + size;
    const clash = this.#regions.find((r) => vaddr < r.vaddr + r.size && r.vaddr < end);
    if (clash !== undefined) {
      throw fail(
        'EINVAL',
        `vaddr ${hex(vaddr)} size ${hex(size)} overlaps preregistered ${hex(clash.vaddr)} size ${hex(clash.size)}`,
      );
    }
    const pages = Number(size >> BigInt(this.#mm.pageShift));
    this.#mm.charge(pages, `preregistering ${hex(size)} bytes at ${hex(vaddr)}`);
    if (end > TASK_SIZE) {
      this.#mm.uncharge(pages);
      throw fail('EFAULT', `vaddr ${hex(vaddr)} size ${hex(size)}: cannot pin memory beyond the user address space (${hex(TASK_SIZE)})`);
    }
    const region = new PreregRegion(vaddr, size);
    region.users = 1;
    this.#regions.push(region);
    return region;
  }

  /** A holder lets go; the last one unpins and unaccounts the region. */
  release(region: PreregRegion): void {
    if (region.users <= 0) return;
    region.users--;
    if (region.users > 0) return;
    const i = this.#regions.indexOf(region);
    if (i >= 0) this.#regions.splice(i, 1);
    this.#mm.uncharge(Number(region.size >> BigInt(this.#mm.pageShift)));
  }
}
