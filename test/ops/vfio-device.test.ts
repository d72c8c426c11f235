/** The VFIO device ops in process: info, region layout, IRQ info, region access errnos, reset, handle errors. */
import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/ops/dispatch.js';
import { HANDLERS } from '../../src/ops/index.js';
import { encodePayload } from '../../src/wire/msgpack.js';
import { errno } from '../helpers/errors.js';
import { call } from '../helpers/handlers.js';
import { parseTopology } from '../../src/hw/topology.js';
import { CONFIG, MIXED_TOPOLOGY, barRead, cfgWrite, openDevice } from '../vfio/device-setup.js';

describe('VFIO_DEVICE_GET_INFO / GET_REGION_INFO / GET_IRQ_INFO', () => {
  it('nvme: PCI|RESET, 9 regions, 5 IRQs; the vfio-pci region layout without MMAP', () => {
    const s = openDevice();
    expect(call(s.ctx, 'VFIO_DEVICE_GET_INFO', { fd: s.dev })).toEqual({ flags: 3, num_regions: 9, num_irqs: 5 });
    const infos = [0, 1, 2, 3, 4, 5, 6, 7].map((index) => call(s.ctx, 'VFIO_DEVICE_GET_REGION_INFO', { fd: s.dev, index }));
    expect(infos[0]).toEqual({ index: 0, flags: 3, size: 0x4000n, offset: 0n });
    expect(infos[1]).toEqual({ index: 1, flags: 0, size: 0n, offset: 1n << 40n }); // upper half of BAR0
    for (const i of [2, 3, 4, 5, 6]) expect(infos[i]).toEqual({ index: i, flags: 0, size: 0n, offset: BigInt(i) << 40n });
    expect(infos[7]).toEqual({ index: 7, flags: 3, size: 4096n, offset: 7n << 40n });
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_GET_REGION_INFO', { fd: s.dev, index: 8 }))).toBe('EINVAL'); // not VGA
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_GET_REGION_INFO', { fd: s.dev, index: 9 }))).toBe('EINVAL');
    const irq = (index: number) => call(s.ctx, 'VFIO_DEVICE_GET_IRQ_INFO', { fd: s.dev, index });
    expect(irq(0)).toEqual({ index: 0, flags: 7, count: 1 });
    expect(irq(1)).toEqual({ index: 1, flags: 9, count: 4 });
    expect(irq(2)).toEqual({ index: 2, flags: 9, count: 16 });
    expect(irq(3)).toEqual({ index: 3, flags: 9, count: 1 });
    expect(irq(4)).toEqual({ index: 4, flags: 9, count: 1 });
    expect(errno(() => irq(5))).toBe('EINVAL');
  });

  it('generic conventional function: no RESET (NoSoftReset, no FLR), ROM read-only region, ERR info EINVAL, no INTx', () => {
    const s = openDevice({ topology: MIXED_TOPOLOGY, group: 2 });
    expect(call(s.ctx, 'VFIO_DEVICE_GET_INFO', { fd: s.dev }).flags).toBe(2);
    expect(call(s.ctx, 'VFIO_DEVICE_GET_REGION_INFO', { fd: s.dev, index: 6 })).toEqual({ index: 6, flags: 1, size: 0x8000n, offset: 6n << 40n });
    expect(call(s.ctx, 'VFIO_DEVICE_GET_REGION_INFO', { fd: s.dev, index: 1 })).toEqual({ index: 1, flags: 3, size: 32n, offset: 1n << 40n });
    expect(call(s.ctx, 'VFIO_DEVICE_GET_REGION_INFO', { fd: s.dev, index: 7 }).size).toBe(256n);
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_GET_IRQ_INFO', { fd: s.dev, index: 3 }))).toBe('EINVAL');
    expect(call(s.ctx, 'VFIO_DEVICE_GET_IRQ_INFO', { fd: s.dev, index: 0 })).toEqual({ index: 0, flags: 7, count: 0 });
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_RESET', { fd: s.dev }))).toBe('EINVAL');
  });

  it('DEVICE_RAISE_IRQ: index beyond 4 and vectors beyond the capability are EINVAL', () => {
    const s = openDevice();
    expect(errno(() => call(s.ctx, 'DEVICE_RAISE_IRQ', { fd: s.dev, index: 5 }))).toBe('EINVAL');
    expect(errno(() => call(s.ctx, 'DEVICE_RAISE_IRQ', { fd: s.dev, index: 1, vector: 4 }))).toBe('EINVAL');
    expect(errno(() => call(s.ctx, 'DEVICE_RAISE_IRQ', { fd: s.dev, index: 2, vector: 16 }))).toBe('EINVAL');
    expect(errno(() => call(s.ctx, 'DEVICE_RAISE_IRQ', { fd: s.dev, index: 0, vector: 1 }))).toBe('EINVAL');
    expect(call(s.ctx, 'DEVICE_RAISE_IRQ', { fd: s.dev, index: 2, vector: 15 })).toEqual({ ret: 0 }); // MSI-X not enabled
  });

  it('a client sending the server\'s event code 1024 gets ENOTTY', () => {
    const s = openDevice();
    const d = new Dispatcher(HANDLERS);
    expect(errno(() => d.execute(s.ctx, 1024, encodePayload({ fd: s.dev, index: 0, vector: 0, token: 1 })))).toBe('ENOTTY');
    expect(d.implemented().some((o) => o.code === 1024)).toBe(false);
  });

  it('handles: not open EBADF, another kind ENOTTY', () => {
    const s = openDevice();
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_GET_INFO', { fd: 99 }))).toBe('EBADF');
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_GET_INFO', { fd: s.group }))).toBe('ENOTTY');
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_REGION_READ', { fd: s.container, offset: 0n, count: 4 }))).toBe('ENOTTY');
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_SET_IRQS', { fd: s.group, flags: 36, index: 0, start: 0, count: 1, data: [3] }))).toBe('ENOTTY');
    expect(errno(() => call(s.ctx, 'DEVICE_RAISE_IRQ', { fd: s.group, index: 0 }))).toBe('ENOTTY');
  });
});

