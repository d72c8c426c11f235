import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client, VphbError } from '../../clients/ts/index.js';
import { FAKE_INFO, FakeConn, startFakeServer, type FakeServer, type FrameHandler, type Received } from './fake-server.js';

interface Vector { name: string; hex: string; header: { msg_id: number } }
const vectors = JSON.parse(readFileSync(new URL('../../protocol/vectors/vectors.json', import.meta.url), 'utf8')) as Vector[];
const vec = (name: string): Vector => vectors.find((v) => v.name === name)!;
const vecBytes = (name: string): Buffer => Buffer.from(vec(name).hex, 'hex');

let fake: FakeServer | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await fake?.close();
  fake = undefined;
});

async function setup(handler: FrameHandler, version?: (r: Received, c: FakeConn) => void): Promise<{ client: Client; conn: FakeConn }> {
  fake = await startFakeServer(handler, version === undefined ? {} : { version });
  const client = await Client.connect(`unix:${fake.path}`, { name: 'vphb-ts', token: 's3cret' });
  clients.push(client);
  return { client, conn: fake.conns[0]! };
}

async function rejection(p: Promise<unknown>): Promise<VphbError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(VphbError);
    return e as VphbError;
  }
  throw new Error('expected a rejection');
}

const ping = (r: Received, c: FakeConn): void => c.reply(r.header, FakeConn.body(r));

