/**
 * One container's hold on preregistered regions, and the count of this container's hardware TCEs
 * pointing into each. A v2 container maps only memory it holds itself, so a region it still maps
 * cannot be let go (UNREGISTER → EBUSY) and its TCE references are all undone by its own clears.
 */
import { fail } from '../wire/errno.js';
import type { PreregRegion } from './prereg.js';

export class PreregLink {
  readonly region: PreregRegion;
  #mapped = 0;

  constructor(region: PreregRegion) {
    this.region = region;
  }

  /** This container's TCEs pointing into the region. */
  get mapped(): number {
    return this.#mapped;
  }

  /**
   * Counts `n` more (or, negative, fewer) hardware TCEs pointing into the region, on this hold and
   * on the region alike: the one place where a mapping's reference is taken or dropped, whether
   * VFIO or KVM wrote the TCE.
   */
  countMapped(n: number): void {
    this.#mapped += n;
    this.region.mapped += n;
  }
}

/** A run of IOMMU pages inside one held region. */
export interface PreregSegment {
  link: PreregLink;
  pages: number;
}

export class PreregLinks {
  /** Sorted by address; regions never overlap. */
  readonly #links: PreregLink[] = [];
  #last: PreregLink | undefined;

  get links(): readonly PreregLink[] {
    return this.#links;
  }

  get size(): number {
    return this.#links.length;
  }

  findExact(vaddr: bigint, size: bigint): PreregLink | undefined {
    return this.#links.find((l) => l.region.vaddr === vaddr && l.region.size === size);
  }

  add(region: PreregRegion): PreregLink {
    const link = new PreregLink(region);
    let i = this.#links.findIndex((l) => l.region.start > region.start);
    if (i < 0) i = this.#links.length;
    this.#links.splice(i, 0, link);
    return link;
  }

  remove(link: PreregLink): void {
    const i = this.#links.indexOf(link);
    if (i >= 0) this.#links.splice(i, 1);
    if (this.#last === link) this.#last = undefined;
  }

  /** The held region containing user address `addr`. */
  at(addr: number): PreregLink | undefined {
    const last = this.#last;
    if (last !== undefined && last.region.contains(addr)) return last;
    let lo = 0;
    let hi = this.#links.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const l = this.#links[mid]!;
      if (addr < l.region.start) hi = mid - 1;
      else if (addr >= l.region.end) lo = mid + 1;
      else {
        this.#last = l;
        return l;
      }
    }
    return undefined;
  }

  /**
   * Splits [vaddr, vaddr + pages·2^pageShift) into runs inside held regions. EINVAL when a page is
   * not in held memory or its region cannot back pages that large.
   */
  segments(vaddr: number, pages: number, pageShift: number): PreregSegment[] {
    const pageSize = 2 ** pageShift;
    const end = vaddr + pages * pageSize;
    const out: PreregSegment[] = [];
    let cur = vaddr;
    while (cur < end) {
      const link = this.at(cur);
      if (link === undefined) {
        throw fail('EINVAL', `vaddr 0x${cur.toString(16)} is not in memory preregistered with this container`);
      }
      if (link.region.pageShift < pageShift) {
        throw fail(
          'EINVAL',
          `vaddr 0x${cur.toString(16)}: preregistered region 0x${link.region.vaddr.toString(16)} is backed by 2^${link.region.pageShift} pages, smaller than the 2^${pageShift} IOMMU page`,
        );
      }
      const stop = Math.min(end, link.region.end);
      out.push({ link, pages: (stop - cur) / pageSize });
      cur = stop;
    }
    return out;
  }
}