describe('REGION_READ / REGION_WRITE', () => {
  it('EINVAL outside regions and past a BAR; a crossing BAR access is short; EFAULT past config space', () => {
    const s = openDevice();
    const read = (offset: bigint, count: number) => call(s.ctx, 'VFIO_DEVICE_REGION_READ', { fd: s.dev, offset, count });
    expect(errno(() => read(9n << 40n, 4))).toBe('EINVAL');
    expect(errno(() => read(8n << 40n, 4))).toBe('EINVAL'); // VGA
    expect(errno(() => read(2n << 40n, 4))).toBe('EINVAL'); // absent BAR
    expect(errno(() => read(6n << 40n, 4))).toBe('EINVAL'); // no ROM
    expect(errno(() => read(0x4000n, 4))).toBe('EINVAL');
    expect(read(0x3ffen, 8).data.length).toBe(2);
    expect(call(s.ctx, 'VFIO_DEVICE_REGION_WRITE', { fd: s.dev, offset: 0x3ffen, data: new Uint8Array(8) }).count).toBe(2);
    expect(errno(() => read(CONFIG + 4094n, 4))).toBe('EFAULT');
    expect(errno(() => read(CONFIG + 4096n, 1))).toBe('EFAULT');
    expect(read(CONFIG + 4092n, 4).data.length).toBe(4);
    expect(read(CONFIG + 4096n, 0).data.length).toBe(0); // nothing to do, no EFAULT
    expect(errno(() => read(0n, (1 << 24) + 1))).toBe('EINVAL');
  });

  it('BAR access with memory decoding off in the (virtual) command register is EIO; the MSI-X table reads all-ones', () => {
    const s = openDevice();
    expect(barRead(s, 0x08)).toBe(0x0001_0400); // enabled at open (pci_enable_device)
    cfgWrite(s, 4, 2, 0);
    expect(errno(() => barRead(s, 0x08))).toBe('EIO');
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_REGION_WRITE', { fd: s.dev, offset: 0x14n, data: new Uint8Array(4) }))).toBe('EIO');
    cfgWrite(s, 4, 2, 0x2);
    expect(barRead(s, 0x3000)).toBe(0xffff_ffff);
    expect(barRead(s, 0x3800)).toBe(0); // the PBA is not excluded
  });

  it('a BAR the host could not place in MMIO32 is EINVAL to access, while its region info keeps the size', () => {
    const topology = parseTopology({ phbs: [{ mmio32: { start: '0x80000000', size: 16384 },
      pes: [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }, { pe: 2, group: 2, devices: ['0000:02:00.0'] }] }] });
    const s = openDevice({ topology, group: 2 });
    expect(s.system.host.peOfGroup(1)!.devices[0]!.fn.barAddress(0)).toBe(0x8000_0000n);
    expect(call(s.ctx, 'VFIO_DEVICE_GET_REGION_INFO', { fd: s.dev, index: 0 }).size).toBe(0x4000n);
    expect(errno(() => barRead(s, 8))).toBe('EINVAL');
  });

  it('ROM: readable with the signature, writes EINVAL', () => {
    const s = openDevice({ topology: MIXED_TOPOLOGY, group: 2 });
    expect(barRead(s, 0, 2, 6)).toBe(0xaa55);
    expect(errno(() => call(s.ctx, 'VFIO_DEVICE_REGION_WRITE', { fd: s.dev, offset: 6n << 40n, data: new Uint8Array(2) }))).toBe('EINVAL');
  });

  it('VFIO_DEVICE_RESET puts the controller back to reset values and keeps config space', () => {
    const s = openDevice();
    call(s.ctx, 'VFIO_DEVICE_REGION_WRITE', { fd: s.dev, offset: 0x14n, data: new Uint8Array([1, 0, 0, 0]) });
    expect(barRead(s, 0x1c) & 1).toBe(1);
    cfgWrite(s, 0x10, 4, 0x1234_0000);
    call(s.ctx, 'VFIO_DEVICE_RESET', { fd: s.dev });
    expect(barRead(s, 0x1c) & 1).toBe(0);
    expect(barRead(s, 0x14)).toBe(0);
  });
});
