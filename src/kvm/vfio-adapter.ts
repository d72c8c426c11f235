/**
 * The KVM ports (hw-port.ts) on the real VFIO objects: a group file as KVM's VFIO device holds it,
 * and a window of the group's sPAPR container as a link writes it.
 *
 * A link's hardware writes keep the container's preregistered-memory counts exactly as the
 * container's own MAP/UNMAP do (each hardware TCE pointing into a region counts on the holds the
 * container maps through, SpaprTceBackend.preregHolds: its own holds and their regions, or under
 * the `linux` profile the regions of the whole mm), so UNREGISTER_MEMORY and window removal see
 * KVM's entries like any other.
 */
import type { TceTable } from '../hw/tce-table.js';
import type { Container } from '../vfio/container.js';
import type { VfioDevice } from '../vfio/device.js';
import type { Group, GroupFile } from '../vfio/group.js';
import { holdAt, type PreregHold, type PreregRegion } from '../vfio/prereg.js';
import type { SpaprTceBackend } from '../vfio/spapr-tce.js';
import type { HwTarget, LinkableGroup } from './hw-port.js';

const TWO32 = 4294967296;
/** Staging for the entries a write replaces (grown to the largest write seen; writes never nest). */
let oldWords = new Uint32Array(8192 * 2);
let oldBytes = new Uint8Array(oldWords.buffer);
/** The high word of an empty cached range: addresses that high are beyond 2^52. */
const EMPTY_HI = 0xffff_ffff;
/** Range refills write (first, span) here: see cacheRange. */
const range = new Uint32Array(2);

/**
 * The low words `lo` of TCEs (`ua | perms`) under high word `hi` whose `ua` lies in [start, last]
 * (multiples of 4, containing the TCE that asked): `(lo - first) >>> 0 <= span`, as (first, span)
 * in `range`. Lets the accounting loop test "same hold as before" with integer compares only.
 */
function cacheRange(start: number, last: number, hi: number): void {
  const base = hi * TWO32;
  const first = Math.max(start, base) - base;
  range[0] = first;
  range[1] = Math.min(last, base + TWO32 - 4) - base + 3 - first;
}

