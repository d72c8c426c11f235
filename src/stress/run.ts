/**
 * `vphb stress`: drives a running server with many clients and checks it. Modes: `ops` (N clients
 * in this process, random valid op sequences against the reference model), `fault` (client
 * processes SIGKILLed mid-call, respawned until the kill count is reached), `fuzz` (mutated
 * frames), `all` (each for a third of the time). Afterwards every group must be free again and
 * locked memory back to its baseline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '../../clients/ts/index.js';
import { runFuzzClient } from './fuzz.js';
import { OpsLeakProbe, compareSnapshots, type LeakProbe } from './leaks.js';
import { runOpsClient } from './ops-client.js';
import { Ownership, prng } from './reference.js';
import { emptyReport, merge, type StressReport } from './report.js';

export type StressMode = 'ops' | 'fault' | 'fuzz' | 'all';

export interface StressOptions {
  /** UNIX socket path, tcp://HOST:PORT or ws://HOST:PORT (fuzz: UNIX or TCP). */
  target: string;
  token?: string | undefined;
  mode: StressMode;
  clients: number;
  seconds: number;
  /** Fault mode: SIGKILLs to deliver. */
  kills: number;
  seed: number;
  /** The server's pid, to report its RSS (same machine only). */
  serverPid?: number | undefined;
  /** Progress lines go here. */
  log?: (line: string) => void;
}

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

function fuzzTarget(t: string): string | { host: string; port: number } {
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(t);
  if (m !== null) return { host: m[1]!, port: Number(m[2]) };
  if (t.startsWith('ws://')) throw new Error('fuzz mode needs a UNIX socket or tcp:// target (frames on a byte stream)');
  return t;
}

function rssOf(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

export async function runStress(o: StressOptions): Promise<StressReport> {
  const log = o.log ?? (() => undefined);
  const connect = (): Promise<Client> => Client.connect(o.target, { name: 'vphb-stress', ...(o.token === undefined ? {} : { token: o.token }) });
  const report = emptyReport(o.mode, o.clients);
  const probe: LeakProbe = new OpsLeakProbe(connect);
  const baseline = await probe.snapshot();
  log(`baseline: ${baseline.heldGroups.length} group(s) held, ${baseline.lockableBytes} bytes lockable`);
  let rssMax = 0;
  const rssTimer = o.serverPid === undefined ? undefined : setInterval(() => {
    rssMax = Math.max(rssMax, rssOf(o.serverPid!, 'VmRSS') ?? 0);
  }, 100);
  const start = Date.now();
  const modes: Exclude<StressMode, 'all'>[] = o.mode === 'all' ? ['ops', 'fault', 'fuzz'] : [o.mode];
  const share = (o.seconds * 1000) / modes.length;
  try {
    for (const [i, mode] of modes.entries()) {
      const deadline = start + share * (i + 1);
      log(`${mode}: ${o.clients} client(s) for ${(share / 1000).toFixed(1)} s`);
      if (mode === 'ops') await opsMode(o, connect, deadline, report);
      else if (mode === 'fault') await faultMode(o, deadline, report, log);
      else await fuzzMode(o, deadline, report);
    }
  } catch (e) {
    report.examples.push(`stress run aborted: ${e instanceof Error ? e.message : String(e)}`);
    report.divergences++;
  } finally {
    if (rssTimer !== undefined) clearInterval(rssTimer);
  }
  report.seconds = (Date.now() - start) / 1000;
  if (!(await clientAlive(connect, 10_000))) {
    report.crashed = true;
    return report;
  }
  // The server releases what a client held when it notices the disconnect: give it a moment.
  for (let attempt = 0; ; attempt++) {
    const leaks = compareSnapshots(baseline, await probe.snapshot());
    if (leaks.length === 0 || attempt === 10) {
      report.leaks = leaks;
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (o.serverPid !== undefined) report.serverRssMax = Math.max(rssMax, rssOf(o.serverPid, 'VmHWM') ?? 0);
  return report;
}

/** A fresh client handshakes and PINGs within `ms`. */
async function clientAlive(connect: () => Promise<Client>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); });
  const probe = (async () => {
    const c = await connect();
    try {
      await c.ping();
      return true;
    } finally {
      await c.end().catch(() => undefined);
    }
  })().catch(() => false);
  const ok = await Promise.race([probe, timeout]);
  clearTimeout(timer);
  return ok;
}

