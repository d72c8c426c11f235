/** Topology device entries: address strings get nvme; objects select a model; bad entries name the key. */
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../../src/hw/topology.js';
import { Host } from '../../../src/hw/host.js';
import { failure } from '../../helpers/errors.js';

const topo = (devices: unknown[]) => ({ phbs: [{ pes: [{ pe: 1, group: 7, devices }] }] });

describe('device entries', () => {
  it('a string is an nvme function; an object picks the model; BARs are assigned in MMIO32', () => {
    const spec = parseTopology(topo([
      '0000:01:00.0',
      { address: '0000:01:00.1', model: 'generic', vendor_id: 0x8086, device_id: 0x1572, class_code: 0x020000,
        pcie: true, flr: true, bars: [{ index: 0, kind: 'mem64', size: '0x100000', prefetchable: true }, { index: 2, kind: 'io', size: 32 }],
        rom_size: 65536, msix: { vectors: 8, bar: 0, table_offset: 0x1000, pba_offset: 0x2000 } },
    ]));
    const host = new Host(spec);
    const [nvme, gen] = host.pes[0]!.devices;
    expect(nvme!.model.name).toBe('nvme');
    expect(gen!.model.name).toBe('generic');
    expect(gen!.fn.configSize).toBe(4096);
    expect(gen!.fn.bars.map((b) => b?.kind ?? '-')).toEqual(['mem64', '-', 'io', '-', '-', '-', 'rom']);
    expect(gen!.fn.barAddress(0)).toBe(0x8000_0000n); // largest first, at the MMIO32 start
    expect(nvme!.fn.barAddress(0) >= 0x8010_0000n).toBe(true);
    expect(gen!.fn.canReset).toBe(true);
  });

  it.each([
    [['0000:01:00.0', { address: '0000:01:00.1', model: 'virtio' }], /devices\[1\]\.model: must be "nvme" or "generic"/],
    [[{ address: '01:00.1' }], /devices\[0\]\.address: must be a PCI address/],
    [[{ address: '0000:01:00.1', model: 'nvme', bars: [] }], /devices\[0\]\.bars: unknown key/],
    [[{ address: '0000:01:00.1', model: 'generic', device_id: 1, class_code: 0 }], /devices\[0\]\.vendor_id: must be an integer/],
    [[{ address: '0000:01:00.1', model: 'generic', vendor_id: 1, device_id: 1, class_code: 0, bars: [{ index: 0, size: 1000 }] }], /bars\[0\]\.size: must be a power of two/],
    [[{ address: '0000:01:00.1', model: 'generic', vendor_id: 1, device_id: 1, class_code: 0, bars: [{ index: 0, kind: 'mem64', size: 16 }, { index: 1, size: 16 }] }], /bars\[1\]\.index: BAR slot 1 is already taken/],
    [[{ address: '0000:01:00.1', model: 'generic', vendor_id: 1, device_id: 1, class_code: 0, msi: { vectors: 3 } }], /msi\.vectors: must be 1, 2, 4/],
    [[{ address: '0000:01:00.1', model: 'generic', vendor_id: 1, device_id: 1, class_code: 0, msix: { vectors: 4, bar: 0, pba_offset: 0 } }], /msix\.bar: BAR 0 is not a memory BAR/],
    [[{ address: '0000:01:00.1', model: 'generic', vendor_id: 1, device_id: 1, class_code: 0, flr: true }], /devices\[0\]\.flr: FLR needs "pcie": true/],
    [[{ address: '0000:01:00.1', model: 'generic', vendor_id: 1, device_id: 1, class_code: 0, colour: 'red' }], /devices\[0\]\.colour: unknown key/],
  ])('rejects %j', (devices, why) => {
    const e = failure(() => parseTopology(topo(devices)));
    expect(e.code).toBe('EINVAL');
    expect(e.message).toMatch(why);
  });
});
