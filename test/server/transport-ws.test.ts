/** The protocol over WebSocket: one frame per binary message. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ERRNO } from '../../src/wire/errno.js';
import { FLAG_ERROR, HEADER_SIZE, TYPE_REPLY, readHeader, type FrameHeader } from '../../src/wire/header.js';
import { decodePayload } from '../../src/wire/msgpack.js';
import { OP_CODES } from '../../src/wire/ops.generated.js';
import { frame, versionFrame } from '../helpers/raw.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ ws: true });
});
afterAll(() => ts.close());

interface Ws {
  ws: WebSocket;
  replies: { header: FrameHeader; payload: unknown }[];
  closed: Promise<number>;
  next(n: number): Promise<void>;
}

async function open(path = '', protocols?: string[]): Promise<Ws> {
  const ws = new WebSocket(`ws://${ts.ws!.host}:${ts.ws!.port}${path}`, protocols, { perMessageDeflate: false });
  const replies: Ws['replies'] = [];
  let wake = (): void => undefined;
  ws.on('message', (data: Buffer) => {
    const header = readHeader(data);
    expect(header.size).toBe(data.length);
    replies.push({ header, payload: decodePayload(data.subarray(HEADER_SIZE)) });
    wake();
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => { r(code); wake(); }));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  return {
    ws, replies, closed,
    async next(n) {
      while (replies.length < n) await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
    },
  };
}

describe('WebSocket transport', () => {
  it('handshake, PING, TOPOLOGY and unknown op over binary messages', async () => {
    const c = await open();
    c.ws.send(versionFrame(1, ts.token));
    c.ws.send(frame('PING', { data: Buffer.from('hi') }, 2));
    c.ws.send(frame('TOPOLOGY', {}, 3));
    c.ws.send(frame(0x4242, {}, 4));
    await c.next(4);
    expect(c.replies.map((r) => [r.header.msgId, r.header.flags, r.header.error])).toEqual([
      [1, TYPE_REPLY, 0], [2, TYPE_REPLY, 0], [3, TYPE_REPLY, 0], [4, TYPE_REPLY | FLAG_ERROR, ERRNO.ENOTTY],
    ]);
    expect(Buffer.from((c.replies[1]!.payload as { data: Uint8Array }).data).toString()).toBe('hi');
    const topo = c.replies[2]!.payload as { phbs: { name: string; groups: { group: number }[] }[] };
    expect(topo.phbs[0]!.name).toBe('phb0');
    expect(topo.phbs[0]!.groups.map((g) => g.group)).toEqual([1, 2, 3, 4]);
    c.ws.close();
  });

  it('an op before VERSION → EPROTO and the connection closes', async () => {
    const c = await open();
    c.ws.send(frame('TOPOLOGY', {}, 9));
    await c.next(1);
    expect(c.replies[0]!.header).toMatchObject({ msgId: 9, command: OP_CODES.TOPOLOGY, error: ERRNO.EPROTO });
    await c.closed;
  });

  it('a bad token → EACCES and the connection closes', async () => {
    const c = await open();
    c.ws.send(versionFrame(1, 'nope'));
    await c.next(1);
    expect(c.replies[0]!.header.error).toBe(ERRNO.EACCES);
    await c.closed;
  });

  it('two frames in one message close the connection with 1002 (protocol error), neither executed', async () => {
    const c = await open();
    c.ws.send(versionFrame(1, ts.token));
    await c.next(1);
    c.ws.send(Buffer.concat([frame('PING', {}, 2), frame('PING', {}, 3)]));
    expect(await c.closed).toBe(1002);
    expect(c.replies).toHaveLength(1);
  });

  it('a message shorter than a header closes with 1002', async () => {
    const c = await open();
    c.ws.send(Buffer.alloc(8));
    expect(await c.closed).toBe(1002);
  });

  it('a text message closes the connection with 1003 (unsupported data)', async () => {
    const c = await open();
    c.ws.send('hello');
    expect(await c.closed).toBe(1003);
  });

  it('serves path / only: another path is refused with 404 before the upgrade', async () => {
    await expect(open('/other')).rejects.toThrow(/Unexpected server response: 404/);
    const c = await open('/?client=x'); // a query string is fine
    c.ws.send(versionFrame(1, ts.token));
    await c.next(1);
    c.ws.close();
  });

  it('selects the subprotocol vphb when offered, and refuses offers without it (400)', async () => {
    const c = await open('/', ['other', 'vphb']);
    expect(c.ws.protocol).toBe('vphb');
    c.ws.send(versionFrame(1, ts.token));
    await c.next(1);
    expect(c.replies[0]!.header.error).toBe(0);
    c.ws.close();
    await expect(open('/', ['mqtt'])).rejects.toThrow(/Unexpected server response: 400/);
    const none = await open();
    expect(none.ws.protocol).toBe('');
    none.ws.close();
  });
});
