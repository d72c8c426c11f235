/** Many clients, hostile clients and a client that never reads: the server keeps serving. */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_SIZE, encodeFrame } from '../../src/wire/header.js';
import { OP_CODES } from '../../src/wire/ops.generated.js';
import { RawConnection, frame, versionFrame } from '../helpers/raw.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(() => ts.close());

function pings(n: number, first = 1): Buffer {
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) frames.push(frame('PING', { data: Buffer.from(`${first + i}`) }, (first + i) & 0xffff));
  return Buffer.concat(frames);
}

async function healthy(): Promise<void> {
  const c = await RawConnection.open(ts.socketPath);
  c.write(Buffer.concat([versionFrame(1), frame('PING', { data: Buffer.from('alive') }, 2)]));
  const rs = await c.waitFrames(2);
  expect(rs[1]!.header.error).toBe(0);
  c.destroy();
}

describe('stress', () => {
  it('100 clients each pipelining 1,000 PINGs: every reply arrives, in order, none lost', async () => {
    const conns = await Promise.all(Array.from({ length: 100 }, () => RawConnection.open(ts.socketPath)));
    for (const c of conns) c.write(Buffer.concat([versionFrame(0), pings(1000)]));
    const all = await Promise.all(conns.map((c) => c.waitFrames(1001, 60_000)));
    for (const rs of all) {
      expect(rs).toHaveLength(1001);
      const ids = rs.slice(1).map((r) => r.header.msgId);
      expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      expect(rs.every((r) => r.header.error === 0)).toBe(true);
      expect(Buffer.from((rs[1000]!.payload as { data: Uint8Array }).data).toString()).toBe('1000');
    }
    for (const c of conns) c.destroy();
  }, 90_000);

  it('garbage and mid-frame disconnects do not disturb other clients', async () => {
    const steady = await RawConnection.open(ts.socketPath);
    steady.write(versionFrame(1));
    await steady.waitFrames(1);

    const garbage = await RawConnection.open(ts.socketPath);
    garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const noise = Buffer.alloc(4096);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 131 + 7) & 0xff;
    garbage.write(noise);

    const midFrame = await RawConnection.open(ts.socketPath);
    const f = frame('PING', { data: Buffer.alloc(1000) }, 2);
    midFrame.write(Buffer.concat([versionFrame(1), f.subarray(0, HEADER_SIZE + 10)]));
    await midFrame.waitFrames(1);
    midFrame.destroy();

    const midHeader = await RawConnection.open(ts.socketPath);
    midHeader.write(versionFrame(1).subarray(0, 7));
    midHeader.destroy();

    steady.write(pings(50, 2));
    const rs = await steady.waitFrames(51);
    expect(rs.slice(1).map((r) => r.header.msgId)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    // HTTP text read as a header announces a huge frame before any VERSION: EPROTO and close.
    await garbage.waitClosed();
    expect(garbage.frames[0]!.header.error).toBe(71);
    steady.destroy();
    await healthy();
  });

  it('a client that never reads makes the server stop reading from it; memory stays bounded', async () => {
    // The greedy client lives in its own process so its buffers do not count against ours.
    const vframe = versionFrame(1).toString('hex');
    const pframe = encodeFrame({ msgId: 2, command: OP_CODES.TOPOLOGY, flags: 0, error: 0 }, Buffer.alloc(0)).toString('hex');
    const script = `
      const s = require('net').connect(process.argv[1]);
      const batch = Buffer.concat(Array.from({ length: 4096 }, () => Buffer.from('${pframe}', 'hex')));
      let written = 0, stalled = false;
      s.on('connect', () => {
        s.pause(); // never read a reply
        s.write(Buffer.from('${vframe}', 'hex'));
        const pump = () => {
          while (!stalled && written < 512 * 1024 * 1024) {
            written += batch.length;
            if (!s.write(batch)) { const t = setTimeout(() => { stalled = true; process.send({ written }); }, 1500); s.once('drain', () => { clearTimeout(t); pump(); }); return; }
          }
          process.send({ written });
        };
        pump();
      });
      process.on('message', () => process.exit(0));
    `;
    const rssBefore = process.memoryUsage().rss;
    const child = spawn(process.execPath, ['-e', script, ts.socketPath], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const { written } = await new Promise<{ written: number }>((resolve) => child.once('message', (m) => resolve(m as { written: number })));
    const session = [...ts.server.sessions].find((s) => s.readPaused);
    expect(session, 'the session of the greedy client is paused').toBeDefined();
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    // Each TOPOLOGY reply is ~600 bytes: had the server kept reading, the client's 16-byte
    // commands would have produced replies far beyond these bounds.
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(rssGrowth).toBeLessThan(96 * 1024 * 1024);
    await healthy();
    child.send('exit');
    await new Promise((r) => child.once('exit', r));
  }, 30_000);
});
