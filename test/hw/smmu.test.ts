/** smmu PHB config parsing and the IOMMU domain: reserved regions, page table, MSI cookie. */
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/hw/host.js';
import { SmmuDomain, groupResvRegions } from '../../src/hw/smmu-domain.js';
import { parseTopology } from '../../src/hw/topology.js';
import { errno } from '../helpers/errors.js';

const pes = [{ pe: 1, group: 7, devices: ['0002:01:00.0'] }];
const topo = (phb: Record<string, unknown>) => parseTopology({ phbs: [{ kind: 'smmu', pes, ...phb }] });

describe('smmu PHB config', () => {
  it('defaults: SMMUv3, 4K/2M/1G pages, 48-bit IOVA, SW_MSI 0x8000000 + 1 MiB, dma_entry_limit 65535', () => {
    const p = topo({}).phbs[0]!;
    expect(p).toMatchObject({ kind: 'smmu', model: 'SMMUv3', name: 'phb0', pageShifts: [12, 21, 30], windowStarts: [] });
    expect(p.smmu).toMatchObject({ iovaBits: 48, swMsi: { start: 0x800_0000n, size: 0x10_0000n }, dmaEntryLimit: 65535, reserved: [] });
  });

  it('every key is configurable', () => {
    const p = topo({
      name: 'arm0', page_shifts: [16, 29], iova_bits: 44, sw_msi: { start: '0x8000000', size: 65536 },
      reserved_regions: [{ start: '0xfee00000', size: '0x100000', type: 'direct-relaxable' }], its: ['0x8080000', '0x80a0000'], dma_entry_limit: 3,
      pes: [{ pe: 1, group: 7, devices: ['0002:01:00.0'], its: 1, reserved_regions: [{ start: 0, size: 65536 }] }],
    }).phbs[0]!;
    expect(p.smmu).toEqual({
      pageShifts: [16, 29], iovaBits: 44, swMsi: { start: 0x800_0000n, size: 0x1_0000n },
      reserved: [{ start: 0xfee0_0000n, size: 0x10_0000n, type: 'direct-relaxable' }], its: [0x808_0000n, 0x80a_0000n], dmaEntryLimit: 3,
      pes: [{ pe: 1, its: 1, reserved: [{ start: 0n, size: 0x1_0000n, type: 'reserved' }] }],
    });
    expect(p.msi).toEqual({ start: 0x800_0000n, size: 0x1_0000n });
  });

  it.each([
    [{ model: 'SMMUv2' }, /\$\.phbs\[0\]\.model: must be one of SMMUv3/],
    [{ window_starts: [0] }, /\$\.phbs\[0\]\.window_starts: unknown key/],
    [{ iova_bits: 20 }, /\$\.phbs\[0\]\.iova_bits: must be an integer in \[32, 64\]/],
    [{ page_shifts: [] }, /\$\.phbs\[0\]\.page_shifts: must be a non-empty array/],
    [{ sw_msi: { start: 0, size: 0 } }, /\$\.phbs\[0\]\.sw_msi\.size: must not be 0/],
    [{ iova_bits: 32, sw_msi: { start: '0xffff0000', size: '0x20000' } }, /\$\.phbs\[0\]\.sw_msi: must lie below 2\^32/],
    [{ reserved_regions: [{ start: 0, size: 4096, type: 'msi' }] }, /reserved_regions\[0\]\.type: must be "reserved" or "direct-relaxable"/],
    [{ its: [] }, /\$\.phbs\[0\]\.its: must name at least one ITS/],
    [{ pes: [{ ...pes[0], its: 1 }] }, /\$\.phbs\[0\]\.pes\[0\]\.its: must be an integer in \[0, 0\]/],
    [{ pes: [{ ...pes[0], devices: ['bad'] }] }, /\$\.phbs\[0\]\.pes\[0\]\.devices\[0\]: must be a PCI address/],
    [{ dma_entry_limit: -1 }, /\$\.phbs\[0\]\.dma_entry_limit: must be an integer/],
  ])('rejects %j naming the key', (phb, re) => {
    expect(() => topo(phb)).toThrow(re);
  });
});

describe('SmmuDomain', () => {
  const host = new Host(topo({
    its: ['0x8080000', '0x80a0000'], sw_msi: { start: '0x8000000', size: '0x20000' },
    reserved_regions: [{ start: '0x8010000', size: '0x20000' }],
    pes: [{ ...pes[0], reserved_regions: [{ start: '0x8020000', size: '0x10000' }] }, { pe: 2, group: 8, devices: ['0002:02:00.0'], its: 1 }],
  }));
  const phb = host.phbs[0]!;

  it('reserved regions: sorted, same-type overlaps merged, other types kept apart', () => {
    expect(groupResvRegions(phb.pes[0]!)).toEqual([
      { start: 0x800_0000n, size: 0x2_0000n, type: 'sw-msi' },
      { start: 0x801_0000n, size: 0x2_0000n, type: 'reserved' },
    ]);
  });

  it('the page table refuses overlaps (EEXIST) and addresses past the aperture (ERANGE), changing nothing', () => {
    const d = new SmmuDomain(phb);
    d.map({ iova: 0x1_0000n, size: 0x2_0000n, addr: 0n, prot: 3, kind: 'dma' });
    expect(errno(() => d.map({ iova: 0x2_0000n, size: 0x1_0000n, addr: 0n, prot: 3, kind: 'dma' }))).toBe('EEXIST');
    expect(errno(() => d.map({ iova: 1n << 48n, size: 0x1_0000n, addr: 0n, prot: 3, kind: 'dma' }))).toBe('ERANGE');
    expect(d.mappings).toHaveLength(1);
    expect(d.translate(0x1_0000n, 'read')).toEqual({ addr: 0n, pageSize: 0x1000n }); // 4K granule
  });

  it('MSI pages: one host page per doorbell page from the cookie base, shared, bumping past the window', () => {
    const d = new SmmuDomain(phb);
    expect(d.msiPage(0x809_0040n)).toBeUndefined(); // no cookie, no mapping
    d.getMsiCookie(0x800_0000n);
    const a = d.msiPage(0x809_0040n)!;
    expect(a).toMatchObject({ created: true, page: { phys: 0x809_0000n, iova: 0x800_0000n } });
    expect(d.msiIova(a.page, 0x809_0040n)).toBe(0x800_0040n);
    expect(d.msiPage(0x809_0040n)).toMatchObject({ created: false, page: { iova: 0x800_0000n } });
    expect(d.msiPage(0x80b_0040n)!.page.iova).toBe(0x801_0000n);
    // The third doorbell page would lie past the 128K window: allocated anyway, as the kernel does...
    expect(d.msiPage(0x90b_0040n)!.page.iova).toBe(0x802_0000n);
    // ...unless the IOVA is taken: no page, the cookie does not move.
    d.map({ iova: 0x803_0000n, size: 0x1_0000n, addr: 0n, prot: 3, kind: 'dma' });
    expect(d.msiPage(0xa0b_0040n)).toBeUndefined();
    expect(d.cookie!.next).toBe(0x803_0000n);
    expect(d.translate(0x801_0040n, 'write')).toEqual({ addr: 0x80b_0040n, pageSize: 0x1000n });
    expect(d.cookie!.pages[1]!.deliveries).toBe(1);
    expect(d.translate(0x801_0040n, 'read')).toMatch(/does not permit read/);
  });
});
