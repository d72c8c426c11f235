/**
 * Test doubles for the KVM model: a locked-memory account, and VFIO-side ports (group, window)
 * backed by a real hardware TceTable, with preregistered ranges and per-range mapping counts.
 */
import { TceTable } from '../../src/hw/tce-table.js';
import type { HwTarget, LinkableGroup } from '../../src/kvm/hw-port.js';
import type { GuestTceTable } from '../../src/kvm/guest-tce-table.js';
import type { KvmVfioDevice } from '../../src/kvm/vfio-device.js';
import type { LockedMemory, Vm } from '../../src/kvm/vm.js';
import { fail } from '../../src/wire/errno.js';

export class FakeMm implements LockedMemory {
  locked = 0;
  limit: number;
  constructor(limit = Infinity) {
    this.limit = limit;
  }
  charge(pages: number, what: string): void {
    if (this.locked + pages > this.limit) throw fail('ENOMEM', `memlock: ${what}`);
    this.locked += pages;
  }
  uncharge(pages: number): void {
    this.locked -= pages;
    if (this.locked < 0) throw new Error('uncharged below zero');
  }
}

export interface Range {
  ua: number;
  size: number;
  mapped: number;
}

/** A container's window: a hardware table plus the process's preregistered ranges. */
export class FakeWindow {
  readonly table: TceTable;
  readonly prereg: Range[];
  removed = false;
  constructor(prereg: Range[], pageShift: number, busStart: bigint, windowSize: bigint, levels = 2) {
    this.prereg = prereg;
    this.table = TceTable.create({ pageShift, busStart, windowSize, levels, maxLevels: 5, hostPageShift: 16, maxLevelBytes: 1 << 24 });
  }
  rangeOf(ua: number, len: number): Range | undefined {
    return this.prereg.find((r) => ua >= r.ua && ua + len <= r.ua + r.size);
  }
  /** Unmaps everything (as VFIO does on window removal). */
  remove(): void {
    this.table.clear(0, this.table.entries, (_i, lo, hi) => this.#drop(lo, hi));
    this.removed = true;
  }
  #drop(lo: number, hi: number): void {
    const ua = hi * 2 ** 32 + (lo - (lo & 3));
    const r = this.rangeOf(ua, 1);
    if (r !== undefined) r.mapped--;
  }
  write(index: number, tces: Uint32Array, count: number): number {
    const len = 2 ** this.table.pageShift;
    for (let k = 0; k < count; k++) {
      const lo = tces[2 * k]!;
      const hi = tces[2 * k + 1]!;
      let r: Range | undefined;
      if (lo !== 0 || hi !== 0) {
        r = this.rangeOf(hi * 2 ** 32 + (lo - (lo & 3)), len);
        if (r === undefined) return k;
      }
      const oldLo = this.table.getLo(index + k);
      const oldHi = this.table.getHi(index + k);
      if (oldLo !== 0 || oldHi !== 0) this.#drop(oldLo, oldHi);
      if (r !== undefined) r.mapped++;
      this.table.setParts(index + k, lo, hi);
    }
    return count;
  }
  clear(index: number, count: number): void {
    this.table.clear(index, count, (_i, lo, hi) => this.#drop(lo, hi));
  }
}

/** A group: its container's windows (shared by groups of one container) and a file refcount. */
export class FakeGroup implements LinkableGroup {
  readonly identity = {};
  readonly isGroup = true;
  refs = 1;
  container: { windows: FakeWindow[] } | undefined;
  constructor(container?: { windows: FakeWindow[] }) {
    this.container = container;
  }
  retain(): () => void {
    this.refs++;
    let dropped = false;
    return () => {
      if (!dropped) this.refs--;
      dropped = true;
    };
  }
  windows(): readonly HwTarget[] {
    const c = this.container;
    if (c === undefined) return [];
    return c.windows.filter((w) => !w.removed).map((w) => this.#target(c, w));
  }
  #target(c: { windows: FakeWindow[] }, w: FakeWindow): HwTarget {
    return {
      identity: w,
      pageShift: w.table.pageShift,
      busStart: w.table.busStart,
      size: w.table.windowSize,
      isCurrent: () => !w.removed && this.container === c && c.windows.includes(w),
      preregisteredSpan: (ua, len) => {
        const r = w.rangeOf(ua, len);
        return r === undefined ? undefined : { start: r.ua, end: r.ua + r.size };
      },
      write: (index, tces, count) => w.write(index, tces, count),
      clear: (index, count) => w.clear(index, count),
    };
  }
}

/** TCEs as the little-endian u64 bytes of a batch or an mmap write. */
export function bytesOf(tces: readonly bigint[]): Uint8Array {
  const b = new Uint8Array(tces.length * 8);
  const dv = new DataView(b.buffer);
  tces.forEach((t, i) => dv.setBigUint64(i * 8, t, true));
  return b;
}

/**
 * Links `table` to a fresh fake hardware window (one group in a container, through the VM's KVM
 * VFIO device) as SET_SPAPR_TCE does; returns the window and the group.
 */
export function linkFakeWindow(
  vm: Vm, table: GuestTceTable, prereg: Range[], hwShift: number, busStart: bigint, windowSize: bigint,
): { window: FakeWindow; group: FakeGroup; device: KvmVfioDevice; container: { windows: FakeWindow[] } } {
  const window = new FakeWindow(prereg, hwShift, busStart, windowSize);
  const container = { windows: [window] };
  const group = new FakeGroup(container);
  const device = vm.createDevice(4, 0)!;
  device.addGroup(group);
  device.setSpaprTce(group.identity, table);
  return { window, group, device, container };
}
