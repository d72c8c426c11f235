/** PCI functions as hardware: header, BAR sizing, ROM BAR, read-only and W1C bits, partial writes, capability walk. */
import { describe, expect, it } from 'vitest';
import { PciFunction } from '../../../src/hw/pci/function.js';
import { leBytes, leValue } from '../../../src/hw/pci/config-space.js';
import { nvmeFunctionSpec, type PciFunctionSpec } from '../../../src/hw/pci/spec.js';

const rd = (fn: PciFunction, off: number, len: number) => leValue(fn.configRead(off, len));
const wr = (fn: PciFunction, off: number, len: number, v: number) => fn.configWrite(off, leBytes(v, len));

function generic(over: Partial<PciFunctionSpec> = {}): PciFunction {
  return new PciFunction('0000:05:00.0', {
    ...nvmeFunctionSpec(),
    model: 'generic',
    vendorId: 0x10de, deviceId: 0x1234, classCode: 0x030000, pcie: false, flr: false,
    bars: [
      { index: 0, kind: 'mem32', size: 0x1000n, prefetchable: false },
      { index: 1, kind: 'io', size: 0x20n, prefetchable: false },
      { index: 2, kind: 'mem64', size: 0x1_0000_0000n, prefetchable: true },
    ],
    romSize: 0x8000n, pm: { noSoftReset: false }, msi: { vectors: 8, perVectorMask: false }, msix: null,
    ...over,
  });
}

describe('type-0 header', () => {
  it('nvme: ids, class, pin, header type, capability bit, 4 KiB PCIe config space', () => {
    const fn = new PciFunction('0000:01:00.0', nvmeFunctionSpec());
    expect(rd(fn, 0, 4)).toBe(0x0010_1b36);
    expect(rd(fn, 0x08, 4) >>> 8).toBe(0x010802);
    expect(rd(fn, 0x3d, 1)).toBe(1);
    expect(rd(fn, 0x0e, 1)).toBe(0);
    expect(rd(fn, 0x06, 2) & 0x10).toBe(0x10);
    expect(fn.configSize).toBe(4096);
    expect(fn.canReset).toBe(true); // FLR, although PM has NoSoftReset
  });

  it('read-only registers ignore writes; a partial write touches only its bytes', () => {
    const fn = generic();
    wr(fn, 0, 4, 0xffff_ffff);
    expect(rd(fn, 0, 4)).toBe(0x1234_10de);
    wr(fn, 0x3c, 1, 0x2a); // interrupt line: writable
    wr(fn, 0x3d, 1, 0x04); // pin: read-only
    expect(rd(fn, 0x3c, 2)).toBe(0x012a);
    wr(fn, 0x0c, 4, 0xffff_ff10); // cache line, latency writable; header type, BIST not
    expect(rd(fn, 0x0c, 4)).toBe(0x0000_ff10);
    wr(fn, 0x04, 1, 0x06); // low byte of command only
    expect(rd(fn, 0x04, 2)).toBe(0x0006);
    wr(fn, 0x05, 1, 0x04); // INTx disable in the high byte, low byte kept
    expect(rd(fn, 0x04, 2)).toBe(0x0406);
  });

  it('status error bits are write-1-to-clear; others read-only', () => {
    const fn = generic();
    fn.config.set16(0x06, fn.config.get16(0x06) | 0x8000 | 0x2000);
    wr(fn, 0x06, 2, 0x2000 | 0x0010);
    expect(rd(fn, 0x06, 2) & 0xa010).toBe(0x8010); // 0x2000 cleared, CAP_LIST (RO) kept
  });
});

