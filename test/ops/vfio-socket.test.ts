/** The VFIO ops end to end over a UNIX socket with the TypeScript client: the flows a VMM runs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../clients/ts/index.js';
import type { Session } from '../../src/server/session.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MiB = 1n << 20n;
const GiB = 1n << 30n;
const UA = 0x7fff_0000_0000n;
const W1 = 1n << 59n;

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts.close();
});

/** A connected client and its server-side session (for the accounting the client cannot see). */
async function connect(): Promise<{ c: Client; session: Session }> {
  const before = new Set(ts.server.sessions);
  const c = await ts.connect();
  const session = [...ts.server.sessions].find((s) => !before.has(s));
  if (session === undefined) throw new Error('no new session');
  return { c, session };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('VFIO over a socket', () => {
  it('the v2 flow of a VMM: two groups, DDW windows of 64K and 2M pages, map, translate, unmap, teardown', async () => {
    const { c, session } = await connect();
    const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
    expect(await c.call('VFIO_GET_API_VERSION', { fd: container })).toEqual({ ret: 0 });
    expect(await c.call('VFIO_CHECK_EXTENSION', { fd: container, extension: 7 })).toEqual({ ret: 1 });
    const g1 = (await c.call('VFIO_GROUP_OPEN', { group: 1 })).fd;
    const g2 = (await c.call('VFIO_GROUP_OPEN', { group: 2 })).fd;
    expect(await c.call('VFIO_GROUP_GET_STATUS', { fd: g1 })).toEqual({ flags: 1 });
    await c.call('VFIO_GROUP_SET_CONTAINER', { fd: g1, container });
    await c.call('VFIO_GROUP_SET_CONTAINER', { fd: g2, container });
    expect(await c.call('VFIO_GROUP_GET_STATUS', { fd: g2 })).toEqual({ flags: 3 });
    await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
    expect(await c.call('VFIO_IOMMU_SPAPR_TCE_GET_INFO', { fd: container })).toEqual({
      flags: 1,
      dma32_window_start: 0,
      dma32_window_size: 0x8000_0000,
      ddw: { pgsizes: 0x4021_1000n, max_dynamic_windows_supported: 2, levels: 5 },
    });
    // hugetlbfs memory (16M pages): only that backs the 2M IOMMU pages below (K8)
    await c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: 256n * MiB, page_shift: 24 });
    await c.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n });
    const w64k = await c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: GiB, levels: 1 });
    const w2m = await c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 21, window_size: 64n * GiB, levels: 2 });
    expect([w64k.start_addr, w2m.start_addr]).toEqual([0n, W1]);
    await expect(c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: GiB, levels: 1 })).rejects.toMatchObject({
      code: 'ENOSPC',
      errno: 28,
    });

    expect(await c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: 0x10000n, size: MiB })).toEqual({ ret: 0 });
    // K7: an iova not aligned to the window page is the ioctl's 1, and maps nothing.
    expect(await c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: 0x10000n + 0x800n, size: MiB })).toEqual({ ret: 1 });
    expect(await c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 2, vaddr: UA + 16n * MiB, iova: W1, size: 4n * MiB })).toEqual({ ret: 0 });
    const dev = (await c.call('VFIO_GROUP_GET_DEVICE_FD', { fd: g2, name: '0000:02:00.0' })).fd;
    expect(await c.call('IOMMU_TRANSLATE', { fd: g1, iova: 0x2_0123n, access: 'write' })).toEqual({ addr: UA + 0x1_0123n, page_size: 0x10000n });
    expect(await c.call('IOMMU_TRANSLATE', { fd: dev, iova: W1 + 2n * MiB + 5n, access: 'read' })).toEqual({
      addr: UA + 18n * MiB + 5n,
      page_size: 2n * MiB,
    });
    // Each rejected DMA freezes the PE (EEH), as on PowerNV: UNFREEZE_DMA (3) before the next probe.
    const unfreezeDma = () => c.call('VFIO_EEH_PE_OP', { fd: container, op: 3 });
    await expect(c.call('IOMMU_TRANSLATE', { fd: dev, iova: 0x8000_0000n, access: 'read' })).rejects.toMatchObject({ code: 'EFAULT' });
    await expect(c.call('IOMMU_TRANSLATE', { fd: dev, iova: 0x4_0000_0000n, access: 'read' })).rejects.toThrow(/PE 2 is frozen \(EEH\)/);
    await unfreezeDma();
    await expect(c.call('IOMMU_TRANSLATE', { fd: dev, iova: 0x4_0000_0000n, access: 'read' })).rejects.toThrow(/no DMA window/);
    await unfreezeDma();

    expect(await c.call('VFIO_IOMMU_UNMAP_DMA', { fd: container, iova: 0x10000n + 0x800n, size: MiB })).toEqual({ ret: 1 });
    expect(await c.call('VFIO_IOMMU_UNMAP_DMA', { fd: container, iova: 0x10000n, size: MiB })).toEqual({ ret: 0 });
    await expect(c.call('IOMMU_TRANSLATE', { fd: g1, iova: 0x2_0123n, access: 'read' })).rejects.toThrow(/invalid TCE/);
    await unfreezeDma();
    // K9: UNREGISTER of memory the 2M window still maps returns 0; the region stays pinned.
    expect(await c.call('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: container, vaddr: UA, size: 256n * MiB })).toEqual({});
    await c.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: W1 });
    await expect(c.call('IOMMU_TRANSLATE', { fd: dev, iova: W1, access: 'read' })).rejects.toThrow(/no DMA window/);
    await unfreezeDma();
    await expect(c.call('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: container, vaddr: UA, size: 256n * MiB })).rejects.toMatchObject({ code: 'ENOENT' });

    const pages = session.ctx.mm.lockedPages;
    // The orphaned 256 MiB region, and the 1 GiB 64K-page window: 16384 entries = 128 KiB = 2 host pages, twice (K1)
    expect(pages).toBe(4096 + 4);
    await expect(c.call('VFIO_GROUP_UNSET_CONTAINER', { fd: g2 })).rejects.toMatchObject({ code: 'EBUSY' });
    await c.call('CLOSE', { fd: dev });
    await c.call('VFIO_GROUP_UNSET_CONTAINER', { fd: g2 });
    await c.call('VFIO_GROUP_UNSET_CONTAINER', { fd: g1 });
    expect(session.ctx.mm.lockedPages).toBe(4096); // the orphan stays until the process goes
    await expect(c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: 0n, size: MiB })).rejects.toMatchObject({ code: 'EINVAL' });
    await c.end();
  });

  it('the v1 flow: enable, map in the default window, translate, disable', async () => {
    const { c, session } = await connect();
    const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
    const g = (await c.call('VFIO_GROUP_OPEN', { group: 3 })).fd;
    await c.call('VFIO_GROUP_SET_CONTAINER', { fd: g, container });
    await c.call('VFIO_SET_IOMMU', { fd: container, type: 2 });
    expect(await c.call('VFIO_IOMMU_SPAPR_TCE_GET_INFO', { fd: container })).toEqual({ flags: 0, dma32_window_start: 0, dma32_window_size: 0x8000_0000 });
    await expect(c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: 0n, size: 4096n })).rejects.toMatchObject({ code: 'EPERM' });
    await c.call('VFIO_IOMMU_ENABLE', { fd: container });
    expect(session.ctx.mm.lockedPages).toBe(32768);
    await c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 1, vaddr: UA, iova: 0x1000n, size: 0x10000n });
    expect(await c.call('IOMMU_TRANSLATE', { fd: g, iova: 0x1ff8n, access: 'read' })).toEqual({ addr: UA + 0xff8n, page_size: 4096n });
    await expect(c.call('IOMMU_TRANSLATE', { fd: g, iova: 0x1ff8n, access: 'write' })).rejects.toThrow(/permission/);
    await expect(c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: GiB, levels: 1 })).rejects.toMatchObject({ code: 'ENOTTY' });
    await c.call('VFIO_IOMMU_DISABLE', { fd: container });
    expect(session.ctx.mm.lockedPages).toBe(128); // the default table the first MAP charged (K3)
    await expect(c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: 0n, size: 4096n })).rejects.toMatchObject({ code: 'EPERM' });
    await c.end();
  });

  it('two clients: a held group is EBUSY; after the holder disconnects it opens, its windows gone and accounting refunded', async () => {
    const a = await connect();
    const b = await connect();
    const container = (await a.c.call('VFIO_OPEN_CONTAINER', {})).fd;
    const g = (await a.c.call('VFIO_GROUP_OPEN', { group: 4 })).fd;
    await a.c.call('VFIO_GROUP_SET_CONTAINER', { fd: g, container });
    await a.c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
    await a.c.call('VFIO_GROUP_GET_DEVICE_FD', { fd: g, name: '0000:04:00.1' });
    await a.c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: 64n * MiB });
    await a.c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova: 0n, size: 64n * MiB });
    await a.c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: 1n << 40n, levels: 2 });
    expect(a.session.ctx.mm.lockedPages).toBe(1024 + 128 + 2 * 2049); // K1: tables charged twice
    const pe = ts.server.system.host.peOfGroup(4)!;
    expect(pe.windows.filter(Boolean).length).toBe(2);

    await expect(b.c.call('VFIO_GROUP_OPEN', { group: 4 })).rejects.toMatchObject({ code: 'EBUSY', errno: 16 });
    await expect(b.c.call('VFIO_GROUP_OPEN', { group: 400 })).rejects.toMatchObject({ code: 'ENOENT' });
    // b cannot reach a's container: handles are per connection.
    await expect(b.c.call('VFIO_IOMMU_SPAPR_TCE_GET_INFO', { fd: container })).rejects.toMatchObject({ code: 'EBADF' });

    await a.c.end();
    await until(() => !ts.server.sessions.has(a.session));
    expect(a.session.ctx.mm.lockedPages).toBe(0);
    expect(a.session.ctx.mm.prereg.regions).toEqual([]);
    expect(pe.windows).toEqual([undefined, undefined]);
    const g4 = (await b.c.call('VFIO_GROUP_OPEN', { group: 4 })).fd;
    expect(await b.c.call('VFIO_GROUP_GET_STATUS', { fd: g4 })).toEqual({ flags: 1 });
    await expect(b.c.call('IOMMU_TRANSLATE', { fd: g4, iova: 0n, access: 'read' })).rejects.toThrow(/no DMA window/);
    await b.c.end();
  });
});
