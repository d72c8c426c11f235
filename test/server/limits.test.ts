/**
 * Server limits (issue 10 items 2, 4-8): the pre-VERSION frame limit, the handshake timeout, the
 * connection caps, handles (EMFILE), the server-wide locked-memory cap, replies never above
 * max_frame_size.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DEFAULT_TOPOLOGY, type PeSpec, type TopologySpec } from '../../src/hw/topology.js';
import { ERRNO } from '../../src/wire/errno.js';
import { HEADER_SIZE } from '../../src/wire/header.js';
import { frame, versionFrame, RawConnection } from '../helpers/raw.js';
import { RawCaller } from '../helpers/raw-calls.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/server.js';

const MiB = 1n << 20n;
const UA = 1n << 40n;
let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});
async function start(o: TestServerOptions): Promise<TestServer> {
  ts = await startTestServer(o);
  return ts;
}

/** The frame of issue 10 item 2: a 16 MiB "VERSION" whose body would decode into 16M maps. */
function hugePreVersionHead(): Buffer {
  const h = Buffer.from('01000100000000010000000000000000', 'hex');
  return Buffer.concat([h, Buffer.from('81a178dd00ffffe8', 'hex')]);
}

describe('before VERSION', () => {
  it('a frame above the pre-VERSION limit is EPROTO and closes at once, without waiting for (or buffering) its body', async () => {
    const s = await start({});
    const c = await RawConnection.open(s.socketPath);
    c.write(hugePreVersionHead()); // 24 of its 16,777,216 bytes: the rest never comes
    const [r] = await c.waitFrames(1);
    expect(r!.header.error).toBe(ERRNO.EPROTO);
    expect((r!.payload as { message: string }).message).toMatch(/before VERSION/);
    await c.waitClosed();
  });

  it('a small VERSION still works, and after it frames up to max_frame_size are read', async () => {
    const s = await start({});
    const c = await RawConnection.open(s.socketPath);
    c.write(Buffer.concat([versionFrame(1), frame('PING', { data: Buffer.alloc(100_000) }, 2)]));
    const rs = await c.waitFrames(2);
    expect(rs.map((r) => r.header.error)).toEqual([0, 0]);
    c.destroy();
  });

  it('WebSocket: a message above the pre-VERSION limit is closed with 1009 before it is received whole', async () => {
    const s = await start({ ws: true });
    const ws = new WebSocket(`ws://${s.ws!.host}:${s.ws!.port}`, { perMessageDeflate: false });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const replies: Buffer[] = [];
    ws.on('message', (d: Buffer) => replies.push(d));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    const big = Buffer.alloc(1 << 24, 0x80);
    hugePreVersionHead().copy(big);
    ws.send(big);
    expect(await closed).toBe(1009);
    expect(replies).toHaveLength(0);
  });

  it('a connection that does not complete VERSION in time is dropped', async () => {
    const s = await start({ limits: { handshakeTimeoutMs: 200 } });
    const idle = await RawConnection.open(s.socketPath);
    const half = await RawConnection.open(s.socketPath);
    half.write(versionFrame(1).subarray(0, 10)); // half a header
    await idle.waitClosed(5000);
    await half.waitClosed(5000);
    const ok = await RawCaller.open(s.socketPath);
    await new Promise((r) => setTimeout(r, 400));
    expect(ok.conn.closed).toBe(false); // the timeout ends with the handshake
    ok.destroy();
  });
});

describe('connection caps', () => {
  it('--max-unauthenticated: one more connection before VERSION is closed at once; after VERSION the slot is free', async () => {
    const s = await start({ serverLimits: { maxUnauthenticated: 2 } });
    const a = await RawConnection.open(s.socketPath);
    const b = await RawConnection.open(s.socketPath);
    const c = await RawConnection.open(s.socketPath);
    await c.waitClosed();
    expect(c.frames).toHaveLength(0);
    a.write(versionFrame(1));
    await a.waitFrames(1);
    const d = await RawConnection.open(s.socketPath);
    d.write(versionFrame(1));
    expect((await d.waitFrames(1))[0]!.header.error).toBe(0);
    expect(b.closed).toBe(false);
    for (const x of [a, b, d]) x.destroy();
  });

  it('default limits: a burst of 100 clients connecting at once is served (none refused as unauthenticated)', async () => {
    const s = await start({});
    const conns = await Promise.all(Array.from({ length: 100 }, () => RawConnection.open(s.socketPath)));
    // Every one accepted (or refused) by the server before any VERSION is sent.
    while (s.server.unauthenticated + s.server.refused.unauthenticated + s.server.refused.connections < 100) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(s.server.refused).toEqual({ connections: 0, unauthenticated: 0 });
    conns.forEach((c, i) => c.write(versionFrame(i)));
    const replies = await Promise.all(conns.map(async (c) => (await c.waitFrames(1))[0]!.header.error));
    expect(replies).toEqual(Array(100).fill(0));
    expect(conns.some((c) => c.closed)).toBe(false);
    for (const c of conns) c.destroy();
  });

  it('--max-connections: one more connection is closed at once; a freed slot is usable again', async () => {
    const s = await start({ serverLimits: { maxConnections: 2 } });
    const a = await RawCaller.open(s.socketPath);
    const b = await RawCaller.open(s.socketPath);
    const c = await RawConnection.open(s.socketPath);
    await c.waitClosed();
    a.destroy();
    for (let i = 0; i < 100 && s.server.sessions.size > 1; i++) await new Promise((r) => setTimeout(r, 10));
    const d = await RawCaller.open(s.socketPath);
    expect(Buffer.from((await d.call('PING', { data: Buffer.from('x') })).data as Uint8Array).toString()).toBe('x');
    b.destroy();
    d.destroy();
  });
});