async function opsMode(o: StressOptions, connect: () => Promise<Client>, deadline: number, report: StressReport): Promise<void> {
  const ownership = new Ownership();
  const results = await Promise.all(Array.from({ length: o.clients }, (_, id) =>
    runOpsClient({ id, connect, seed: o.seed * 7919 + id, deadline, ownership })));
  for (const r of results) merge(report, r);
}

async function fuzzMode(o: StressOptions, deadline: number, report: StressReport): Promise<void> {
  const target = fuzzTarget(o.target);
  const results = await Promise.all(Array.from({ length: o.clients }, (_, id) =>
    runFuzzClient({ target, token: o.token, seed: o.seed * 104729 + id, deadline, framesPerConnection: 50 })));
  for (const r of results) merge(report, r);
  report.crashed ||= results.some((r) => r.hangs > 0);
}

/** Keeps `clients` worker processes busy; SIGKILLs each after a random time, until `kills`. */
async function faultMode(o: StressOptions, deadline: number, report: StressReport, log: (l: string) => void): Promise<void> {
  const rnd = prng(o.seed * 31 + 1);
  let spawned = 0;
  let killed = 0;
  const running = new Set<ChildProcess>();
  const ready = new Set<ChildProcess>();
  // At the deadline, whatever still runs is killed too (counted when it was busy with calls).
  const stop = setTimeout(() => {
    for (const child of running) {
      if (ready.has(child) && killed < o.kills) killed++;
      child.kill('SIGKILL');
    }
  }, Math.max(0, deadline - Date.now()));
  await new Promise<void>((done) => {
    const launch = (): void => {
      if (killed >= o.kills || Date.now() >= deadline) {
        if (running.size === 0) done();
        return;
      }
      const args = [CLI, 'stress', '--worker', '--connect', o.target, '--seed', String(o.seed * 1000 + spawned++), '--seconds', '60'];
      if (o.token !== undefined) args.push('--token', o.token);
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      running.add(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n') && !child.killed) {
          out = '';
          ready.add(child);
          // Busy with calls from now on: kill it in the middle of one.
          setTimeout(() => {
            if (child.exitCode !== null) return;
            if (killed < o.kills && child.kill('SIGKILL')) killed++;
            else child.kill('SIGTERM');
          }, 20 + rnd() * 200);
        }
      });
      child.once('exit', (code, signal) => {
        running.delete(child);
        if (signal === null && code !== 0) {
          report.divergences++;
          report.examples.push(`worker exited with ${code ?? signal} (divergence or error in the worker)`);
        }
        launch();
      });
    };
    for (let i = 0; i < o.clients; i++) launch();
  });
  clearTimeout(stop);
  report.kills += killed;
  log(`fault: ${killed} worker(s) killed mid-call`);
}

/** The worker of fault mode: one client, random ops, no knowledge of other processes' groups. */
export async function runWorker(o: { target: string; token?: string | undefined; seed: number; seconds: number }): Promise<number> {
  const connect = (): Promise<Client> => Client.connect(o.target, { name: 'vphb-stress-worker', ...(o.token === undefined ? {} : { token: o.token }) });
  const r = await runOpsClient({
    id: o.seed, connect, seed: o.seed, deadline: Date.now() + o.seconds * 1000, ownership: undefined,
    onReady: () => process.stdout.write('ready\n'),
  });
  if (r.divergences > 0) process.stderr.write(r.examples.join('\n') + '\n');
  return r.divergences > 0 ? 1 : 0;
}
