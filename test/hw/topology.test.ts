import { describe, expect, it } from 'vitest';
import { ConfigErrors, ConfigIssue, DEFAULT_TOPOLOGY, parseTopology, TopologyConfigError } from '../../src/hw/topology.js';
import { VphbError } from '../../src/wire/errno.js';

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
    [{ phbs: [{ ...minimal.phbs[0], kind: 'smmu' }] }, /\$\.phbs\[0\]\.kind: unsupported PHB kind "smmu"/],
    [{ phbs: [{ pes: [{ pe: 1, group: 1, devices: ['01:00.0'] }] }] }, /\$\.phbs\[0\]\.pes\[0\]\.devices\[0\]: must be a PCI address/],
    [{ phbs: [{ pes: [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }, { pe: 2, group: 1, devices: ['0000:02:00.0'] }] }] }, /pes\[1\]\.group: group 1 appears twice/],
    [{ phbs: [{ ...minimal.phbs[0], max_levels: 6 }] }, /max_levels: must be an integer in \[1, 5\]/],
    [{ phbs: [{ ...minimal.phbs[0], dma32_window: { start: 0, size: '0x200000000' } }] }, /dma32_window: must end at or below 4 GiB/],
    [{ phbs: [{ ...minimal.phbs[0], msi: { start: -1, size: 1 } }] }, /msi\.start: must be a non-negative integer/],
  ])('rejects %j naming the key', (cfg, re) => {
    expect(() => parseTopology(cfg)).toThrow(re);
  });
});

describe('parseTopology error reporting', () => {
  const pe = (n: number, dev: string): { pe: number; group: number; devices: string[] } => ({ pe: n, group: n, devices: [dev] });

  it('reports every bad key at once, each with its JSON path', () => {
    let err: unknown;
    try {
      parseTopology({
        host_page_shift: 20,
        phbs: [
          { name: 'a', max_levels: 9, max_levles: 1, pes: [{ pe: 1, group: 1.5, devices: ['0000:01:00.0', 'x'] }] },
          { name: 'b', model: 'POWER11', msi: { start: -1, size: 1 }, pes: [pe(2, '0000:02:00.0')] },
        ],
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TopologyConfigError);
    const e = err as TopologyConfigError;
    expect(e.code).toBe('EINVAL');
    expect(e.issues.map((i) => i.path)).toEqual([
      '$.host_page_shift',
      '$.phbs[0].max_levles',
      '$.phbs[0].pes[0].group',
      '$.phbs[0].pes[0].devices[1]',
      '$.phbs[0].max_levels',
      '$.phbs[1].model',
      '$.phbs[1].msi.start',
    ]);
    expect(e.message).toMatch(/^topology config: 7 errors:\n {2}\$\.host_page_shift: must be an integer in \[12, 16\]\n/);
  });

  it('refuses duplicate PHB names, naming both', () => {
    expect(() => parseTopology({ phbs: [{ name: 'x', pes: [pe(1, '0000:01:00.0')] }, { name: 'x', pes: [pe(2, '0000:02:00.0')] }] }))
      .toThrow('topology config: $.phbs[1].name: PHB name "x" is already used by $.phbs[0]');
    // The default names count too.
    expect(() => parseTopology({ phbs: [{ pes: [pe(1, '0000:01:00.0')] }, { name: 'phb0', pes: [pe(2, '0000:02:00.0')] }] }))
      .toThrow(/\$\.phbs\[1\]\.name: PHB name "phb0" is already used/);
  });

  it('reports duplicates across PHBs together with the other errors', () => {
    try {
      parseTopology({ phbs: [{ pes: [pe(1, '0000:01:00.0')] }, { max_levels: 0, pes: [pe(1, '0000:01:00.0')] }] });
      throw new Error('accepted');
    } catch (e) {
      expect((e as TopologyConfigError).issues.map((i) => i.path)).toEqual(['$.phbs[1].max_levels', '$.phbs[1].pes[0].group', '$.phbs[1].pes[0].devices']);
    }
    try {
      parseTopology({ phbs: [{ name: 'p', pes: [pe(1, '0000:01:00.0')] }, { name: 'p', pes: [pe(1, '0000:01:00.0')] }] });
      throw new Error('accepted');
    } catch (e) {
      expect((e as TopologyConfigError).issues.map((i) => i.path)).toEqual(['$.phbs[1].name', '$.phbs[1].pes[0].group', '$.phbs[1].pes[0].devices']);
    }
  });
});

describe('ConfigErrors', () => {
  it('collects ConfigIssues and classic "topology config: PATH: why" errors, and rethrows anything else', () => {
    const errs = new ConfigErrors();
    expect(errs.collect(() => 5)).toBe(5);
    expect(errs.collect(() => { throw new ConfigIssue('$.a', 'bad a'); })).toBeUndefined();
    expect(errs.collect(() => { throw new VphbError('EINVAL', 'topology config: $.b[0]: bad b'); })).toBeUndefined();
    expect(() => errs.collect(() => { throw new TypeError('bug'); })).toThrow(TypeError);
    expect(errs.issues).toEqual([{ path: '$.a', why: 'bad a' }, { path: '$.b[0]', why: 'bad b' }]);
    expect(() => errs.throwIfAny()).toThrow(TopologyConfigError);
    expect(() => new ConfigErrors().throwIfAny()).not.toThrow();
  });
});
