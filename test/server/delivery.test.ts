/**
 * One re-entry-safe delivery path: a peer that pipelines thousands of commands, stops reading and
 * closes must not make the server execute them recursively (issue 10 item 1: stack overflow over
 * WebSocket), and the server releases the connection afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { frame, versionFrame, RawConnection } from '../helpers/raw.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  // One reply in flight at most: every reply pauses the session, every flush resumes it.
  ts = await startTestServer({ ws: true, tcp: true, limits: { maxInflight: 1, writeHighWater: 1 } });
});
afterAll(() => ts.close());

const N = 20_000;

function pings(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => frame('PING', { data: Buffer.from([i & 0xff]) }, i & 0xffff));
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function serverAlive(): Promise<void> {
  const c = await RawConnection.open(ts.socketPath);
  c.write(Buffer.concat([versionFrame(1), frame('PING', { data: Buffer.from('ok') }, 2)]));
  const rs = await c.waitFrames(2);
  expect(rs[1]!.header.error).toBe(0);
  c.destroy();
}

describe('delivery', () => {
  it(`WebSocket: ${N} pipelined commands, never read, then close: no re-entrant execution, connection released`, async () => {
    const before = ts.server.sessions.size;
    const ws = new WebSocket(`ws://${ts.ws!.host}:${ts.ws!.port}`, { perMessageDeflate: false });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const first = new Promise<void>((r) => ws.once('message', () => r()));
    ws.send(versionFrame(1, ts.token));
    await first;
    ws.pause(); // never read again
    for (const f of pings(N)) ws.send(f);
    await until(() => ws.bufferedAmount === 0, 'client flushed');
    ws.terminate();
    await until(() => ts.server.sessions.size === before, 'session released');
    await serverAlive();
  }, 60_000);

  it.each(['unix', 'tcp'])(`%s: ${N} pipelined commands, never read, then close: connection released`, async (kind) => {
    const before = ts.server.sessions.size;
    const c = await RawConnection.open(kind === 'unix' ? ts.socketPath : ts.tcp!);
    c.write(versionFrame(1, kind === 'tcp' ? ts.token : undefined));
    await c.waitFrames(1);
    c.socket.pause();
    c.socket.write(Buffer.concat(pings(N)));
    await new Promise((r) => setTimeout(r, 100));
    c.destroy();
    await until(() => ts.server.sessions.size === before, 'session released');
    await serverAlive();
  }, 60_000);
});
