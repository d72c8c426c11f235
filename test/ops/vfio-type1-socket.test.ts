/**
 * Type1 over a socket: the TS client's typed methods and reply normalisation for the new
 * structures, isolation between clients, and a client process killed with SIGKILL while it holds
 * smmu groups with mappings (everything released, the groups usable by the next client).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { frame, versionFrame } from '../helpers/raw.js';

const MiB = 1n << 20n;

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts.close();
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

describe('type1 over a socket', () => {
  it('typed methods: GET_INFO ranges and capabilities as bigint, MAP, TRANSLATE, UNMAP size, TOPOLOGY smmu', async () => {
    const c = await ts.connect();
    const { fd: container } = await c.vfioOpenContainer();
    const { fd: g } = await c.vfioGroupOpen(8);
    await c.vfioGroupSetContainer({ fd: g, container });
    await c.vfioSetIommu({ fd: container, type: 3 });
    const info = await c.vfioIommuGetInfo(container);
    expect(info.iova_ranges).toEqual([
      { start: 0n, end: 0x7ff_ffffn },
      { start: 0x810_0000n, end: 0x3fff_ffffn },
      { start: 0x4010_0000n, end: 0xffff_ffff_ffffn },
    ]);
    expect(info.migration).toEqual({ flags: 0, pgsize_bitmap: 0x1_0000n, max_dirty_bitmap_size: 1n << 28n });
    expect(typeof info.iova_pgsizes).toBe('bigint');
    await c.vfioIommuMapDma({ fd: container, flags: 3, vaddr: 0x7f00_0000_0000n, iova: 0x4010_0000n, size: 2n * MiB });
    expect(await c.iommuTranslate({ fd: g, iova: 0x4010_0008n, access: 'read' })).toEqual({ addr: 0x7f00_0000_0008n, page_size: 0x1000n });
    await expect(c.vfioIommuMapDma({ fd: container, flags: 3, vaddr: 0n, iova: 0x3ff0_0000n, size: 0x11_0000n })).rejects.toMatchObject({ code: 'EINVAL', errno: 22 });
    expect(await c.vfioIommuUnmapDma({ fd: container, iova: 0x4010_0000n, size: 2n * MiB })).toEqual({ ret: 0, size: 2n * MiB });
    const topo = await c.topology();
    expect(topo.phbs.find((p) => p.name === 'smmu0')!.smmu!.groups[1]!.reserved_regions[1]).toEqual({ start: 0x4000_0000n, size: 0x10_0000n, type: 'reserved' });
    await c.end();
  });

  it('a client killed with SIGKILL while holding type1 groups and mappings leaves nothing behind', async () => {
    const frames = [
      versionFrame(1),
      frame('VFIO_OPEN_CONTAINER', {}, 2), // fd 0
      frame('VFIO_GROUP_OPEN', { group: 7 }, 3), // fd 1
      frame('VFIO_GROUP_OPEN', { group: 8 }, 4), // fd 2
      frame('VFIO_GROUP_SET_CONTAINER', { fd: 1, container: 0 }, 5),
      frame('VFIO_GROUP_SET_CONTAINER', { fd: 2, container: 0 }, 6),
      frame('VFIO_SET_IOMMU', { fd: 0, type: 3 }, 7),
      frame('VFIO_IOMMU_MAP_DMA', { fd: 0, flags: 3, vaddr: 0, iova: 0x1000_0000, size: 64 * 1024 * 1024 }, 8),
      frame('VFIO_GROUP_GET_DEVICE_FD', { fd: 1, name: '0002:01:00.0' }, 9),
    ];
    const script = `
      const s = require('net').connect(process.argv[1]);
      const want = ${frames.length};
      let buf = Buffer.alloc(0), seen = 0, errors = [];
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 16 && buf.length >= buf.readUInt32LE(4)) {
          if (buf.readUInt32LE(8) & 0x20) errors.push(buf.readUInt16LE(0) + ':' + buf.readUInt32LE(12));
          buf = buf.subarray(buf.readUInt32LE(4));
          if (++seen === want) process.send({ errors });
        }
      });
      s.on('connect', () => s.write(Buffer.from('${Buffer.concat(frames).toString('hex')}', 'hex')));
      setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script, ts.socketPath], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // never outlives a failed run
    });
    const { errors } = await new Promise<{ errors: string[] }>((resolve) => child.once('message', (m) => resolve(m as { errors: string[] })));
    expect(errors).toEqual([]);
    const session = [...ts.server.sessions].at(-1)!;
    expect(session.ctx.mm.lockedBytes).toBe(64n * MiB);
    const probe = await ts.connect();
    await expect(probe.vfioGroupOpen(7)).rejects.toMatchObject({ code: 'EBUSY' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await until(() => !ts.server.sessions.has(session));
    expect(session.ctx.mm.lockedPages).toBe(0);
    const pe = ts.server.system.host.peOfGroup(7)!;
    expect(pe.smmuDomain).toBeUndefined();
    // The next client gets both groups and a fresh, full container.
    const { fd: container } = await probe.vfioOpenContainer();
    for (const group of [7, 8]) {
      const { fd } = await probe.vfioGroupOpen(group);
      await probe.vfioGroupSetContainer({ fd, container });
    }
    await probe.vfioSetIommu({ fd: container, type: 1 });
    expect((await probe.vfioIommuGetInfo(container)).dma_avail).toBe(65535);
    await expect(probe.iommuTranslate({ fd: container + 1, iova: 0x1000_0000n, access: 'read' })).rejects.toThrow(/no mapping/);
    await probe.end();
  }, 30_000);
});
