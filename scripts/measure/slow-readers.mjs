// 8 slow readers per transport (UNIX, TCP, WebSocket in turn): each pipelines 20 TCE_TABLE_READs
// of 2,097,148 entries (replies just under 16 MiB), never reads, and closes after 6 s. Prints the
// server's peak RSS and a bystander's PING latency for each transport.
import { connect } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Client, RssSampler, TOKEN, bystander, mib, pct, root, startServer, status } from './common.mjs';

const { encodeFrame } = await import(join(root, 'dist/src/wire/header.js'));
const { encodePayload } = await import(join(root, 'dist/src/wire/msgpack.js'));
const { OP_CODES } = await import(join(root, 'dist/src/wire/ops.generated.js'));

const ENTRIES = 2_097_148;
const f = (id, op, req) => encodeFrame({ msgId: id, command: OP_CODES[op], flags: 0, error: 0 }, encodePayload(req));
function frames() {
  const out = [
    f(1, 'VERSION', { major: 1, minor: 0, client: 'slow', token: TOKEN }),
    f(2, 'KVM_CREATE_VM', {}),
    f(3, 'KVM_CREATE_SPAPR_TCE_64', { fd: 0, liobn: 1, page_shift: 12, offset: 0, size: 1 << 21 }),
    f(4, 'H_PUT_TCE', { fd: 0, liobn: 1, ioba: 0, tce: 3 }),
  ];
  for (let i = 0; i < 20; i++) out.push(f(10 + i, 'TCE_TABLE_READ', { fd: 1, index: 0, count: ENTRIES }));
  return out;
}

async function slowStream(target) {
  const s = typeof target === 'string' ? connect(target) : connect(target.port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.pause(); // never read
  for (const fr of frames()) s.write(fr);
  return () => s.destroy();
}

async function slowWs(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('error', () => undefined);
  await new Promise((r) => ws.once('open', r));
  ws.pause(); // never read
  for (const fr of frames()) ws.send(fr);
  return () => ws.terminate();
}

const s = await startServer();
try {
  const results = [];
  {
    const by = await Client.connect(s.socket);
    const b = bystander(by, 5);
    await new Promise((r) => setTimeout(r, 4000));
    const lat = await b.stop();
    results.push({ kind: 'idle (no slow readers)', pings: lat.length, p50: +pct(lat, 50).toFixed(2), p99: +pct(lat, 99).toFixed(2), max: +Math.max(...lat).toFixed(2) });
    await by.end();
  }
  for (const kind of ['unix', 'tcp', 'ws']) {
    const by = await Client.connect(s.socket);
    const base = status(s.pid, 'VmRSS');
    const rss = new RssSampler(s.pid);
    const b = bystander(by, 5);
    const closers = await Promise.all(Array.from({ length: 8 }, () =>
      kind === 'unix' ? slowStream(s.socket) : kind === 'tcp' ? slowStream({ port: s.tcpPort }) : slowWs(s.ws)));
    await new Promise((r) => setTimeout(r, 6000));
    for (const close of closers) close();
    await new Promise((r) => setTimeout(r, 2000));
    const lat = await b.stop();
    const max = rss.stop();
    results.push({ kind, readers: 8, replyBytes: ENTRIES * 8 + 27, rssBeforeMiB: +mib(base), rssMaxMiB: +mib(max), rssAfterMiB: +mib(status(s.pid, 'VmRSS')),
      pings: lat.length, p50: +pct(lat, 50).toFixed(2), p99: +pct(lat, 99).toFixed(2), max: +Math.max(...lat).toFixed(2) });
    await by.end();
  }
  const alive = await Client.connect(s.socket).then(async (c) => { await c.ping(); await c.end(); return true; }, () => false);
  console.log(JSON.stringify({ figure: 'slow readers', results, serverAlive: alive, serverPeakRssMiB: +mib(status(s.pid, 'VmHWM')) }));
} finally {
  s.stop();
}
