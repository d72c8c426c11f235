/**
 * The device interface end to end over a UNIX socket with the TypeScript client: QEMU 7.2's
 * pseries device-realize and machine-reset sequence (../shared/reference/qemu-pseries-vfio.md) in
 * order with vfio-pci's answers, the NVMe enable handshake through BAR0, IRQ events, EEH recovery,
 * and HOST_STATE back at the baseline after the VMM disconnects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, IrqEvent } from '../../clients/ts/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GiB = 1n << 30n;
const CONFIG = 7n << 40n;
const NONE = 1, EVENTFD = 4, TRIGGER = 32;
const RAM = 0x7f00_0000_0000n;

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts.close();
});

const le = (d: Uint8Array) => d.reduceRight((v, b) => v * 256 + b, 0);
const bytes = (v: number, n: number) => Uint8Array.from({ length: n }, (_x, i) => (v >>> (8 * i)) & 0xff);

async function cfgRead(c: Client, fd: number, off: number, count: number): Promise<number> {
  return le((await c.call('VFIO_DEVICE_REGION_READ', { fd, offset: CONFIG + BigInt(off), count })).data);
}
async function cfgWrite(c: Client, fd: number, off: number, count: number, v: number): Promise<void> {
  expect(await c.call('VFIO_DEVICE_REGION_WRITE', { fd, offset: CONFIG + BigInt(off), data: bytes(v, count) })).toEqual({ count });
}
async function bar0Read(c: Client, fd: number, off: number): Promise<number> {
  return le((await c.call('VFIO_DEVICE_REGION_READ', { fd, offset: BigInt(off), count: 4 })).data);
}
async function bar0Write(c: Client, fd: number, off: number, v: number): Promise<void> {
  expect(await c.call('VFIO_DEVICE_REGION_WRITE', { fd, offset: BigInt(off), data: bytes(v, 4) })).toEqual({ count: 4 });
}

describe('QEMU pseries with a vfio-pci nvme function', () => {
  it('container, realize, machine reset, firmware, DDW, MSI and the NVMe enable handshake, in QEMU\'s order', async () => {
    const c = await ts.connect(undefined, { name: 'qemu-replay' });
    const events: IrqEvent[] = [];
    c.on('irq', (e) => events.push(e));
    // 1. Container and group.
    const group = (await c.call('VFIO_GROUP_OPEN', { group: 1 })).fd;
    expect(await c.call('VFIO_GROUP_GET_STATUS', { fd: group })).toEqual({ flags: 1 });
    const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
    expect(await c.call('VFIO_GET_API_VERSION', { fd: container })).toEqual({ ret: 0 });
    expect(await c.call('VFIO_CHECK_EXTENSION', { fd: container, extension: 3 })).toEqual({ ret: 0 });
    expect(await c.call('VFIO_CHECK_EXTENSION', { fd: container, extension: 1 })).toEqual({ ret: 0 });
    expect(await c.call('VFIO_CHECK_EXTENSION', { fd: container, extension: 7 })).toEqual({ ret: 1 });
    await c.call('VFIO_GROUP_SET_CONTAINER', { fd: group, container });
    await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
    await c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: RAM, size: 2n * GiB });
    expect((await c.call('VFIO_IOMMU_SPAPR_TCE_GET_INFO', { fd: container })).flags).toBe(1);
    await c.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n });

    // 2. Device realize.
    const dev = (await c.call('VFIO_GROUP_GET_DEVICE_FD', { fd: group, name: '0000:01:00.0' })).fd;
    expect(await c.call('VFIO_DEVICE_GET_INFO', { fd: dev })).toEqual({ flags: 3, num_regions: 9, num_irqs: 5 });
    for (const index of [0, 1, 2, 3, 4, 5, 7]) {
      const info = await c.call('VFIO_DEVICE_GET_REGION_INFO', { fd: dev, index });
      expect(info.offset).toBe(BigInt(index) << 40n);
      expect(info.flags & 4).toBe(0); // never MMAP
      expect(info.size).toBe(index === 0 ? 0x4000n : index === 7 ? 4096n : 0n);
    }
    expect(await c.call('VFIO_DEVICE_GET_IRQ_INFO', { fd: dev, index: 3 })).toEqual({ index: 3, flags: 9, count: 1 });
    const config = (await c.call('VFIO_DEVICE_REGION_READ', { fd: dev, offset: CONFIG, count: 256 })).data;
    expect(config.length).toBe(256);
    expect(le(config.subarray(0, 4))).toBe(0x0010_1b36);
    expect(le(config.subarray(9, 12))).toBe(0x010802);
    await cfgWrite(c, dev, 0x30, 4, 0xffff_f800); // ROM sizing: no ROM
    expect(await cfgRead(c, dev, 0x30, 4)).toBe(0);
    await cfgWrite(c, dev, 0x30, 4, le(config.subarray(0x30, 0x34)));
    expect((await cfgRead(c, dev, 0x10, 4)) & 0xf).toBe(0x4); // BAR0: 64-bit memory
    let msi = 0;
    let pm = 0;
    for (let p = config[0x34]!; p !== 0; p = config[p + 1]!) {
      if (config[p] === 0x05) msi = p;
      if (config[p] === 0x01) pm = p;
    }
    expect(1 << (((await cfgRead(c, dev, msi + 2, 2)) & 0xe) >> 1)).toBe(4);
    expect(await cfgRead(c, dev, 0x3d, 1)).toBe(1);
    await c.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: EVENTFD | TRIGGER, index: 0, start: 0, count: 1, data: [20] });
    await c.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: EVENTFD | TRIGGER, index: 3, start: 0, count: 1, data: [21] });
    expect(await c.call('VFIO_DEVICE_GET_IRQ_INFO', { fd: dev, index: 4 })).toEqual({ index: 4, flags: 9, count: 1 });
    await c.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: EVENTFD | TRIGGER, index: 4, start: 0, count: 1, data: [22] });

    // 3. Machine reset.
    await c.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: NONE | TRIGGER, index: 0, start: 0, count: 0 });
    expect((await cfgRead(c, dev, pm + 4, 2)) & 0x8).toBe(0x8); // NoSoftReset → DEVICE_RESET
    await cfgWrite(c, dev, 4, 2, 0);
    await c.call('VFIO_DEVICE_RESET', { fd: dev });
    await c.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: EVENTFD | TRIGGER, index: 0, start: 0, count: 1, data: [23] });
    for (let i = 0; i < 6; i++) await cfgWrite(c, dev, 0x10 + 4 * i, 4, 0);
    expect(await c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 12, window_size: GiB, levels: 2 })).toEqual({ start_addr: 0n });
    expect(await c.call('VFIO_EEH_PE_OP', { fd: container, op: 1 })).toEqual({ ret: 0 });

    // 4. Firmware sizes and assigns BAR0.
    await cfgWrite(c, dev, 0x10, 4, 0xffff_ffff);
    await cfgWrite(c, dev, 0x14, 4, 0xffff_ffff);
    expect(await cfgRead(c, dev, 0x10, 4)).toBe(0xffff_c004);
    expect(await cfgRead(c, dev, 0x14, 4)).toBe(0xffff_ffff);
    await cfgWrite(c, dev, 0x10, 4, 0x2008_0000);
    await cfgWrite(c, dev, 0x14, 4, 0x200);
    expect(await cfgRead(c, dev, 0x10, 4)).toBe(0x2008_0004);

    // 6. Guest DDW, then MSI and the NVMe driver.
    await cfgWrite(c, dev, 4, 2, 0x142);
    await cfgWrite(c, dev, 4, 2, 0x146);
    expect(await c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 12, window_size: 2n * GiB, levels: 2 }))
      .toEqual({ start_addr: 0x800000000000000n });
    await c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, iova: 1n << 59n, vaddr: RAM, size: 16n << 20n });
    await c.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: NONE | TRIGGER, index: 0, start: 0, count: 0 });
    await c.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: EVENTFD | TRIGGER, index: 1, start: 0, count: 1, data: [24] });
    expect(await bar0Read(c, dev, 0x00) & 0xffff).toBe(0x7ff); // CAP.MQES
    expect(await bar0Read(c, dev, 0x08)).toBe(0x0001_0400); // VS 1.4
    expect(await bar0Read(c, dev, 0x1c)).toBe(0); // CSTS
    await bar0Write(c, dev, 0x24, 0x001f_001f);
    await bar0Write(c, dev, 0x28, 0x0000_0000);
    await bar0Write(c, dev, 0x2c, 0x0800_0000); // ASQ/ACQ inside the DDW window
    await bar0Write(c, dev, 0x30, 0x0010_0000);
    await bar0Write(c, dev, 0x34, 0x0800_0000);
    await bar0Write(c, dev, 0x14, 0x0046_0001);
    expect((await bar0Read(c, dev, 0x1c)) & 1).toBe(1); // CSTS.RDY
    await bar0Write(c, dev, 0x1000, 1);

    // The admin queue never completes; a raised MSI arrives as an event, before the reply.
    expect(await c.call('DEVICE_RAISE_IRQ', { fd: dev, index: 1, vector: 0 })).toEqual({ ret: 1 });
    expect(events).toEqual([{ fd: dev, index: 1, vector: 0, token: 24 }]);
    await c.end();
  });

  it('an IOMMU fault freezes the PE, the ERR eventfd fires, and the EEH recovery sequence brings it back', async () => {
    const c = await ts.connect(undefined, { name: 'eeh' });
    const events: IrqEvent[] = [];
    c.on('irq', (e) => events.push(e));
    const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
    const group = (await c.call('VFIO_GROUP_OPEN', { group: 2 })).fd;
    await c.call('VFIO_GROUP_SET_CONTAINER', { fd: group, container });
    await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
    const dev = (await c.call('VFIO_GROUP_GET_DEVICE_FD', { fd: group, name: '0000:02:00.0' })).fd;
    await c.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: EVENTFD | TRIGGER, index: 3, start: 0, count: 1, data: [7] });
    expect(await c.call('VFIO_EEH_PE_OP', { fd: container, op: 1 })).toEqual({ ret: 0 });
    await expect(c.call('IOMMU_TRANSLATE', { fd: dev, iova: 0x8000_0000n, access: 'read' })).rejects.toMatchObject({ code: 'EFAULT' });
    expect(events).toEqual([{ fd: dev, index: 3, vector: 0, token: 7 }]);
    expect(await c.call('VFIO_EEH_PE_OP', { fd: container, op: 4 })).toEqual({ ret: 2 });
    expect(await bar0Read(c, dev, 8)).toBe(0xffff_ffff);
    expect(await cfgRead(c, dev, 0x08, 4)).toBe(0xffff_ffff);
    const observer = await ts.connect(undefined, { name: 'observer' });
    const frozen = await observer.call('HOST_STATE', {});
    const pe = frozen.phbs[0]!.pes.find((p) => p.group === 2)!;
    expect(pe.eeh).toEqual({ state: 2, mmio_frozen: true, dma_frozen: true, reset: '', freezes: 1 });
    expect(pe.devices[0]!.armed).toEqual([{ index: 3, vector: 0, token: 7 }]);
    for (const op of [6, 5, 8]) expect(await c.call('VFIO_EEH_PE_OP', { fd: container, op })).toEqual({ ret: 0 });
    expect(await c.call('VFIO_EEH_PE_OP', { fd: container, op: 4 })).toEqual({ ret: 0 });
    expect(await bar0Read(c, dev, 8)).toBe(0x0001_0400);
    await c.end();
    await observer.end();
  });

  it('HOST_STATE shows a VMM\'s holdings and returns to the baseline when it disconnects', async () => {
    const observer = await ts.connect(undefined, { name: 'observer' });
    const baseline = await observer.call('HOST_STATE', {});
    const vmm = await ts.connect(undefined, { name: 'vmm' });
    const container = (await vmm.call('VFIO_OPEN_CONTAINER', {})).fd;
    const group = (await vmm.call('VFIO_GROUP_OPEN', { group: 4 })).fd;
    await vmm.call('VFIO_GROUP_SET_CONTAINER', { fd: group, container });
    await vmm.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
    await vmm.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: RAM, size: 64n << 20n });
    await vmm.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, iova: 0n, vaddr: RAM, size: 0x3000n });
    const dev = (await vmm.call('VFIO_GROUP_GET_DEVICE_FD', { fd: group, name: '0000:04:00.1' })).fd;
    await vmm.call('VFIO_DEVICE_SET_IRQS', { fd: dev, flags: EVENTFD | TRIGGER, index: 2, start: 0, count: 2, data: [5, 6] });
    const vm = (await vmm.call('KVM_CREATE_VM', {})).fd;
    const table = (await vmm.call('KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: 0x8000_0001n, page_shift: 12, offset: 0n, size: 0x8000n })).fd;
    const kvmDev = (await vmm.call('KVM_CREATE_DEVICE', { fd: vm, type: 4 })).fd!;
    await vmm.call('KVM_SET_DEVICE_ATTR', { fd: kvmDev, group: 1, attr: 1n, groupfd: group });
    await vmm.call('KVM_SET_DEVICE_ATTR', { fd: kvmDev, group: 1, attr: 3n, groupfd: group, tablefd: table });

    const st = await observer.call('HOST_STATE', {});
    const me = st.connections.find((x) => x.name === 'vmm')!;
    expect(me).toMatchObject({ transport: 'unix', handles: 6, prereg: [{ vaddr: RAM, size: 64n << 20n }] });
    expect(me.locked_bytes > 0n).toBe(true);
    const pe = st.phbs[0]!.pes.find((p) => p.group === 4)!;
    expect(pe.holder).toBe(me.id);
    const cont = st.containers.find((x) => x.id === pe.container)!;
    expect(cont).toMatchObject({ connection: me.id, fd: container, backend: 'spapr_tce_v2', groups: [4] });
    expect(cont.windows).toEqual([{ start_addr: 0n, page_shift: 12, window_size: 2n * GiB, levels: 1, mapped: 3, table_bytes: cont.windows[0]!.table_bytes }]);
    const d = pe.devices.find((x) => x.address === '0000:04:00.1')!;
    expect(d).toMatchObject({ model: 'nvme', vendor_id: 0x1b36, class_code: 0x010802, open: 1, irq_type: 'msix' });
    expect(d.armed).toEqual([{ index: 2, vector: 0, token: 5 }, { index: 2, vector: 1, token: 6 }]);
    expect(d.bars).toEqual([{ index: 0, kind: 'mem64', size: 0x4000n, addr: d.bars[0]!.addr }]);
    expect(st.vms).toEqual([{ connection: me.id, fd: vm, tables: [{ liobn: 0x8000_0001n, page_shift: 12, offset: 0n, size: 0x8000n, linked_groups: [4] }] }]);

    await vmm.end();
    let after = await observer.call('HOST_STATE', {});
    for (let i = 0; i < 100 && after.connections.length !== baseline.connections.length; i++) {
      await new Promise((r) => setTimeout(r, 10));
      after = await observer.call('HOST_STATE', {});
    }
    expect(after).toEqual(baseline);
    await observer.end();
  });
});
