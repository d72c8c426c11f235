/** The nvme model's BAR0 registers: CAP/VS read-only, interrupt mask set/clear, the enable and shutdown handshakes. */
import { describe, expect, it } from 'vitest';
import { leBytes, leValue } from '../../../src/hw/pci/config-space.js';
import { NVME_CAP, NvmeModel } from '../../../src/hw/pci/nvme.js';

const r32 = (m: NvmeModel, off: number) => leValue(m.barRead(0, off, 4));
const w32 = (m: NvmeModel, off: number, v: number) => m.barWrite(0, off, leBytes(v, 4));

describe('nvme BAR0', () => {
  it('CAP (64-bit read and as two halves) and VS are read-only', () => {
    const m = new NvmeModel();
    const cap = new DataView(m.barRead(0, 0, 8).buffer).getBigUint64(0, true);
    expect(cap).toBe(NVME_CAP);
    expect(cap & 0xffffn).toBe(0x7ffn); // MQES
    expect(r32(m, 4)).toBe(Number(NVME_CAP >> 32n));
    w32(m, 0, 0);
    w32(m, 8, 0);
    expect(r32(m, 0)).toBe(Number(NVME_CAP & 0xffff_ffffn));
    expect(r32(m, 8)).toBe(0x0001_0400);
  });

  it('INTMS sets and INTMC clears mask bits; both read the mask', () => {
    const m = new NvmeModel();
    w32(m, 0x0c, 0b1010);
    w32(m, 0x0c, 0b0001);
    expect(r32(m, 0x0c)).toBe(0b1011);
    w32(m, 0x10, 0b0010);
    expect(r32(m, 0x10)).toBe(0b1001);
  });

  it('CC.EN raises CSTS.RDY, clearing it resets; CC.SHN reports shutdown complete', () => {
    const m = new NvmeModel();
    w32(m, 0x24, 0x001f_001f); // AQA
    m.barWrite(0, 0x28, leBytes(0x1234_5fff, 4)); // ASQ low: reserved bits 11:0 read 0
    m.barWrite(0, 0x2c, leBytes(0x8, 4));
    expect(r32(m, 0x28)).toBe(0x1234_5000);
    expect(r32(m, 0x2c)).toBe(0x8);
    expect(r32(m, 0x1c) & 1).toBe(0);
    w32(m, 0x14, 0x0046_0001);
    expect(r32(m, 0x14)).toBe(0x0046_0001);
    expect(r32(m, 0x1c) & 1).toBe(1);
    w32(m, 0x1c, 0); // CSTS is read-only
    expect(r32(m, 0x1c) & 1).toBe(1);
    w32(m, 0x1000, 5); // SQ0 tail doorbell: recorded, reads 0
    expect(m.doorbell(0)).toBe(5);
    expect(r32(m, 0x1000)).toBe(0);
    w32(m, 0x14, 0x0046_4001); // SHN = normal shutdown
    expect((r32(m, 0x1c) >> 2) & 3).toBe(2);
    w32(m, 0x14, 0);
    expect(r32(m, 0x1c)).toBe(0);
    expect(m.doorbell(0)).toBe(0);
  });

  it('byte writes into CC take effect as one register write; reset restores everything', () => {
    const m = new NvmeModel();
    m.barWrite(0, 0x14, new Uint8Array([0x01]));
    expect(r32(m, 0x1c) & 1).toBe(1);
    m.reset();
    expect(r32(m, 0x14)).toBe(0);
    expect(r32(m, 0x1c)).toBe(0);
  });
});
