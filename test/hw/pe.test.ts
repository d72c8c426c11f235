import { describe, expect, it } from 'vitest';
import { Host } from '../../src/hw/host.js';
import { TceTable } from '../../src/hw/tce-table.js';
import { DEFAULT_TOPOLOGY } from '../../src/hw/topology.js';
import { failure } from '../helpers/errors.js';

const GiB = 1n << 30n;

function table(pageShift: number, windowSize: bigint, busStart: bigint, levels = 1) {
  return TceTable.create({ pageShift, windowSize, busStart, levels, hostPageShift: 16, maxLevels: 5, maxLevelBytes: 16 << 20 });
}


describe('Host', () => {
  it('builds PHBs, PEs (one IOMMU group each) and devices from the topology', () => {
    const host = new Host(DEFAULT_TOPOLOGY);
    expect(host.pageShift).toBe(16);
    expect(host.pageSize).toBe(65536);
    expect(host.phbs.map((p) => p.name)).toEqual(['phb0', 'phb1', 'smmu0']);
    expect(host.pes.map((pe) => pe.group)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const pe = host.peOfGroup(5)!;
    expect(pe.phb.name).toBe('phb1');
    expect(pe.number).toBe(1);
    expect(pe.devices.map((d) => d.address)).toEqual(['0001:01:00.0']);
    expect(host.device('0000:04:00.1').pe.group).toBe(4);
    expect(host.peOfGroup(99)).toBeUndefined();
    expect(failure(() => host.device('0000:99:00.0')).code).toBe('ENODEV');
    expect(pe.windows).toEqual([undefined, undefined]);
  });

  it('PHB facts: DDW, page sizes, slot starts', () => {
    const [p9, p8] = new Host(DEFAULT_TOPOLOGY).phbs;
    expect(p9!.supportsDdw).toBe(true);
    expect(p9!.pageSizeMask).toBe((1n << 12n) | (1n << 16n) | (1n << 21n) | (1n << 30n));
    expect(p8!.supportsPageShift(24)).toBe(true);
    expect(p8!.supportsPageShift(21)).toBe(false);
    expect(p9!.windowStart(1)).toBe(1n << 59n);
  });
});

describe('Pe.program', () => {
  it('checks the table fits the slot, page size and level count of the PHB', () => {
    const host = new Host(DEFAULT_TOPOLOGY);
    const p9 = host.peOfGroup(1)!;
    const p8 = host.peOfGroup(5)!;
    expect(failure(() => p9.program(1, table(12, GiB, 0n))).code).toBe('EINVAL'); // slot 1 starts at 2^59
    expect(failure(() => p9.program(2, table(12, GiB, 0n))).code).toBe('EINVAL'); // no slot 2
    expect(failure(() => p8.program(0, table(21, GiB, 0n))).code).toBe('EINVAL'); // P8 has no 2M pages
    const t = table(12, GiB, 0n);
    p9.program(0, t);
    expect(p9.windows[0]).toBe(t);
    expect(failure(() => p9.program(0, table(12, GiB, 0n))).code).toBe('EBUSY');
    p9.unprogram(0);
    expect(p9.windows[0]).toBeUndefined();
  });

  it('failNextProgram injects one firmware failure', () => {
    const pe = new Host(DEFAULT_TOPOLOGY).peOfGroup(2)!;
    pe.failNextProgram = 'EIO';
    expect(failure(() => pe.program(0, table(12, GiB, 0n))).code).toBe('EIO');
    expect(pe.failNextProgram).toBeNull();
    expect(pe.windows[0]).toBeUndefined();
    pe.program(0, table(12, GiB, 0n));
    expect(pe.windows[0]).toBeDefined();
  });
});

describe('Pe.translate', () => {
  function setup() {
    const pe = new Host(DEFAULT_TOPOLOGY).peOfGroup(1)!;
    const w0 = table(12, 2n * GiB, 0n);
    const w1 = table(21, 1n << 40n, 1n << 59n, 2);
    pe.program(0, w0);
    pe.program(1, w1);
    return { pe, w0, w1 };
  }

  it('translates through the window containing the address, keeping the page offset', () => {
    const { pe, w0, w1 } = setup();
    w0.set(5, 0x7f00_1234_5000n | 3n);
    expect(pe.translate(0x5abcn, 'read')).toEqual({ addr: 0x7f00_1234_5abcn, pageSize: 4096n });
    expect(pe.translate(0x5abcn, 'write')).toEqual({ addr: 0x7f00_1234_5abcn, pageSize: 4096n });
    w1.set(3, 0x1_0000_0000_0000n | 1n);
    const iova = (1n << 59n) + 3n * (2n << 20n) + 0x1f_fff8n;
    expect(pe.translate(iova, 'read')).toEqual({ addr: 0x1_0000_001f_fff8n, pageSize: 2n << 20n });
    expect(pe.faults).toBe(0);
  });

  it('faults (EFAULT, counted) on reserved ranges, outside windows, invalid TCEs and permissions', () => {
    const { pe, w0 } = setup();
    w0.set(1, 0x9000n | 1n); // read only: the device may read memory
    w0.set(2, 0xa000n | 2n); // write only
    w0.set(3, 0xb000n); // address but no permission: "poison"
    const cases: [bigint, 'read' | 'write', RegExp][] = [
      [0x400_0000_0000n, 'write', /decodes as MSI/],
      [0x8000_0000n, 'read', /decodes as MMIO32/],
      [0xffff_ffffn, 'read', /MMIO32/],
      [0x1_0000_0000n, 'read', /no DMA window/],
      [0x4000n, 'read', /invalid TCE/],
      [0x3000n, 'read', /invalid TCE/],
      [0x1000n, 'write', /permission/],
      [0x2000n, 'read', /permission/],
    ];
    cases.forEach(([iova, access, why], n) => {
      const e = failure(() => pe.translate(iova, access));
      expect(e.code).toBe('EFAULT');
      expect(e.message).toMatch(why);
      expect(pe.faults).toBe(n + 1);
      // The PHB froze the PE (EEH): DMA and MMIO stop until the PE is thawed.
      expect([pe.eeh.dmaFrozen, pe.eeh.mmioFrozen]).toEqual([true, true]);
      pe.eeh.thawDma();
      pe.eeh.thawMmio();
    });
    expect(pe.translate(0x1008n, 'read').addr).toBe(0x9008n);
    expect(pe.translate(0x2008n, 'write').addr).toBe(0xa008n);
  });

  it('a window reaching into MMIO32 still cannot DMA there', () => {
    const pe = new Host(DEFAULT_TOPOLOGY).peOfGroup(3)!;
    const w = table(16, 8n * GiB, 0n); // covers 0..8G, MMIO32 is 2G..4G
    pe.program(0, w);
    w.set(Number((3n * GiB) >> 16n), 0x10000n | 3n);
    w.set(Number((5n * GiB) >> 16n), 0x20000n | 3n);
    expect(failure(() => pe.translate(3n * GiB, 'read')).message).toMatch(/MMIO32/);
    expect(failure(() => pe.translate(5n * GiB + 8n, 'read')).message).toMatch(/frozen \(EEH\)/);
    pe.eeh.thawDma();
    expect(pe.translate(5n * GiB + 8n, 'read').addr).toBe(0x20008n);
  });

  it('no windows programmed: every DMA faults', () => {
    const pe = new Host(DEFAULT_TOPOLOGY).peOfGroup(6)!;
    expect(failure(() => pe.translate(0n, 'read')).message).toMatch(/no DMA window/);
    expect(pe.faults).toBe(1);
  });
});
