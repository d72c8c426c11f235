/** The KVM ops end to end over a UNIX socket with the TypeScript client. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../clients/ts/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MiB = 1n << 20n;
const UA = 0x7fff_0000_0000n;
const LIOBN = 0x8000_0001n;

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts.close();
});

async function linkedVm(c: Client, groupNumber: number) {
  const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
  const group = (await c.call('VFIO_GROUP_OPEN', { group: groupNumber })).fd;
  await c.call('VFIO_GROUP_SET_CONTAINER', { fd: group, container });
  await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
  await c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: 256n * MiB });
  await c.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n });
  const bus = (await c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: 1n << 32n, levels: 2 })).start_addr;
  const vm = (await c.call('KVM_CREATE_VM', {})).fd;
  await c.call('KVM_SET_USER_MEMORY_REGION', { fd: vm, slot: 0, guest_phys_addr: 0n, memory_size: 256n * MiB, userspace_addr: UA });
  const table = (await c.call('KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: LIOBN, page_shift: 16, offset: bus >> 16n, size: 0x10000n })).fd;
  const device = (await c.call('KVM_CREATE_DEVICE', { fd: vm, type: 4 })).fd!;
  await c.call('KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 1n, groupfd: group });
  await c.call('KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 3n, groupfd: group, tablefd: table });
  return { container, group, vm, table, device, bus };
}

describe('KVM over a socket', () => {
  it('hcalls answer ret, never error frames; bad fds are error frames', async () => {
    const c = await ts.connect();
    const vm = (await c.call('KVM_CREATE_VM', {})).fd;
    expect(await c.call('KVM_CHECK_EXTENSION', { extension: 125 })).toEqual({ ret: 1 });
    expect(await c.call('H_PUT_TCE', { fd: vm, liobn: 1n, ioba: 0n, tce: 3n })).toEqual({ ret: 9999 });
    await expect(c.call('H_PUT_TCE', { fd: 42, liobn: 1n, ioba: 0n, tce: 3n })).rejects.toMatchObject({ code: 'EBADF' });
    const table = (await c.call('KVM_CREATE_SPAPR_TCE', { fd: vm, liobn: 1n, window_size: 1 << 24 })).fd;
    await expect(c.call('KVM_CREATE_SPAPR_TCE', { fd: vm, liobn: 1n, window_size: 1 << 24 })).rejects.toMatchObject({ code: 'EBUSY' });
    expect(await c.call('H_PUT_TCE', { fd: vm, liobn: 1n, ioba: 0x1000n, tce: 0n })).toEqual({ ret: 0 });
    expect(await c.call('H_GET_TCE', { fd: vm, liobn: 1n, ioba: 0x1000n })).toEqual({ ret: 0, tce: 0n });
    await c.call('CLOSE', { fd: table });
    await c.end();
  });

  it('TCE_PUT_BATCH: linked window, propagation, error frames', async () => {
    const c = await ts.connect();
    const s = await linkedVm(c, 1);
    const tces = new BigUint64Array(4096);
    for (let i = 0; i < tces.length; i++) tces[i] = (BigInt(i) << 16n) | 3n;
    expect(await c.tcePutBatch(s.vm, LIOBN, s.bus, tces)).toEqual({ ret: 0, written: 4096 });
    expect(await c.call('IOMMU_TRANSLATE', { fd: s.group, iova: s.bus + (4095n << 16n) + 8n, access: 'write' }))
      .toMatchObject({ addr: UA + (4095n << 16n) + 8n });
    const bad = new BigUint64Array([0x10003n, (300n * MiB) | 3n]);
    expect(await c.tcePutBatch(s.vm, LIOBN, s.bus, bad)).toEqual({ ret: 9999, written: 0 });
    await expect(c.tcePutBatch(s.vm, LIOBN, s.bus, bad, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(c.tcePutBatch(99, LIOBN, s.bus, bad)).rejects.toMatchObject({ code: 'EBADF' });
    const read = await c.call('TCE_TABLE_READ', { fd: s.table, index: 4095n, count: 1 });
    expect(Buffer.from(read.data).readBigUInt64LE(0)).toBe((4095n << 16n) | 3n);
    await c.end();
  });

  it('connection dropped mid-batch: everything is released', async () => {
    const c = await ts.connect();
    const s = await linkedVm(c, 2);
    const tces = new BigUint64Array(65536);
    for (let i = 0; i < tces.length; i++) tces[i] = (BigInt(i % 4096) << 16n) | 1n;
    const pending = [c.tcePutBatch(s.vm, LIOBN, s.bus, tces), c.tcePutBatch(s.vm, LIOBN, s.bus, tces)];
    c.destroy();
    await Promise.allSettled(pending);
    for (let i = 0; i < 100 && ts.server.sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ts.server.sessions.size).toBe(0);
    expect(ts.server.system.vfio.group(2).file).toBeUndefined();
    const d = await ts.connect();
    const again = await linkedVm(d, 2); // the group is free again
    expect(again.vm).toBeGreaterThanOrEqual(0);
    await d.end();
  });
});
