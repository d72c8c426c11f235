/**
 * The KVM ports (hw-port.ts) on the real VFIO objects: a group file as KVM's VFIO device holds it,
 * and a window of the group's sPAPR container as a link writes it.
 *
 * A link's hardware writes keep the container's preregistered-memory counts exactly as the
 * container's own MAP/UNMAP do (each hardware TCE pointing into a region counts once on the
 * container's hold of the region and once on the region), so UNREGISTER_MEMORY and window removal
 * see KVM's entries like any other.
 */
import type { TceTable } from '../hw/tce-table.js';
import type { Container } from '../vfio/container.js';
import type { Group, GroupFile } from '../vfio/group.js';
import type { PreregLink } from '../vfio/prereg-links.js';
import type { PreregRegion } from '../vfio/prereg.js';
import type { SpaprTceBackend } from '../vfio/spapr-tce.js';
import type { HwTarget, LinkableGroup } from './hw-port.js';

const TWO32 = 4294967296;
/** Staging for the entries a write replaces (grown on demand, shared: writes never nest). */
let oldWords = new Uint32Array(8192 * 2);

/** The container's hold on the region containing user address `ua`, by binary search. */
function holdAt(links: readonly PreregLink[], ua: number): PreregLink | undefined {
  let lo = 0;
  let hi = links.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const l = links[mid]!;
    if (ua < l.region.start) hi = mid - 1;
    else if (ua >= l.region.end) lo = mid + 1;
    else return l;
  }
  return undefined;
}

/** One window of a group's container, seen through that group's link. */
class WindowTarget implements HwTarget {
  readonly identity: TceTable;
  readonly pageShift: number;
  readonly busStart: bigint;
  readonly size: bigint;
  readonly #group: Group;
  readonly #container: Container;
  readonly #backend: SpaprTceBackend;
  readonly #table: TceTable;
  readonly #pageSize: number;
  #last: PreregLink | undefined;
  #lastDrop: PreregLink | undefined;

  constructor(group: Group, container: Container, backend: SpaprTceBackend, table: TceTable) {
    this.identity = table;
    this.pageShift = table.pageShift;
    this.busStart = table.busStart;
    this.size = table.windowSize;
    this.#group = group;
    this.#container = container;
    this.#backend = backend;
    this.#table = table;
    this.#pageSize = 2 ** table.pageShift;
  }

  isCurrent(): boolean {
    // A removed window's table is freed; a replaced one is a new table object.
    return !this.#table.freed && this.#group.container === this.#container && this.#container.backend === this.#backend;
  }

  /** The hold whose region contains [ua, ua + len) and can back pages of this window's size. */
  #hold(ua: number, len: number): PreregLink | undefined {
    let l = this.#last;
    if (l === undefined || ua < l.region.start || ua >= l.region.end) {
      l = holdAt(this.#backend.preregistered, ua);
      if (l === undefined) return undefined;
      this.#last = l;
    }
    return ua + len <= l.region.end && l.region.pageShift >= this.pageShift ? l : undefined;
  }

  preregisteredSpan(ua: number, len: number): PreregRegion | undefined {
    return this.#hold(ua, len)?.region;
  }

  /** Drops the reference of a hardware TCE being cleared. */
  readonly #drop = (_index: number, lo: number, hi: number): void => {
    const l = this.#holdOf(hi * TWO32 + (lo - (lo & 3)));
    if (l !== undefined) {
      l.mapped--;
      l.region.mapped--;
    }
  };

  /** The container's hold containing `ua` (no size check), cached. */
  #holdOf(ua: number): PreregLink | undefined {
    let l = this.#lastDrop;
    if (l === undefined || ua < l.region.start || ua >= l.region.end) {
      l = holdAt(this.#backend.preregistered, ua);
      if (l !== undefined) this.#lastDrop = l;
    }
    return l;
  }

  /**
   * Checks the new entries' pages (stopping at the first one not preregistered) and counts their
   * references, reads the entries being replaced in bulk and drops theirs, then copies the new
   * entries in with one bulk write.
   */
  write(index: number, tces: Uint32Array, count: number): number {
    const ok = this.#countNew(tces, count);
    if (ok === 0) return 0;
    if (oldWords.length < ok * 2) oldWords = new Uint32Array(ok * 2);
    const table = this.#table;
    table.readLE(index, ok, new Uint8Array(oldWords.buffer, 0, ok * 8), 0);
    let hold: PreregLink | undefined;
    let pending = 0;
    for (let w = 0; w < ok * 2; w += 2) {
      const lo = oldWords[w]!;
      const hi = oldWords[w + 1]!;
      if (lo === 0 && hi === 0) continue;
      const h = this.#holdOf(hi * TWO32 + (lo - (lo & 3)));
      if (h === undefined) continue;
      if (h !== hold) {
        if (hold !== undefined) {
          hold.mapped -= pending;
          hold.region.mapped -= pending;
        }
        hold = h;
        pending = 0;
      }
      pending++;
    }
    if (hold !== undefined) {
      hold.mapped -= pending;
      hold.region.mapped -= pending;
    }
    table.writeLE(index, new Uint8Array(tces.buffer, tces.byteOffset, ok * 8), 0, ok);
    return ok;
  }

  /** Counts the references of entries [0, n) of `tces` up to the first page not preregistered; returns n. */
  #countNew(tces: Uint32Array, count: number): number {
    let hold: PreregLink | undefined;
    let pending = 0;
    let n = count;
    for (let k = 0; k < count; k++) {
      const lo = tces[2 * k]!;
      const hi = tces[2 * k + 1]!;
      if (lo === 0 && hi === 0) continue;
      const ua = hi * TWO32 + (lo - (lo & 3));
      let h = hold;
      if (h === undefined || ua < h.region.start || ua + this.#pageSize > h.region.end) {
        h = this.#hold(ua, this.#pageSize);
        if (h === undefined) {
          n = k;
          break;
        }
      }
      if (h !== hold) {
        if (hold !== undefined) {
          hold.mapped += pending;
          hold.region.mapped += pending;
        }
        hold = h;
        pending = 0;
      }
      pending++;
    }
    if (hold !== undefined) {
      hold.mapped += pending;
      hold.region.mapped += pending;
    }
    return n;
  }

  clear(index: number, count: number): void {
    this.#table.clear(index, count, this.#drop);
  }
}

/** A group file as KVM's VFIO device holds it: identity is the file itself. */
class GroupFileLink implements LinkableGroup {
  readonly identity: GroupFile;

  constructor(file: GroupFile) {
    this.identity = file;
  }

  retain(): () => void {
    const file = this.identity.get();
    let held = true;
    return () => {
      if (held) {
        held = false;
        file.put();
      }
    };
  }

  windows(): readonly HwTarget[] {
    const group = this.identity.group;
    const container = group.container;
    const backend = container?.backend;
    if (container === undefined || backend === undefined) return [];
    return backend.windows.map((w) => new WindowTarget(group, container, backend, w.table));
  }
}

export function linkableGroup(file: GroupFile): LinkableGroup {
  return new GroupFileLink(file);
}
