/** The protocol over a raw UNIX/TCP byte stream: crafted frames, exact replies. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRNO } from '../../src/wire/errno.js';
import { FLAG_ERROR, HEADER_SIZE, TYPE_REPLY, encodeFrame } from '../../src/wire/header.js';
import { OP_CODES } from '../../src/wire/ops.generated.js';
import { RawConnection, frame, noReply, versionFrame } from '../helpers/raw.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { VPHB_VERSION } from '../../src/server/version.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ tcp: true, limits: { maxFrameSize: 4096 } });
});
afterAll(() => ts.close());

const targets = (): [string, string | { host: string; port: number }][] => [
  ['unix', ts.socketPath],
  ['tcp', ts.tcp!],
];

describe.each(['unix', 'tcp'] as const)('raw %s stream', (kind) => {
  const target = (): string | { host: string; port: number } => targets().find(([k]) => k === kind)![1];
  const token = kind === 'tcp' ? 'test-token' : undefined;

  it('VERSION reply carries the server version and capabilities', async () => {
    const c = await RawConnection.open(target());
    c.write(versionFrame(7, token));
    const [r] = await c.waitFrames(1);
    expect(r!.header).toMatchObject({ msgId: 7, command: OP_CODES.VERSION, flags: TYPE_REPLY, error: 0 });
    expect(r!.payload).toMatchObject({ major: 1, minor: 0, server: `vphb ${VPHB_VERSION}`, capabilities: { max_frame_size: 4096, host_page_size: 65536 } });
    const ops = (r!.payload as { capabilities: { ops: { name: string }[] } }).capabilities.ops.map((o) => o.name);
    expect(ops).toContain('PING');
    c.destroy();
  });

  it('TOPOLOGY lists the PHBs with 64-bit window starts as MessagePack integers', async () => {
    const c = await RawConnection.open(target());
    c.write(Buffer.concat([versionFrame(1, token), frame('TOPOLOGY', {}, 2)]));
    const [, r] = await c.waitFrames(2);
    expect(r!.header).toMatchObject({ msgId: 2, command: OP_CODES.TOPOLOGY, error: 0 });
    const topo = r!.payload as { host_page_shift: number; phbs: { name: string; window_starts: unknown[] }[] };
    expect(topo.host_page_shift).toBe(16);
    expect(topo.phbs.map((p) => p.name)).toEqual(['phb0', 'phb1']);
    expect(topo.phbs[0]!.window_starts).toEqual([0, 1n << 59n]);
    c.destroy();
  });

  it('a command before VERSION gets EPROTO and the connection is closed', async () => {
    const c = await RawConnection.open(target());
    c.write(frame('PING', {}, 3));
    const [r] = await c.waitFrames(1);
    expect(r!.header).toMatchObject({ msgId: 3, command: OP_CODES.PING, flags: TYPE_REPLY | FLAG_ERROR, error: ERRNO.EPROTO });
    expect(r!.payload).toMatchObject({ message: expect.stringMatching(/first command must be VERSION/) });
    await c.waitClosed();
  });

  it('unknown op → ENOTTY, malformed MessagePack → EINVAL, the stream stays usable', async () => {
    const c = await RawConnection.open(target());
    c.write(Buffer.concat([
      versionFrame(1, token),
      frame(0x7777, {}, 2),
      encodeFrame({ msgId: 3, command: OP_CODES.PING, flags: 0, error: 0 }, Buffer.from([0x81, 0xa1])),
      frame('PING', { data: 'text' }, 4),
      frame('PING', { data: Buffer.from('ok') }, 5),
    ]));
    const rs = await c.waitFrames(5);
    expect(rs.map((r) => [r.header.msgId, r.header.error])).toEqual([[1, 0], [2, ERRNO.ENOTTY], [3, ERRNO.EINVAL], [4, ERRNO.EINVAL], [5, 0]]);
    expect(rs[3]!.payload).toEqual({ message: "field 'data': expected bin, got string" });
    expect(Buffer.from((rs[4]!.payload as { data: Uint8Array }).data).toString()).toBe('ok');
    c.destroy();
  });

  it('oversize frame → EMSGSIZE, its body is skipped and the next frame is served', async () => {
    const c = await RawConnection.open(target());
    c.write(versionFrame(1, token));
    const big = frame('PING', { data: Buffer.alloc(5000, 0x41) }, 2);
    c.write(big.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 20));
    c.write(Buffer.concat([big.subarray(100), frame('PING', { data: Buffer.from('after') }, 3)]));
    const rs = await c.waitFrames(3);
    expect(rs[1]!.header).toMatchObject({ msgId: 2, error: ERRNO.EMSGSIZE, flags: TYPE_REPLY | FLAG_ERROR });
    expect(rs[2]!.header).toMatchObject({ msgId: 3, error: 0 });
    c.destroy();
  });

  it('size < 16 closes the connection (no resync possible)', async () => {
    const c = await RawConnection.open(target());
    c.write(versionFrame(1, token));
    await c.waitFrames(1);
    const bad = Buffer.alloc(HEADER_SIZE);
    bad.writeUInt32LE(8, 4);
    c.write(bad);
    await c.waitClosed();
  });

  it('no_reply is honoured, in order, and an error on it is silent', async () => {
    const c = await RawConnection.open(target());
    c.write(Buffer.concat([versionFrame(1, token), frame('PING', {}, 2, noReply), frame('CLOSE', { fd: 9 }, 3, noReply), frame('PING', {}, 4)]));
    const rs = await c.waitFrames(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.frames.map((r) => r.header.msgId)).toEqual([1, 4]);
    expect(rs[1]!.header.error).toBe(0);
    c.destroy();
  });

  it('a reused msg_id is answered in order each time', async () => {
    const c = await RawConnection.open(target());
    c.write(Buffer.concat([versionFrame(1, token), frame('PING', { data: Buffer.from('a') }, 9), frame('PING', { data: Buffer.from('b') }, 9)]));
    const rs = await c.waitFrames(3);
    expect(rs.slice(1).map((r) => Buffer.from((r.payload as { data: Uint8Array }).data).toString())).toEqual(['a', 'b']);
    c.destroy();
  });

  it('a second VERSION is EINVAL', async () => {
    const c = await RawConnection.open(target());
    c.write(Buffer.concat([versionFrame(1, token), versionFrame(2, token)]));
    const rs = await c.waitFrames(2);
    expect(rs[1]!.header.error).toBe(ERRNO.EINVAL);
    c.destroy();
  });

  it('VERSION with another major → EPROTO and close', async () => {
    const c = await RawConnection.open(target());
    c.write(frame('VERSION', { major: 2, minor: 0, client: 'x', ...(token === undefined ? {} : { token }) }, 1));
    const [r] = await c.waitFrames(1);
    expect(r!.header.error).toBe(ERRNO.EPROTO);
    await c.waitClosed();
  });
});

describe('TCP token', () => {
  it.each([[undefined, 'token required on this transport'], ['wrong', 'bad token']])('token %j → EACCES and close', async (token, msg) => {
    const c = await RawConnection.open(ts.tcp!);
    c.write(versionFrame(1, token));
    const [r] = await c.waitFrames(1);
    expect(r!.header.error).toBe(ERRNO.EACCES);
    expect(r!.payload).toEqual({ message: msg });
    await c.waitClosed();
  });

  it('UNIX needs no token (file permissions guard it)', async () => {
    const c = await RawConnection.open(ts.socketPath);
    c.write(versionFrame(1));
    const [r] = await c.waitFrames(1);
    expect(r!.header.error).toBe(0);
    c.destroy();
  });
});
