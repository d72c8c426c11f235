/**
 * vphb benchmark: server and clients in separate processes over UNIX sockets, each case with
 * server and client pinned to the same CPU and to different CPUs (taskset). Prints a table and
 * one JSON line. Cases:
 *  - raw-socket baseline: the same frames streamed to a bare Node server that copies them into
 *    an ArrayBuffer;
 *  - TCE_PUT_BATCH of 512 and 65,536 entries into an unlinked table and into a table linked to
 *    one hardware window, with the ratio of their bytes/s to the baseline's;
 *  - H_PUT_TCE round trips with 1 and 64 outstanding, p50/p99 latency.
 * Usage: node dist/test/bench/run.js [--duration ms]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseKind, CaseResult, ClientArgs } from './common.js';

const here = dirname(fileURLToPath(import.meta.url));
const durIdx = process.argv.indexOf('--duration');
const DURATION_MS = durIdx > 0 ? Number(process.argv[durIdx + 1]) : 1500;
const CPUS = availableParallelism();
const SERVER_CPU = 0;
const pinnings = CPUS > 1 ? [{ name: 'same CPU', client: 0 }, { name: 'different CPUs', client: 1 }] : [{ name: 'same CPU', client: 0 }];

function start(file: string, cpu: number, args: string[]): ChildProcess {
  return spawn('taskset', ['-c', String(cpu), process.execPath, join(here, file), ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function message<T>(child: ChildProcess, key: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timeout waiting for ${key}`));
    }, timeoutMs);
    child.on('message', (m: Record<string, unknown>) => {
      if (m !== null && typeof m === 'object' && key in m) {
        clearTimeout(timer);
        resolve(m[key] as T);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before ${key}`));
    });
  });
}

async function runClient(cpu: number, a: ClientArgs): Promise<CaseResult> {
  const child = start('client-proc.js', cpu, [JSON.stringify(a)]);
  return message<CaseResult>(child, 'result', a.durationMs + 20_000);
}

interface Row {
  pinning: string;
  case: string;
  kind: CaseKind;
  entries: number;
  window: number;
  r: CaseResult;
  ratio?: number;
}

const dir = mkdtempSync(join(tmpdir(), 'vphb-bench-'));
const vphbSock = join(dir, 'vphb.sock');
const rawSock = join(dir, 'raw.sock');
const server = start('server-proc.js', SERVER_CPU, [vphbSock]);
const raw = start('baseline-server.js', SERVER_CPU, [rawSock]);
const rows: Row[] = [];
try {
  await Promise.all([message(server, 'ready', 10_000), message(raw, 'ready', 10_000)]);
  for (const p of pinnings) {
    const base = new Map<number, number>();
    for (const entries of [512, 65536]) {
      const r = await runClient(p.client, { kind: 'baseline', socket: rawSock, entries, window: 1, durationMs: DURATION_MS });
      base.set(entries, r.bytesPerSec);
      rows.push({ pinning: p.name, case: `raw socket baseline, ${entries}-entry frames`, kind: 'baseline', entries, window: 1, r });
    }
    for (const kind of ['batch-unlinked', 'batch-linked'] as const) {
      for (const entries of [512, 65536]) {
        const window = entries === 512 ? 64 : 4;
        const r = await runClient(p.client, { kind, socket: vphbSock, entries, window, durationMs: DURATION_MS });
        const name = `TCE_PUT_BATCH ${entries}, ${kind === 'batch-linked' ? 'linked' : 'unlinked'}`;
        rows.push({ pinning: p.name, case: name, kind, entries, window, r, ratio: r.bytesPerSec / base.get(entries)! });
      }
    }
    for (const window of [1, 64]) {
      const r = await runClient(p.client, { kind: 'hput', socket: vphbSock, entries: 1, window, durationMs: DURATION_MS });
      rows.push({ pinning: p.name, case: `H_PUT_TCE, ${window} outstanding`, kind: 'hput', entries: 1, window, r });
    }
  }
} finally {
  server.send('stop');
  raw.send('stop');
  setTimeout(() => {
    server.kill();
    raw.kill();
  }, 2000).unref();
}
rmSync(dir, { recursive: true, force: true });

// ---- report ----------------------------------------------------------------------------------

const fmt = (n: number, unit = '') => {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G${unit}`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M${unit}`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k${unit}`;
  return `${n.toFixed(0)} ${unit}`;
};

function target(row: Row): string {
  if (row.kind === 'batch-unlinked') return row.ratio! >= 0.6 ? 'ok (≥60%)' : 'MISS (<60%)';
  if (row.kind === 'batch-linked') return row.ratio! >= 0.35 ? 'ok (≥35%)' : 'MISS (<35%)';
  if (row.kind === 'hput' && row.window === 64) return row.r.opsPerSec >= 200_000 ? 'ok (≥200k/s)' : 'MISS (<200k/s)';
  if (row.kind === 'hput' && row.window === 1 && row.pinning === 'same CPU') {
    return row.r.opsPerSec >= 55_000 ? 'ok (≥55k/s)' : 'MISS (<55k/s)';
  }
  return '';
}

const header = ['pinning', 'case', 'bytes/s', 'entries|calls/s', 'vs baseline', 'p50 µs', 'p99 µs', 'target'];
const table = rows.map((row) => [
  row.pinning,
  row.case,
  row.r.bytesPerSec > 0 ? fmt(row.r.bytesPerSec, 'B') : '',
  fmt(row.r.entriesPerSec ?? row.r.opsPerSec),
  row.ratio === undefined ? '' : `${(row.ratio * 100).toFixed(0)}%`,
  row.r.p50us === undefined ? '' : row.r.p50us.toFixed(0),
  row.r.p99us === undefined ? '' : row.r.p99us.toFixed(0),
  target(row),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(`vphb bench: ${CPUS} CPU(s), ${DURATION_MS} ms per case, Node ${process.version}`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of table) console.log(line(r));
console.log(JSON.stringify({
  bench: 'vphb',
  node: process.version,
  cpus: CPUS,
  durationMs: DURATION_MS,
  results: rows.map((row) => ({
    pinning: row.pinning, case: row.case, kind: row.kind, entries: row.entries, window: row.window,
    bytesPerSec: Math.round(row.r.bytesPerSec), perSec: Math.round(row.r.entriesPerSec ?? row.r.opsPerSec),
    ratio: row.ratio === undefined ? undefined : Number(row.ratio.toFixed(3)),
    p50us: row.r.p50us === undefined ? undefined : Number(row.r.p50us.toFixed(1)),
    p99us: row.r.p99us === undefined ? undefined : Number(row.r.p99us.toFixed(1)),
    target: target(row) || undefined,
  })),
}));
process.exit(0);