describe('handles', () => {
  it('--max-handles: one more handle is EMFILE; the lowest free number is reused; a group refused for EMFILE is not held', async () => {
    const s = await start({ serverLimits: { maxHandles: 4 } });
    const c = await RawCaller.open(s.socketPath);
    const fds: number[] = [];
    for (let i = 0; i < 4; i++) fds.push((await c.call('VFIO_OPEN_CONTAINER', {})).fd as number);
    expect(fds).toEqual([0, 1, 2, 3]);
    expect(await c.errno('VFIO_OPEN_CONTAINER', {})).toBe('EMFILE');
    expect(await c.errno('VFIO_GROUP_OPEN', { group: 1 })).toBe('EMFILE');
    await c.call('CLOSE', { fd: 2 });
    await c.call('CLOSE', { fd: 1 });
    expect((await c.call('VFIO_GROUP_OPEN', { group: 1 })).fd).toBe(1);
    expect((await c.call('VFIO_OPEN_CONTAINER', {})).fd).toBe(2);
    // The group refused above was not left held: another connection can take group 2.
    const other = await RawCaller.open(s.socketPath);
    expect(typeof (await other.call('VFIO_GROUP_OPEN', { group: 2 })).fd).toBe('number');
    c.destroy();
    other.destroy();
  });
});

describe('memory', () => {
  it('--max-memory caps locked memory across clients (ENOMEM), and a departing client refunds it', async () => {
    const s = await start({ serverLimits: { maxMemory: 1024n * MiB }, memlockLimit: 16n << 30n });
    async function v2(c: RawCaller, groupNumber: number): Promise<number> {
      const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd as number;
      const group = (await c.call('VFIO_GROUP_OPEN', { group: groupNumber })).fd as number;
      await c.call('VFIO_GROUP_SET_CONTAINER', { fd: group, container });
      await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
      return container;
    }
    const a = await RawCaller.open(s.socketPath);
    const b = await RawCaller.open(s.socketPath);
    const ca = await v2(a, 1);
    const cb = await v2(b, 2);
    await a.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: ca, vaddr: UA, size: 768n * MiB });
    expect(await b.errno('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: cb, vaddr: UA, size: 512n * MiB })).toBe('ENOMEM');
    expect(await b.errno('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: cb, vaddr: UA, size: 256n * MiB })).toBe('OK');
    a.destroy();
    for (let i = 0; i < 200 && s.server.sessions.size > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await b.errno('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: cb, vaddr: UA + (1n << 30n), size: 512n * MiB })).toBe('OK');
    expect(s.server.system.memory.lockedBytes).toBe(768n * MiB);
    b.destroy();
  });
});

describe('replies never above max_frame_size', () => {
  it('TCE_TABLE_READ whose reply would exceed the frame limit is EMSGSIZE; one entry less than the limit allows works', async () => {
    const s = await start({});
    const c = await RawCaller.open(s.socketPath);
    const vm = (await c.call('KVM_CREATE_VM', {})).fd as number;
    const table = (await c.call('KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: 1, page_shift: 12, offset: 0, size: 1 << 21 })).fd as number;
    expect(await c.errno('TCE_TABLE_READ', { fd: table, index: 0, count: 1 << 21 })).toBe('EMSGSIZE');
    const most = Math.floor((16 * 1024 * 1024 - HEADER_SIZE - 11) / 8);
    const r = await c.call('TCE_TABLE_READ', { fd: table, index: 0, count: most });
    expect((r.data as Uint8Array).byteLength).toBe(most * 8);
    expect(c.conn.frames.at(-1)!.header.size).toBeLessThanOrEqual(16 * 1024 * 1024);
    c.destroy();
  });

  it('a reply that would exceed max_frame_size (TOPOLOGY of a large config) is EMSGSIZE, and the connection goes on', async () => {
    const base = DEFAULT_TOPOLOGY.phbs[0]!;
    const pes: PeSpec[] = Array.from({ length: 3000 }, (_, i) => ({ pe: i, group: 100 + i, devices: [`0001:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}.0`] }));
    const topology: TopologySpec = { ...DEFAULT_TOPOLOGY, phbs: [{ ...base, pes }] };
    const s = await start({ topology, limits: { maxFrameSize: 64 * 1024 } });
    const c = await RawCaller.open(s.socketPath);
    expect(await c.errno('TOPOLOGY', {})).toBe('EMSGSIZE');
    expect(await c.errno('PING', {})).toBe('OK');
    c.destroy();
  });
});
