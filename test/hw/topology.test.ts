import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY, parseTopology } from '../../src/hw/topology.js';

const minimal = { phbs: [{ pes: [{ pe: 1, group: 7, devices: ['0000:01:00.0'] }] }] };

describe('DEFAULT_TOPOLOGY', () => {
  it('has a POWER9 spapr PHB with 4 PEs and unique groups', () => {
    const p = DEFAULT_TOPOLOGY.phbs[0]!;
    expect(p).toMatchObject({ kind: 'spapr', model: 'POWER9', pageShifts: [12, 16, 21, 30], maxLevels: 5 });
    expect(p.windowStarts).toEqual([0n, 1n << 59n]);
    expect(p.dma32).toEqual({ start: 0n, size: 2n << 30n });
    expect(p.mmio32).toEqual({ start: 2n << 30n, size: 2n << 30n });
    expect(p.pes).toHaveLength(4);
    const groups = DEFAULT_TOPOLOGY.phbs.flatMap((x) => x.pes.map((pe) => pe.group));
    expect(new Set(groups).size).toBe(groups.length);
  });
});

describe('parseTopology', () => {
  it('fills a minimal config from the POWER9 preset', () => {
    const t = parseTopology(minimal);
    expect(t.hostPageShift).toBe(16);
    expect(t.phbs[0]).toMatchObject({ index: 0, name: 'phb0', model: 'POWER9', maxDynamicWindows: 2 });
  });

  it('takes 64-bit values as hex strings', () => {
    const t = parseTopology({ phbs: [{ ...minimal.phbs[0], msi: { start: '0x40000000000', size: 65536 } }] });
    expect(t.phbs[0]!.msi).toEqual({ start: 0x400_0000_0000n, size: 65536n });
  });

  it('a POWER7 PHB has no DDW', () => {
    expect(parseTopology({ phbs: [{ ...minimal.phbs[0], model: 'POWER7' }] }).phbs[0]).toMatchObject({ maxDynamicWindows: 0, tableOps: 'ioda1' });
  });

  it.each([
    [{ phbs: [] }, /\$\.phbs: must be a non-empty array/],
    [{ phb: [] }, /\$\.phb: unknown key/],
    [{ phbs: [{ ...minimal.phbs[0], model: 'POWER11' }] }, /\$\.phbs\[0\]\.model: must be one of/],
    [{ phbs: [{ ...minimal.phbs[0], kind: 'amd-vi' }] }, /\$\.phbs\[0\]\.kind: unsupported PHB kind "amd-vi"/],
    [{ phbs: [{ pes: [{ pe: 1, group: 1, devices: ['01:00.0'] }] }] }, /\$\.phbs\[0\]\.pes\[0\]\.devices\[0\]: must be a PCI address/],
    [{ phbs: [{ pes: [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }, { pe: 2, group: 1, devices: ['0000:02:00.0'] }] }] }, /pes\[1\]\.group: group 1 appears twice/],
    [{ phbs: [{ ...minimal.phbs[0], max_levels: 6 }] }, /max_levels: must be an integer in \[1, 5\]/],
    [{ phbs: [{ ...minimal.phbs[0], dma32_window: { start: 0, size: '0x200000000' } }] }, /dma32_window: must end at or below 4 GiB/],
    [{ phbs: [{ ...minimal.phbs[0], msi: { start: -1, size: 1 } }] }, /msi\.start: must be a non-negative integer/],
  ])('rejects %j naming the key', (cfg, re) => {
    expect(() => parseTopology(cfg)).toThrow(re);
  });
});