describe('BARs', () => {
  it('sizing: all-ones reads back the size mask with type bits; 64-bit pairs; I/O; unimplemented 0', () => {
    const fn = generic();
    for (let i = 0; i < 6; i++) wr(fn, 0x10 + 4 * i, 4, 0xffff_ffff);
    expect(rd(fn, 0x10, 4)).toBe(0xffff_f000);
    expect(rd(fn, 0x14, 4)).toBe(0xffff_ffe1);
    expect(rd(fn, 0x18, 4)).toBe(0x0000_000c); // 4 GiB 64-bit prefetchable: low half has no address bits
    expect(rd(fn, 0x1c, 4)).toBe(0xffff_ffff);
    expect(rd(fn, 0x20, 4)).toBe(0);
    expect(rd(fn, 0x24, 4)).toBe(0);
  });

  it('ROM BAR: size mask plus the enable bit', () => {
    const fn = generic();
    wr(fn, 0x30, 4, 0xffff_f800);
    expect(rd(fn, 0x30, 4)).toBe(0xffff_8000);
    wr(fn, 0x30, 4, 0xffff_ffff);
    expect(rd(fn, 0x30, 4)).toBe(0xffff_8001);
    expect(rd(new PciFunction('0000:01:00.0', nvmeFunctionSpec()), 0x30, 4)).toBe(0);
  });

  it('host assignment is restored after a reset cleared the BARs', () => {
    const fn = generic();
    fn.assign(new Map([[0, 0x8000_0000n], [2, 0x9_0000_0000n]]));
    expect(fn.barAddress(0)).toBe(0x8000_0000n);
    expect(fn.barAddress(2)).toBe(0x9_0000_0000n);
    fn.reset();
    expect(fn.barAddress(0)).toBe(0n);
    fn.restoreAssignment();
    expect(fn.barAddress(2)).toBe(0x9_0000_0000n);
  });
});

describe('capabilities', () => {
  it('nvme: the list walks PM → MSI → MSI-X → PCIe and ends', () => {
    const fn = new PciFunction('0000:01:00.0', nvmeFunctionSpec());
    const ids: number[] = [];
    for (let p = rd(fn, 0x34, 1); p !== 0; p = rd(fn, p + 1, 1)) ids.push(rd(fn, p, 1));
    expect(ids).toEqual([0x01, 0x05, 0x11, 0x10]);
    const pm = fn.caps.pm;
    expect(rd(fn, pm + 4, 2) & 0x8).toBe(0x8); // NoSoftReset
    const msi = fn.caps.msi;
    const flags = rd(fn, msi + 2, 2);
    expect(flags & 0x80).toBe(0x80); // 64-bit
    expect(1 << ((flags & 0xe) >> 1)).toBe(4);
    const msix = fn.caps.msix;
    expect((rd(fn, msix + 2, 2) & 0x7ff) + 1).toBe(16);
    expect(rd(fn, msix + 4, 4)).toBe(0x3000); // table in BAR0 at 0x3000
    expect(rd(fn, msix + 8, 4)).toBe(0x3800);
  });

  it('MSI: enable and multiple-message enable are writable, capable count is not; PM state and PME status', () => {
    const fn = generic();
    const msi = fn.caps.msi;
    wr(fn, msi + 2, 2, 0xffff);
    expect(rd(fn, msi + 2, 2)).toBe(0x0080 | 0x0070 | 0x0006 | 0x1);
    const pm = fn.caps.pm;
    fn.config.set16(pm + 4, fn.config.get16(pm + 4) | 0x8000);
    wr(fn, pm + 4, 2, 0x8003);
    expect(rd(fn, pm + 4, 2)).toBe(0x0003);
    expect(fn.canReset).toBe(true); // PM reset: NoSoftReset clear
    expect(generic({ pm: { noSoftReset: true } }).canReset).toBe(false);
  });

  it('MSI messages need the capability enabled and the vector unmasked; masked ones set the pending bit', () => {
    const fn = new PciFunction('0000:01:00.0', nvmeFunctionSpec());
    const seen: string[] = [];
    fn.irq.subscribe((k, v) => {
      seen.push(`${k}${v}`);
      return true;
    });
    expect(fn.raise('msi', 0)).toBe(false);
    fn.setMsi(2);
    expect(fn.raise('msi', 1)).toBe(true);
    expect(fn.raise('msi', 2)).toBe(false); // beyond the enabled vectors
    fn.config.set32(fn.caps.msi + 16, 0x1);
    expect(fn.raise('msi', 0)).toBe(false);
    expect(fn.config.get32(fn.caps.msi + 20) & 1).toBe(1);
    fn.setMsix(4);
    expect(fn.raise('msix', 3)).toBe(true);
    expect(fn.raise('msix', 4)).toBe(false); // entry masked
    expect(leValue(fn.barRead(0, 0x3800, 4)) & 0x10).toBe(0x10); // PBA bit 4
    expect(seen).toEqual(['msi1', 'msix3']);
  });
});