describe('Client handshake', () => {
  it('sends VERSION first, byte for byte as the vector, and exposes serverInfo', async () => {
    const { client, conn } = await setup(ping);
    expect(conn.frames[0]!.bytes.toString('hex')).toBe(vec('version-request').hex);
    expect(client.serverInfo).toEqual(FAKE_INFO);
    expect(client.transport).toBe('unix');
  });

  it('rejects connect with the VphbError of an error reply', async () => {
    fake = await startFakeServer(ping, { version: (r, c) => c.error(r.header, 71, 'unsupported major 1') });
    const err = await rejection(Client.connect(fake.path));
    expect([err.errno, err.code, err.message]).toEqual([71, 'EPROTO', 'unsupported major 1']);
  });

  it('rejects connect with ETIMEDOUT when no VERSION reply comes', async () => {
    fake = await startFakeServer(ping, { version: () => {} });
    const err = await rejection(Client.connect(fake.path, { timeoutMs: 50 }));
    expect(err.code).toBe('ETIMEDOUT');
  });

  it('rejects connect with the socket error when nothing listens', async () => {
    await expect(Client.connect('/nonexistent/vphb.sock')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('Client calls', () => {
  it('matches out-of-order replies by msg_id and coalesces a burst into one write', async () => {
    const held: Received[] = [];
    const { client, conn } = await setup((r, c) => {
      held.push(r);
      if (held.length === 3) for (const x of held.reverse()) c.reply(x.header, { ret: 0, tce: (FakeConn.body(x)['ioba'] as number) + 1 });
    });
    const chunksBefore = conn.chunks.length;
    const results = await Promise.all([0x1000n, 0x2000n, 0x3000n].map((ioba) => client.hGetTce({ fd: 5, liobn: 1n, ioba })));
    expect(results).toEqual([{ ret: 0, tce: 0x1001n }, { ret: 0, tce: 0x2001n }, { ret: 0, tce: 0x3001n }]);
    expect(held.map((r) => r.header.msgId)).toEqual([3, 2, 1]); // answered in reverse
    expect(conn.chunks.length - chunksBefore).toBe(1); // three frames, one write
  });

  it('delivers server-initiated frames as events, apart from replies even with the same msg_id', async () => {
    const { client } = await setup((r, c) => {
      const event = Buffer.from(vecBytes('server-command-irq-event'));
      event.writeUInt16LE(r.header.msgId, 0); // the server's ids are its own: a clash must not matter
      c.socket.write(event);
      const noFlag = Buffer.from(event);
      noFlag.writeUInt32LE(0, 8); // a command without no_reply is not a valid event: ignored
      c.socket.write(noFlag);
      const unknown = Buffer.from(event);
      unknown.writeUInt16LE(1030, 2); // an event this client does not know: ignored
      c.socket.write(unknown);
      c.reply(r.header, FakeConn.body(r));
    });
    const seen: unknown[] = [];
    const listener = (e: unknown): void => {
      seen.push(e);
    };
    client.on('irq', listener);
    expect(Buffer.from((await client.ping(Buffer.from('a'))).data!).toString()).toBe('a');
    expect(seen).toEqual([{ fd: 3, index: 1, vector: 0, token: 24 }]);
    client.off('irq', listener);
    await client.ping(Buffer.from('b'));
    expect(seen.length).toBe(1);
  });

  it('turns an error reply into VphbError(errno, message)', async () => {
    const { client } = await setup((r, c) => {
      if (r.header.command === 272) c.error(r.header, 22, 'page_shift 13 is not a supported IOMMU page size');
      else c.error(r.header, 25);
    });
    const e1 = await rejection(client.vfioIommuSpaprTceCreate({ fd: 3, page_shift: 13, window_size: 1n << 30n, levels: 1 }));
    expect([e1.errno, e1.code, e1.message]).toEqual([22, 'EINVAL', 'page_shift 13 is not a supported IOMMU page size']);
    const e2 = await rejection(client.vfioGetApiVersion(4));
    expect([e2.errno, e2.code, e2.message]).toEqual([25, 'ENOTTY', 'VFIO_GET_API_VERSION: ENOTTY']);
  });

  it('normalises u64 reply fields to bigint and 32-bit ones to number, nested structs included', async () => {
    const { client } = await setup((r, c) => {
      switch (r.header.command) {
        case 523: return c.reply(r.header, { ret: 0, tce: 5 }); // fixint on the wire
        case 274: return c.reply(r.header, { addr: 2n ** 63n + 7n, page_size: 65536 });
        case 265: return c.reply(r.header, { flags: 1, dma32_window_start: 0, dma32_window_size: 0x4000_0000, ddw: { pgsizes: 0x1011000, max_dynamic_windows_supported: 1, levels: 5 } });
        case 3: return c.reply(r.header, {
          host_page_shift: 16,
          phbs: [{ index: 0, kind: 'spapr', name: 'phb0', model: 'PHB4', page_shifts: [12, 16], max_levels: 5,
            window_starts: [0, 2n ** 59n], max_dynamic_windows: 1,
            dma32_window: { start: 0, size: 0x4000_0000 }, mmio32: { start: 0x8000_0000, size: 0x8000_0000 },
            msi: { start: 2n ** 32n, size: 0x10000 }, groups: [{ group: 0, pe: 0, devices: ['0000:00:00.0'] }] }],
        });
        default: return c.reply(r.header, { ret: 'not a number' });
      }
    });
    const g = await client.hGetTce({ fd: 5, liobn: 1n, ioba: 0n });
    expect(g).toEqual({ ret: 0, tce: 5n });
    expect(typeof g.tce).toBe('bigint');
    expect(await client.iommuTranslate({ fd: 3, iova: 0n, access: 'read' })).toEqual({ addr: 2n ** 63n + 7n, page_size: 65536n });
    const info = await client.vfioIommuSpaprTceGetInfo(3);
    expect(info.ddw).toEqual({ pgsizes: 0x1011000n, max_dynamic_windows_supported: 1, levels: 5 });
    expect(info.dma32_window_size).toBe(0x4000_0000);
    const topo = await client.topology();
    const phb = topo.phbs[0]!;
    expect(phb.window_starts).toEqual([0n, 2n ** 59n]);
    expect(phb.dma32_window).toEqual({ start: 0n, size: 0x4000_0000n });
    expect(phb.msi).toEqual({ start: 2n ** 32n, size: 0x10000n });
    expect(phb.page_shifts).toEqual([12, 16]);
    // A reply of the wrong shape is a protocol error, not a silently wrong value.
    const err = await rejection(client.call('H_PUT_TCE', { fd: 5, liobn: 1n, ioba: 0n, tce: 0n }));
    expect(err.code).toBe('EPROTO');
    expect(err.message).toMatch(/^reply field H_PUT_TCE\.ret: expected s32/);
  });

  it('wraps msg_id past 65535, skipping ids still in flight', async () => {
    const heldFrames: Received[] = [];
    const seen: number[] = [];
    const { client, conn } = await setup((r, c) => {
      seen.push(r.header.msgId);
      if (seen.length <= 3) heldFrames.push(r);
      else if (!(r.header.flags & 0x10)) ping(r, c);
    });
    const held = [1, 2, 3].map((i) => client.ping(new Uint8Array([0xa0 + i])));
    // Ids 4..65533 go to no_reply commands (cheap: nothing comes back), in pipelined batches.
    for (let done = 0; done < 65530; done += 8192) {
      const n = Math.min(8192, 65530 - done);
      await Promise.all(Array.from({ length: n }, () => client.call('PING', {}, { noReply: true })));
    }
    // The counter passes 65535, comes back to 0, skips 1, 2, 3 (in flight) and goes on at 4.
    const replies = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => client.ping(new Uint8Array([i]))));
    expect(replies.map((r) => r.data![0])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(seen.length).toBe(3 + 65530 + 6);
    expect(seen.slice(-7)).toEqual([65533, 65534, 65535, 0, 4, 5, 6]);
    expect(conn.frames.at(-1)!.header.flags).toBe(0); // the last ones expect replies
    expect(client.inflight).toBe(3);
    // The held calls still get their own replies.
    for (const r of heldFrames) ping(r, conn);
    expect((await Promise.all(held)).map((r) => r.data![0])).toEqual([0xa1, 0xa2, 0xa3]);
  });

  it('rejects calls in flight with ECONNRESET when the connection drops, then ENOTCONN', async () => {
    const { client, conn } = await setup((_r, c) => {
      if (conn.frames.length === 3) c.socket.destroy();
    });
    const calls = [client.ping(), client.topology()];
    const errs = await Promise.all(calls.map(rejection));
    expect(errs.map((e) => [e.errno, e.code])).toEqual([[104, 'ECONNRESET'], [104, 'ECONNRESET']]);
    expect(errs[0]!.message).toBe('PING: connection closed before the reply');
    await client.closed;
    const late = await rejection(client.ping());
    expect(late.code).toBe('ENOTCONN');
  });

  it('end() lets calls in flight settle, then closes', async () => {
    const held: Received[] = [];
    const { client, conn } = await setup((r) => held.push(r));
    conn.endOnPeerEnd = false;
    const p = client.ping(new Uint8Array([7]));
    const ended = client.end();
    expect((await rejection(client.ping())).code).toBe('ENOTCONN');
    await new Promise<void>((resolve) => conn.socket.once('end', resolve)); // the client half-closed
    ping(held[0]!, conn);
    conn.socket.end();
    expect((await p).data).toEqual(Buffer.from([7]));
    await ended;
  });

  it('rejects a reply larger than maxFrameSize with EMSGSIZE and keeps the stream in sync', async () => {
    fake = await startFakeServer((r, c) => c.reply(r.header, { data: new Uint8Array(FakeConn.body(r)['data'] ? 200 : 1) }));
    const client = await Client.connect(fake.path, { maxFrameSize: 128 });
    clients.push(client);
    const [big, small] = await Promise.allSettled([client.ping(new Uint8Array(1)), client.ping()]);
    expect(big.status === 'rejected' && (big.reason as VphbError).code).toBe('EMSGSIZE');
    expect(small).toEqual({ status: 'fulfilled', value: { data: Buffer.alloc(1) } });
  });

  it('rejects with ETIMEDOUT after timeoutMs and does not reuse the id until the late reply', async () => {
    const late: Received[] = [];
    const { client } = await setup((r, c) => {
      if (late.length === 0) late.push(r);
      else ping(r, c);
    });
    const err = await rejection(client.ping(new Uint8Array([1]), { timeoutMs: 20 }));
    expect(err.code).toBe('ETIMEDOUT');
    expect(client.inflight).toBe(1); // id 1 still reserved
    fake!.conns[0]!.reply(late[0]!.header, { data: new Uint8Array([0xee]) });
    expect((await client.ping(new Uint8Array([2]))).data).toEqual(Buffer.from([2]));
    expect(client.inflight).toBe(0);
  });

  it('refuses frames beyond the server max_frame_size without sending them', async () => {
    const { client, conn } = await setup(ping);
    const err = await rejection(client.ping(new Uint8Array(1 << 20)));
    expect(err.code).toBe('EMSGSIZE');
    expect(conn.frames).toHaveLength(1); // VERSION only
  });
});

describe('Client bytes on the wire match the vectors', () => {
  it('sends the command vectors exactly and decodes the reply vectors', async () => {
    const replies = new Map<number, string>([
      [1, 'ping-reply'], [4, 'error-reply-enotty-header-only'], [5, 'error-reply-einval'],
      [7, 'vfio-iommu-spapr-tce-create-reply'], [8, 'h-get-tce-reply'], [9, 'tce-put-batch-reply'],
    ]);
    const { client, conn } = await setup((r, c) => {
      const name = replies.get(r.header.msgId);
      if (name !== undefined) c.socket.write(vecBytes(name));
      else if (!(r.header.flags & 0x10)) c.reply(r.header, r.header.command === 2 ? {} : { fd: 1 });
    });
    const results = await Promise.allSettled([
      client.ping(new Uint8Array([1, 2, 3])), // 1
      client.topology().catch(() => undefined), // 2 (reply is not a valid topology: ignored)
      client.ping(), // 3
      client.vfioGetApiVersion(3), // 4
      client.vfioIommuSpaprTceCreate({ fd: 3, page_shift: 13, window_size: 1n << 30n, levels: 1 }), // 5
      client.vfioIommuMapDma({ fd: 3, flags: 3, vaddr: 0x8000000012340000n, iova: 0x800000000000000n, size: 0x100000000n }), // 6
      client.vfioIommuSpaprTceCreate({ fd: 3, page_shift: 16, window_size: 1n << 40n, levels: 2 }), // 7
      client.hGetTce({ fd: 5, liobn: 0x80000001n, ioba: 0x10000n }), // 8
      client.tcePutBatch(4, 0x80000001n, 0x800000000000000n, new BigUint64Array([0x12340003n, 0x12350001n, 0x8000000000001002n])), // 9
      client.call('CLOSE', { fd: 5 }, { noReply: true }), // 10
    ]);
    const sent = new Map(conn.frames.map((f) => [f.header.msgId, f.bytes.toString('hex')]));
    for (const name of ['ping-request', 'topology-request', 'vfio-iommu-map-dma-request', 'h-get-tce-request', 'tce-put-batch-request', 'close-no-reply']) {
      expect(sent.get(vec(name).header.msg_id), name).toBe(vec(name).hex);
    }
    const value = (i: number): unknown => (results[i]!.status === 'fulfilled' ? (results[i] as PromiseFulfilledResult<unknown>).value : (results[i] as PromiseRejectedResult).reason);
    expect(value(0)).toEqual({ data: Buffer.from([1, 2, 3]) });
    expect(value(3)).toMatchObject({ errno: 25, code: 'ENOTTY' });
    expect(value(4)).toMatchObject({ errno: 22, message: 'page_shift 13 is not a supported IOMMU page size' });
    expect(value(6)).toEqual({ start_addr: 0x800000000000000n });
    expect(value(7)).toEqual({ ret: 0, tce: 0x2012340003n });
    expect(value(8)).toEqual({ ret: 0, written: 3 });
    expect(value(9)).toBeUndefined();
  });

  it('tcePutBatch accepts little-endian bytes and checks its arguments', async () => {
    const { client, conn } = await setup((r, c) => c.reply(r.header, { ret: 0, written: (r.payload.byteLength - 32) / 8 }));
    const entries = Buffer.from('0300341200000000', 'hex');
    expect(await client.tcePutBatch(7, 0x1234n, 0n, entries, 1)).toEqual({ ret: 0, written: 1 });
    const raw = Buffer.concat(conn.chunks); // exactly what the socket delivered
    expect(raw.subarray(vecBytes('version-request').length).toString('hex')).toBe(
      '01000e02' + '38000000' + '00000000' + '00000000' // header: id 1, cmd 526, size 56
      + '07000000' + '01000000' + '3412000000000000' + '0000000000000000' + '01000000' + '00000000' // fixed part
      + '0300341200000000',
    );
    expect((await rejection(client.tcePutBatch(7, 0n, 0n, new Uint8Array(12)))).code).toBe('EINVAL');
    expect((await rejection(client.tcePutBatch(7, 1n << 64n, 0n, new Uint8Array(8)))).code).toBe('EINVAL');
    expect((await rejection(client.tcePutBatch(-1, 0n, 0n, new Uint8Array(8)))).code).toBe('EINVAL');
  });

  it('tcePutBatch writes the 48-byte head and then a view of the caller\'s entries, not a copy', async () => {
    const { client } = await setup((r, c) => c.reply(r.header, { ret: 0, written: (r.payload.byteLength - 32) / 8 }));
    const tces = new BigUint64Array(8192).fill(0x12340003n); // 64 KiB of entries
    const write = vi.spyOn(Socket.prototype, 'write');
    try {
      expect(await client.tcePutBatch(4, 1n, 0n, tces)).toEqual({ ret: 0, written: 8192 });
      const chunks = write.mock.calls.map((c) => c[0] as Uint8Array).filter((b) => b.byteLength > 0);
      expect(chunks.map((b) => b.byteLength).slice(0, 2)).toEqual([48, 65536]);
      expect(chunks[1]!.buffer).toBe(tces.buffer);
    } finally {
      write.mockRestore();
    }
  });
});
