/**
 * Host firmware's resource assignment: every BAR of a PHB's functions gets a naturally aligned bus
 * address in the PHB's 32-bit MMIO window (largest first), I/O BARs an address from 0x1000.
 */
import type { PciFunction } from './function.js';

export function assignBars(functions: readonly PciFunction[], mmio: { start: bigint; size: bigint }): void {
  const wanted: { fn: PciFunction; index: number; size: bigint; io: boolean }[] = [];
  for (const fn of functions) {
    for (const b of fn.bars) if (b !== undefined) wanted.push({ fn, index: b.index, size: b.size, io: b.kind === 'io' });
  }
  wanted.sort((a, b) => (a.size === b.size ? 0 : a.size > b.size ? -1 : 1));
  let mem = mmio.start;
  let io = 0x1000n;
  const end = mmio.start + mmio.size;
  const byFn = new Map<PciFunction, Map<number, bigint>>();
  for (const w of wanted) {
    let addr: bigint;
    if (w.io) {
      addr = (io + w.size - 1n) & ~(w.size - 1n);
      io = addr + w.size;
    } else {
      addr = (mem + w.size - 1n) & ~(w.size - 1n);
      if (addr + w.size > end) continue; // does not fit: left unassigned (0), as firmware would
      mem = addr + w.size;
    }
    let m = byFn.get(w.fn);
    if (m === undefined) byFn.set(w.fn, (m = new Map()));
    m.set(w.index, addr);
  }
  for (const fn of functions) fn.assign(byFn.get(fn) ?? new Map());
}
