/**
 * One container's hold on preregistered regions, and the count of this container's hardware TCEs
 * pointing into each. Under the `strict` profile a v2 container maps only memory it holds itself,
 * so a region it still maps cannot be let go (UNREGISTER → EBUSY) and its TCE references are all
 * undone by its own clears. Under `linux` lookups span the whole mm (see SpaprTceBackend).
 */
import { holdAt, type PreregHold, type PreregRegion } from './prereg.js';

export { type PreregSegment } from './prereg.js';

export class PreregLink implements PreregHold {
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

  /** This container's hold of `region`, if it holds it. */
  linkOf(region: PreregRegion): PreregLink | undefined {
    return this.#links.find((l) => l.region === region);
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
    const l = holdAt(this.#links, addr);
    if (l !== undefined) this.#last = l;
    return l;
  }
}
