// Helpers of the issue-10 measurement scripts: a server process of its own, /proc sampling, pings.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const root = new URL('../../', import.meta.url).pathname;
export const cli = join(root, 'dist/src/cli.js');
export const { Client } = await import(join(root, 'dist/clients/ts/index.js'));
export const TOKEN = 'measure';

/** Starts `vphb serve` with UNIX, TCP and WebSocket listeners; resolves its pid and targets. */
export async function startServer(extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vphb-measure-'));
  const socket = join(dir, 's.sock');
  const tcpPort = 20000 + Math.floor(Math.random() * 20000);
  const wsPort = tcpPort + 1;
  // MEASURE_NICE=-10 runs the server (and, via the caller, the bystander) ahead of the other
  // processes of a shared machine, to see the server's own latency rather than the machine's.
  const nice = process.env.MEASURE_NICE;
  const argv0 = nice === undefined ? process.execPath : 'nice';
  const pre = nice === undefined ? [] : ['-n', nice, process.execPath];
  const p = spawn(argv0, [...pre, cli, 'serve', '--socket', socket, '--tcp', `127.0.0.1:${tcpPort}`, '--ws', `127.0.0.1:${wsPort}`,
    '--token', TOKEN, '--log-level', 'error', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let banner = '';
  await new Promise((resolve, reject) => {
    p.stderr.on('data', (d) => { banner += d; if (banner.includes('emulating')) resolve(); });
    p.once('exit', (c) => reject(new Error(`server exited ${c}: ${banner}`)));
  });
  return { proc: p, pid: p.pid, socket, tcp: `tcp://127.0.0.1:${tcpPort}`, ws: `ws://127.0.0.1:${wsPort}`, tcpPort, wsPort, stop: () => p.kill('SIGKILL') };
}

export function status(pid, field) {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** utime + stime of a process in ms (`which`: 'user', 'system' or both). */
export function cpuMs(pid, which = 'both') {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const user = Number(f[11]);
  const sys = Number(f[12]);
  return ((which === 'user' ? user : which === 'system' ? sys : user + sys) * 1000) / 100; // USER_HZ 100
}

export class RssSampler {
  max = 0;
  constructor(pid) { this.t = setInterval(() => { this.max = Math.max(this.max, status(pid, 'VmRSS')); }, 20); }
  stop() { clearInterval(this.t); return this.max; }
}

/** A bystander: one PING outstanding at a time, every `gapMs`, until stop(); latencies in ms. */
export function bystander(client, gapMs = 5) {
  const lat = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      await client.ping();
      lat.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  })();
  return { async stop() { running = false; await done; return lat; } };
}

export function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export const mib = (b) => (b / 2 ** 20).toFixed(0);
