/**
 * Fair scheduling (issue 10 item 3): a client pipelining maximal MAP_DMAs holds the server for a
 * slice at a time, so another client is answered while they run; the long ops stay in order and
 * whole, and a client killed in the middle of one leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame } from '../helpers/raw.js';
import { RawCaller } from '../helpers/raw-calls.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GiB = 1n << 30n;
const UA = 1n << 40n;
const MAPS = 20;

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ memlockLimit: null, serverLimits: { maxMemory: null } });
});
afterAll(() => ts.close());

/** A v2 container on `group` with 1 GiB preregistered and a 4K-page 4 GiB window; returns its fd and bus start. */
async function bigWindow(c: RawCaller, group: number): Promise<{ container: number; start: bigint }> {
  const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd as number;
  const g = (await c.call('VFIO_GROUP_OPEN', { group })).fd as number;
  await c.call('VFIO_GROUP_SET_CONTAINER', { fd: g, container });
  await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
  await c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: GiB });
  const r = await c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 12, window_size: 4n * GiB, levels: 2 });
  return { container, start: BigInt(r.start_addr as number | bigint) };
}

/** MAPS × MAP_DMA of 1 GiB (262,144 TCEs each) over the same range, as one write. */
function maps(container: number, start: bigint): Buffer {
  return Buffer.concat(Array.from({ length: MAPS }, (_, i) =>
    frame('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: start, size: GiB }, 1000 + i)));
}

describe('fairness', () => {
  it(`a bystander's PING is answered while another client's ${MAPS} pipelined 1 GiB MAP_DMAs (4K pages) still run`, async () => {
    const heavy = await RawCaller.open(ts.socketPath);
    const { container, start } = await bigWindow(heavy, 1);
    const bystander = await RawCaller.open(ts.socketPath);
    const base = heavy.conn.frames.length;
    heavy.conn.write(maps(container, start));
    await new Promise((r) => setTimeout(r, 50)); // the server is busy with the MAPs now
    await bystander.call('PING', { data: Buffer.from('x') });
    const doneWhenPinged = heavy.conn.frames.length - base;
    const rs = (await heavy.conn.waitFrames(base + MAPS, 120_000)).slice(base);
    expect(doneWhenPinged).toBeLessThan(MAPS);
    // In order, all succeeded, and the mapping is whole.
    expect(rs.map((r) => r.header.msgId)).toEqual(Array.from({ length: MAPS }, (_, i) => 1000 + i));
    expect(rs.every((r) => r.header.error === 0)).toBe(true);
    for (const off of [0n, 0x1234_5000n, GiB - 0x1000n]) {
      const t = await heavy.call('IOMMU_TRANSLATE', { fd: 1, iova: start + off, access: 'write' });
      expect(BigInt(t.addr as number | bigint)).toBe(UA + off);
    }
    // UNMAP of the whole gigabyte runs in slices too, and clears everything.
    await heavy.call('VFIO_IOMMU_UNMAP_DMA', { fd: container, iova: start, size: GiB });
    expect(await heavy.errno('IOMMU_TRANSLATE', { fd: 1, iova: start + GiB - 0x1000n, access: 'read' })).not.toBe('OK');
    expect(await heavy.errno('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: container, vaddr: UA, size: GiB })).toBe('OK');
    heavy.destroy();
    bystander.destroy();
  }, 180_000);

  it('a client that disconnects in the middle of a sliced MAP_DMA releases its group and its locked memory', async () => {
    for (let i = 0; i < 500 && ts.server.sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const before = ts.server.system.memory.lockedPages;
    const sessions = ts.server.sessions.size;
    const heavy = await RawCaller.open(ts.socketPath);
    const { container, start } = await bigWindow(heavy, 2);
    heavy.conn.write(maps(container, start));
    await new Promise((r) => setTimeout(r, 30));
    heavy.destroy();
    for (let i = 0; i < 2000 && ts.server.sessions.size > sessions; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ts.server.sessions.size).toBe(sessions);
    expect(ts.server.system.memory.lockedPages).toBe(before);
    const again = await RawCaller.open(ts.socketPath);
    expect(await again.errno('VFIO_GROUP_OPEN', { group: 2 })).toBe('OK');
    again.destroy();
  }, 60_000);

  it('H_STUFF_TCE over 4M entries runs in slices: the bystander is answered meanwhile, the whole range is stored', async () => {
    const c = await RawCaller.open(ts.socketPath);
    const vm = (await c.call('KVM_CREATE_VM', {})).fd as number;
    await c.call('KVM_ENABLE_CAP', { fd: vm, cap: 104, args: [0x138, 1] });
    await c.call('KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: 9, page_shift: 12, offset: 0, size: 1 << 22 });
    const bystander = await RawCaller.open(ts.socketPath);
    const base = c.conn.frames.length;
    const poison = 0xdead_0000n; // no permission bits: allowed, and stored in every entry
    c.conn.write(Buffer.concat(Array.from({ length: 8 }, (_, i) =>
      frame('H_STUFF_TCE', { fd: vm, liobn: 9, ioba: 0, tce_value: poison, npages: 1 << 22 }, 500 + i))));
    await new Promise((r) => setTimeout(r, 30));
    await bystander.call('PING', {});
    const doneWhenPinged = c.conn.frames.length - base;
    const rs = (await c.conn.waitFrames(base + 8, 120_000)).slice(base);
    expect(doneWhenPinged).toBeLessThan(8);
    expect(rs.map((r) => [r.header.error, (r.payload as { ret: number }).ret])).toEqual(Array(8).fill([0, 0]));
    for (const ioba of [0n, 0x1234_5000n, ((1n << 22n) - 1n) << 12n]) {
      const g = await c.call('H_GET_TCE', { fd: vm, liobn: 9, ioba });
      expect(BigInt(g.tce as number | bigint)).toBe(poison);
    }
    c.destroy();
    bystander.destroy();
  }, 180_000);

  it('commands behind a sliced op wait for it: a PING pipelined after a MAP_DMA is answered after it', async () => {
    const c = await RawCaller.open(ts.socketPath);
    const { container, start } = await bigWindow(c, 3);
    const base = c.conn.frames.length;
    c.conn.write(Buffer.concat([
      frame('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: start, size: GiB }, 7),
      frame('PING', {}, 8),
      frame('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: start + 2n * GiB, size: GiB + 0x1000n }, 9),
      frame('PING', {}, 10),
    ]));
    const rs = (await c.conn.waitFrames(base + 4, 60_000)).slice(base);
    expect(rs.map((r) => r.header.msgId)).toEqual([7, 8, 9, 10]);
    // The second MAP is refused (past the preregistered gigabyte) and changes nothing.
    expect(rs.map((r) => r.header.error !== 0)).toEqual([false, false, true, false]);
    expect(await c.errno('IOMMU_TRANSLATE', { fd: 1, iova: start + 2n * GiB, access: 'read' })).not.toBe('OK');
    c.destroy();
  }, 60_000);
});

