// The worst pre-VERSION frame of issue 10 item 2 (a 16 MiB "VERSION" whose body would decode into
// 16M maps), sent N times on fresh connections over UNIX, TCP and WebSocket: server CPU per frame
// and RSS growth.
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { cpuMs, mib, startServer, status } from './common.mjs';

const N = Number(process.env.N ?? 200);
const head = Buffer.concat([Buffer.from('01000100000000010000000000000000', 'hex'), Buffer.from('81a178dd00ffffe8', 'hex')]);
const body = Buffer.alloc(16 * 2 ** 20 - head.length, 0x80);
const whole = process.env.BASELINE === '1'
  ? Buffer.from('01000200100000000000000000000000', 'hex') // a 16-byte PING before VERSION: the same EPROTO and close, nothing to skip
  : Buffer.concat([head, body]);

async function stream(target) {
  const s = typeof target === 'string' ? connect(target) : connect(target.port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.resume(); // read the EPROTO reply and the close
  s.write(whole); // all of it, as fast as the server takes it
  await new Promise((r) => s.once('close', r));
}

async function ws(url) {
  const w = new WebSocket(url, { perMessageDeflate: false });
  w.on('error', () => undefined);
  await new Promise((r) => w.once('open', r));
  w.send(whole);
  return new Promise((r) => w.once('close', (code) => r(code)));
}

const s = await startServer();
try {
  const out = { figure: 'pre-auth', frameBytes: whole.length, perTransport: [] };
  for (const kind of ['unix', 'tcp', 'ws']) {
    const rss0 = status(s.pid, 'VmRSS');
    const cpu0 = cpuMs(s.pid);
    const user0 = cpuMs(s.pid, 'user');
    const t0 = Date.now();
    let codes = new Set();
    for (let i = 0; i < N; i += 10) {
      const batch = Array.from({ length: Math.min(10, N - i) }, () => (kind === 'unix' ? stream(s.socket) : kind === 'tcp' ? stream({ port: s.tcpPort }) : ws(s.ws)));
      for (const c of await Promise.all(batch)) if (c !== undefined) codes.add(c);
    }
    const cpu = cpuMs(s.pid) - cpu0;
    const user = cpuMs(s.pid, 'user') - user0;
    process.stderr.write(`${kind} done\n`);
    out.perTransport.push({ kind, frames: N, wallMs: Date.now() - t0, serverCpuMsPerFrame: +(cpu / N).toFixed(3), serverUserMsPerFrame: +(user / N).toFixed(3), rssGrowthMiB: +mib(status(s.pid, 'VmRSS') - rss0), wsCloseCodes: [...codes] });
  }
  out.serverPeakRssMiB = +mib(status(s.pid, 'VmHWM'));
  console.log(JSON.stringify(out));
} finally {
  s.stop();
}