/** The first `n` words of `a` and `b` are equal. */
function sameWords(a: Uint32Array, b: Uint32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Moves `n` references onto (or, negative, off) a hold and its region. */
function settle(hold: PreregHold | undefined, n: number): void {
  if (hold === undefined || n === 0) return;
  hold.countMapped(n);
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
  /** Hold of the last reference dropped, valid during one clear() only. */
  #lastDrop: PreregHold | undefined;

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

  /**
   * The hold whose region contains [ua, ua + len) and can back pages of this window's size. Looked
   * up afresh (no cache across calls: the container's holds change between calls).
   */
  #hold(ua: number, len: number): PreregHold | undefined {
    const l = holdAt(this.#backend.preregHolds, ua);
    return l !== undefined && ua + len <= l.region.end && l.region.pageShift >= this.pageShift ? l : undefined;
  }

  preregisteredSpan(ua: number, len: number): PreregRegion | undefined {
    return this.#hold(ua, len)?.region;
  }

  /** Drops the reference of a hardware TCE being cleared. */
  readonly #drop = (_index: number, lo: number, hi: number): void => {
    const ua = hi * TWO32 + (lo - (lo & 3));
    let l = this.#lastDrop;
    if (l === undefined || ua < l.region.start || ua >= l.region.end) {
      l = holdAt(this.#backend.preregHolds, ua);
      if (l === undefined) return;
      this.#lastDrop = l;
    }
    l.countMapped(-1);
  };

  /**
   * Reads the entries being replaced in bulk, checks and counts in one pass (accountWrite), then
   * copies the accepted new entries in with one bulk write.
   */
  write(index: number, tces: Uint32Array, count: number): number {
    if (oldWords.length < count * 2) {
      oldWords = new Uint32Array(count * 2);
      oldBytes = new Uint8Array(oldWords.buffer);
    }
    const table = this.#table;
    table.readLE(index, count, oldBytes, 0);
    // Rewriting the values already there (a guest re-mapping the same pages) moves no reference
    // and stores nothing. (The callers' pass 1 has checked every new entry's memory.)
    if (sameWords(tces, oldWords, 2 * count)) return count;
    const ok = this.#accountWrite(tces, oldWords, count);
    if (ok > 0) table.writeLE(index, new Uint8Array(tces.buffer, tces.byteOffset, ok * 8), 0, ok);
    return ok;
  }

  /**
   * One pass over new entries `tces` and the entries `old` they replace, up to the first new
   * entry whose page is not preregistered (returned: how many are accepted): each accepted non-zero
   * new entry takes a reference on its hold, each replaced non-zero entry drops one on its own
   * (none if it points outside held memory). An entry rewritten with the value it holds keeps its
   * reference. The references are counted per run of entries in one hold and settled at the end,
   * and the holds are recognised by cached word ranges, so the common entry costs integer compares.
   */
  #accountWrite(tces: Uint32Array, old: Uint32Array, count: number): number {
    const links = this.#backend.preregHolds;
    const pageSize = this.#pageSize;
    let add: PreregHold | undefined;
    let adds = 0;
    let aHi = EMPTY_HI;
    let aFirst = 0;
    let aSpan = 0;
    let drop: PreregHold | undefined;
    let drops = 0;
    let dHi = EMPTY_HI;
    let dFirst = 0;
    let dSpan = 0;
    let n = count;
    for (let w = 0; w < 2 * count; w += 2) {
      const lo = tces[w]!;
      const hi = tces[w + 1]!;
      const oLo = old[w]!;
      const oHi = old[w + 1]!;
      if (lo !== 0 || hi !== 0) {
        if (hi !== aHi || ((lo - aFirst) >>> 0) > aSpan) {
          const h = this.#hold(hi * TWO32 + (lo - (lo & 3)), pageSize);
          if (h === undefined) {
            n = w / 2;
            break;
          }
          if (h !== add) {
            settle(add, adds);
            add = h;
            adds = 0;
          }
          cacheRange(h.region.start, h.region.end - pageSize, hi);
          aHi = hi;
          aFirst = range[0]!;
          aSpan = range[1]!;
        }
        if (lo === oLo && hi === oHi) continue; // same value: the reference stays
        adds++;
      }
      if (oLo !== 0 || oHi !== 0) {
        if (oHi !== dHi || ((oLo - dFirst) >>> 0) > dSpan) {
          const h = holdAt(links, oHi * TWO32 + (oLo - (oLo & 3)));
          if (h === undefined) continue; // not in held memory: no reference to drop
          if (h !== drop) {
            settle(drop, -drops);
            drop = h;
            drops = 0;
          }
          cacheRange(h.region.start, h.region.end - 4, oHi);
          dHi = oHi;
          dFirst = range[0]!;
          dSpan = range[1]!;
        }
        drops++;
      }
    }
    settle(add, adds);
    settle(drop, -drops);
    return n;
  }

  clear(index: number, count: number): void {
    this.#lastDrop = undefined;
    this.#table.clear(index, count, this.#drop);
    this.#lastDrop = undefined;
  }
}

/** A group file as KVM's VFIO device holds it: identity is the file itself. */
class GroupFileLink implements LinkableGroup {
  readonly identity: GroupFile;
  readonly isGroup = true;

  constructor(file: GroupFile) {
    this.identity = file;
  }

  retain(): () => void {
    return holdOnce(this.identity);
  }

  windows(): readonly HwTarget[] {
    const group = this.identity.group;
    const container = group.container;
    const backend = container?.backend;
    if (container === undefined || backend === undefined) return [];
    return backend.windows.map((w) => new WindowTarget(group, container, backend, w.table));
  }
}

/** Takes a reference on the group file; the returned release drops it once, however often called. */
function holdOnce(file: GroupFile): () => void {
  const held = file.get();
  let holding = true;
  return () => {
    if (holding) {
      holding = false;
      held.put();
    }
  };
}

export function linkableGroup(file: GroupFile): LinkableGroup {
  return new GroupFileLink(file);
}

/**
 * A VFIO device file as KVM's VFIO device holds it (K13: kvm_vfio_file_add takes any VFIO file).
 * Its reference keeps the device's group file open; it has no windows of its own to link.
 */
class DeviceFileLink implements LinkableGroup {
  readonly identity: VfioDevice;
  readonly isGroup = false;

  constructor(device: VfioDevice) {
    this.identity = device;
  }

  retain(): () => void {
    return holdOnce(this.identity.file);
  }

  windows(): readonly HwTarget[] {
    return [];
  }
}

export function linkableDevice(device: VfioDevice): LinkableGroup {
  return new DeviceFileLink(device);
}
