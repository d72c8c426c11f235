/**
 * vphb benchmark: the server, its peers and the clients in separate processes over UNIX sockets,
 * each case with the server (or peer) pinned to CPU 0 and the client to CPU 0 ("same CPU") or
 * CPU 1 ("different CPUs"), with taskset. Peers measured in the same run, pinned the same way:
 *  - Node bulk: a `net` server that reads and drops, fed 64 KiB writes (the reference of batches);
 *  - C bulk: the same with a C sender and receiver (test/bench/bulk.c, built here with cc;
 *    skipped with a note when there is no C compiler);
 *  - the old copy-into-memory baseline (a Node server copying every byte into an ArrayBuffer);
 *  - Node echo: ping-pong of 64-byte messages, 1 and 64 outstanding (the reference of small calls).
 * vphb cases: TCE_PUT_BATCH 512 / 65,536 entries, unlinked and linked; H_PUT_TCE through the TS
 * client's promise API and its pipelined hcall channel, 1 and 64 outstanding; 64 connections
 * (4 processes × 16, 8 outstanding each) against one pipelined client.
 * Every vphb row prints its ratio to Node bulk (batches) or Node echo (small calls).
 *
 * Usage: node dist/test/bench/run.js [--duration ms] [--runs n] [--only regex] [--pin same|cross]
 *                                    [--out file] [--prof dir]
 * --only keeps the cases whose id matches (and the references they are compared with).
 * --runs repeats the whole set (interleaved, so each run's ratios come from one window) and
 * prints min/median/max; --prof writes V8 CPU profiles of the server and clients to dir.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { histQuantile, type CaseResult, type ClientArgs } from './common.js';

const here = dirname(fileURLToPath(import.meta.url));
function opt(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const DURATION_MS = Number(opt('--duration') ?? 1500);
const RUNS = Number(opt('--runs') ?? 1);
const ONLY = opt('--only') === undefined ? undefined : new RegExp(opt('--only')!, 'i');
const OUT = resolve(opt('--out') ?? 'bench-result.json');
const PROF = opt('--prof') === undefined ? undefined : resolve(opt('--prof')!);
const CPUS = availableParallelism();
const SERVER_CPU = 0;
const PIN = opt('--pin'); // same | cross: only that pinning
const pinnings = (CPUS > 1 ? [{ name: 'same CPU', client: 0 }, { name: 'different CPUs', client: 1 }] : [{ name: 'same CPU', client: 0 }])
  .filter((p) => PIN === undefined || (PIN === 'same') === (p.client === 0));
const ECHO_BYTES = 64;

function nodeArgs(file: string, tag: string): string[] {
  const prof = PROF === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(PROF, tag)];
  return [...prof, join(here, file)];
}

function start(file: string, cpu: number, args: string[], tag: string): ChildProcess {
  return spawn('taskset', ['-c', String(cpu), process.execPath, ...nodeArgs(file, tag), ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function message<T>(child: ChildProcess, key: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timeout waiting for ${key}`));
    }, timeoutMs);
    const onMessage = (m: Record<string, unknown>) => {
      if (m !== null && typeof m === 'object' && key in m) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m[key] as T);
      }
    };
    child.on('message', onMessage);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before ${key}`));
    });
  });
}

const DEFAULTS = { entries: 0, writeSize: 0, msgBytes: 0, window: 1, connections: 1, api: 'promise' as const };

/** Runs `procs` client processes of one case together (all set up, then `go` to all). */
async function runClients(cpu: number, a: ClientArgs, procs = 1): Promise<CaseResult> {
  const children = Array.from({ length: procs }, () => start('client-proc.js', cpu, [JSON.stringify(a)], `client-${a.kind}`));
  const results = children.map((c) => message<CaseResult>(c, 'result', a.durationMs + 60_000));
  if (a.kind === 'hput') {
    await Promise.all(children.map((c) => message(c, 'ready', 60_000)));
    for (const c of children) c.send('go');
  }
  const rs = await Promise.all(results);
  const out: CaseResult = { bytesPerSec: 0, opsPerSec: 0 };
  for (const r of rs) {
    out.bytesPerSec += r.bytesPerSec;
    out.opsPerSec += r.opsPerSec;
    if (r.entriesPerSec !== undefined) out.entriesPerSec = (out.entriesPerSec ?? 0) + r.entriesPerSec;
    if (r.totalBytes !== undefined) out.totalBytes = (out.totalBytes ?? 0) + r.totalBytes;
    if (r.totalOps !== undefined) out.totalOps = (out.totalOps ?? 0) + r.totalOps;
  }
  const hists = rs.flatMap((r) => (r.hist === undefined ? [] : [r.hist]));
  if (hists.length > 0) out.hist = hists.reduce((acc, h) => acc.map((v, i) => v + (h[i] ?? 0)));
  return out;
}

/** The C sender (prints its figure) against the C receiver. */
function runCBulk(cpu: number, bin: string, sock: string): CaseResult {
  const out = execFileSync('taskset', ['-c', String(cpu), bin, 'send', sock, String(DURATION_MS), String(64 << 10)], { encoding: 'utf8' });
  const r = JSON.parse(out.trim()) as { bytesPerSec: number };
  // The sender does not report its warm-up: count it at the measured rate.
  return { bytesPerSec: r.bytesPerSec, opsPerSec: r.bytesPerSec / (64 << 10), totalBytes: r.bytesPerSec * (DURATION_MS + 300) / 1000 };
}

type Ref = 'node-bulk' | 'c-bulk' | 'copy' | 'echo1' | 'echo64' | 'pipelined';

type Serving = 'vphb' | 'drop' | 'copy' | 'echo' | 'c';

interface CaseDef {
  id: string;
  name: string;
  /** The process serving the case, whose CPU time is measured around it. */
  serves: Serving;
  /** Peer cases are references; vphb cases get ratios. */
  ref?: Ref;
  /** Ratios printed for this row: reference → label. */
  ratios?: Ref[];
  run(pin: { client: number }): Promise<CaseResult>;
  target?: ((ratio: (r: Ref) => number | undefined, r: CaseResult) => string) | undefined;
}

// ---- setup -----------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'vphb-bench-'));
const sock = {
  vphb: join(dir, 'vphb.sock'), drop: join(dir, 'drop.sock'), copy: join(dir, 'copy.sock'),
  echo: join(dir, 'echo.sock'), c: join(dir, 'c.sock'),
};
if (PROF !== undefined) mkdirSync(PROF, { recursive: true });

let cBin: string | undefined;
let cNote = '';
try {
  cBin = join(dir, 'bulk');
  execFileSync('cc', ['-O2', '-o', cBin, join(here, '../../../test/bench/bulk.c')], { stdio: 'pipe' });
} catch (e) {
  cBin = undefined;
  cNote = `C bulk skipped: no working C compiler (cc: ${(e as Error).message.split('\n')[0]}); install one with: apt-get install gcc`;
}

const fmt = (n: number, unit = '') => {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G${unit}`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M${unit}`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k${unit}`;
  return `${n.toFixed(0)} ${unit}`;
};

const vphbArgs = (kind: ClientArgs['kind'], extra: Partial<ClientArgs>): ClientArgs => ({
  ...DEFAULTS, kind, socket: sock.vphb, durationMs: DURATION_MS, ...extra,
});

const cases: CaseDef[] = [
  { id: 'node-bulk', name: 'Node bulk receive (read and drop, 64 KiB writes)', ref: 'node-bulk', serves: 'drop',
    run: (p) => runClients(p.client, { ...DEFAULTS, kind: 'bulk', socket: sock.drop, writeSize: 64 << 10, durationMs: DURATION_MS }) },
  ...(cBin === undefined ? [] : [{ id: 'c-bulk', name: 'C bulk receive (read and drop, 64 KiB writes)', ref: 'c-bulk' as const, serves: 'c' as const,
    run: async (p: { client: number }) => runCBulk(p.client, cBin!, sock.c) }]),
  { id: 'copy', name: 'old baseline: Node copy into memory, 65536-entry frames', ref: 'copy', ratios: ['node-bulk'], serves: 'copy',
    run: (p) => runClients(p.client, { ...DEFAULTS, kind: 'bulk', socket: sock.copy, writeSize: 48 + 65536 * 8, durationMs: DURATION_MS }) },
  { id: 'echo1', name: `Node echo, ${ECHO_BYTES} B, 1 outstanding`, ref: 'echo1', serves: 'echo',
    run: (p) => runClients(p.client, { ...DEFAULTS, kind: 'echo', socket: sock.echo, msgBytes: ECHO_BYTES, window: 1, durationMs: DURATION_MS }) },
  { id: 'echo64', name: `Node echo, ${ECHO_BYTES} B, 64 outstanding`, ref: 'echo64', serves: 'echo',
    run: (p) => runClients(p.client, { ...DEFAULTS, kind: 'echo', socket: sock.echo, msgBytes: ECHO_BYTES, window: 64, durationMs: DURATION_MS }) },
  ...(['unlinked', 'linked'] as const).flatMap((link) => [512, 65536].map((entries): CaseDef => ({
    id: `batch-${link}-${entries}`,
    name: `TCE_PUT_BATCH ${entries}, ${link}`,
    serves: 'vphb',
    ratios: ['node-bulk', 'c-bulk', 'copy'],
    run: (p) => runClients(p.client, vphbArgs(link === 'linked' ? 'batch-linked' : 'batch-unlinked', { entries, window: entries === 512 ? 64 : 4 })),
    target: entries !== 65536 ? undefined : (ratio) => {
      const nb = ratio('node-bulk');
      if (link === 'linked') return nb === undefined ? '' : nb >= 0.35 ? 'ok (≥0.35× Node bulk)' : 'MISS (<0.35× Node bulk)';
      const cb = ratio('c-bulk');
      const a = nb === undefined ? '' : nb >= 0.6 ? 'ok (≥0.60× Node)' : 'MISS (<0.60× Node)';
      const b = cb === undefined ? '' : cb >= 0.35 ? 'ok (≥0.35× C)' : 'MISS (<0.35× C)';
      return [a, b].filter((x) => x !== '').join(', ');
    },
  }))),
  ...(['promise', 'fast'] as const).flatMap((api) => [1, 64].map((window): CaseDef => ({
    id: `hput-${api}-${window}`,
    name: `H_PUT_TCE, ${api === 'fast' ? 'hcall channel' : 'call()'}, ${window} outstanding`,
    serves: 'vphb',
    ...(api === 'fast' && window === 64 ? { ref: 'pipelined' as const } : {}),
    ratios: [window === 1 ? 'echo1' : 'echo64'],
    run: (p) => runClients(p.client, vphbArgs('hput', { window, api })),
    target: api !== 'fast' ? undefined : (ratio) => {
      if (window === 1) {
        const r = ratio('echo1');
        return r === undefined ? '' : r >= 0.9 ? 'ok (≥0.9× Node echo)' : 'MISS (<0.9× Node echo)';
      }
      return 'vs libvfio-user d16: not measurable here';
    },
  }))),
  { id: 'many', name: 'H_PUT_TCE, 64 connections (4 procs × 16, 8 outstanding)', ratios: ['pipelined'], serves: 'vphb',
    run: (p) => runClients(p.client, vphbArgs('hput', { window: 8, connections: 16, api: 'fast' }), 4),
    target: (ratio, r) => {
      const x = ratio('pipelined');
      const p99 = r.hist === undefined ? undefined : histQuantile([r.hist], 0.99)!;
      const a = x === undefined ? '' : x >= 0.8 ? 'ok (≥0.8× one client)' : 'MISS (<0.8× one client)';
      const b = p99 === undefined ? '' : p99 < 5000 ? 'ok (p99<5ms)' : 'MISS (p99≥5ms)';
      return [a, b].filter((s) => s !== '').join(', ');
    },
  },
];
const chosen = cases.filter((c) => ONLY === undefined || ONLY.test(c.id));
const needed = new Set(chosen.flatMap((c) => c.ratios ?? []));
const selected = cases.filter((c) => chosen.includes(c) || (c.ref !== undefined && needed.has(c.ref)));

/** Server CPU per MB (byte cases) or per call (call cases), or undefined. */
function cost(c: CaseDef, r: CaseResult): number | undefined {
  if (r.serverCpuUs === undefined) return undefined;
  if (perMB(c)) return r.totalBytes ? r.serverCpuUs / (r.totalBytes / 1e6) : undefined;
  return r.totalOps ? r.serverCpuUs / r.totalOps : undefined;
}
/** Byte-stream cases are costed per MB, call cases per call. */
const perMB = (c: CaseDef) => c.serves === 'drop' || c.serves === 'copy' || c.serves === 'c' || c.id.startsWith('batch');
const costUnit = (c: CaseDef) => (perMB(c) ? 'µs/MB' : 'µs/op');


// ---- run ---------------------------------------------------------------------------------------

interface Sample {
  r: CaseResult;
  ratios: Partial<Record<Ref, number>>;
  target: string;
  /** Server CPU cost of the first reference ÷ this case's: the ratio if server CPU were the limit. */
  costRatio: number | undefined;
}
const samples = new Map<string, Sample[]>(); // key pinning|case id

const servers: ChildProcess[] = [];
const server = start('server-proc.js', SERVER_CPU, [sock.vphb], 'server');
servers.push(server);
const peers = (['drop', 'copy', 'echo'] as const).map((mode) => start('peer-server.js', SERVER_CPU, [mode, sock[mode]], `peer-${mode}`));
servers.push(...peers);
let cServer: ChildProcess | undefined;
const servingProc: Partial<Record<Serving, ChildProcess>> = { vphb: server, drop: peers[0]!, copy: peers[1]!, echo: peers[2]! };

/** CPU time (µs) of a serving process so far: over IPC for Node, from /proc for the C receiver. */
async function cpuOf(which: Serving): Promise<number | undefined> {
  if (which === 'c') {
    if (cServer?.pid === undefined) return undefined;
    try {
      const f = readFileSync(`/proc/${cServer.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * (1e6 / 100); // utime + stime in 100 Hz ticks
    } catch {
      return undefined;
    }
  }
  const child = servingProc[which]!;
  const got = message<number>(child, 'cpu', 5000);
  child.send('cpu');
  return got;
}
const total = RUNS * pinnings.length * selected.length;
let done = 0;
const t00 = performance.now();
try {
  await Promise.all(servers.map((s) => message(s, 'ready', 10_000)));
  if (cBin !== undefined) {
    const c = spawn('taskset', ['-c', String(SERVER_CPU), cBin, 'recv', sock.c], { stdio: ['ignore', 'pipe', 'inherit'] });
    cServer = c;
    await new Promise<void>((res, rej) => {
      c.stdout.once('data', () => res());
      c.once('exit', () => rej(new Error('C receiver exited')));
    });
  }
  if (cNote !== '') console.error(`note: ${cNote}`);
  for (let run = 0; run < RUNS; run++) {
    for (const p of pinnings) {
      const refs = new Map<Ref, CaseResult>();
      const refCosts = new Map<Ref, number>();
      for (const c of selected) {
        const cpu0 = await cpuOf(c.serves);
        const r = await c.run(p);
        const cpu1 = await cpuOf(c.serves);
        if (cpu0 !== undefined && cpu1 !== undefined) r.serverCpuUs = cpu1 - cpu0;
        if (c.ref !== undefined) {
          refs.set(c.ref, r);
          const k = cost(c, r);
          if (k !== undefined) refCosts.set(c.ref, k);
        }
        const ratios: Partial<Record<Ref, number>> = {};
        for (const ref of c.ratios ?? []) {
          const base = refs.get(ref);
          if (base === undefined) continue;
          ratios[ref] = ref === 'echo1' || ref === 'echo64' || ref === 'pipelined' ? r.opsPerSec / base.opsPerSec : r.bytesPerSec / base.bytesPerSec;
        }
        const target = c.target?.((ref) => ratios[ref], r) ?? '';
        const ref0 = c.ratios?.[0];
        const baseCost = ref0 === undefined ? undefined : refCosts.get(ref0);
        const own = cost(c, r);
        const costRatio = baseCost === undefined || own === undefined ? undefined : baseCost / own;
        const key = `${p.name}|${c.id}`;
        samples.set(key, [...(samples.get(key) ?? []), { r, ratios, target, costRatio }]);
        done++;
        const main = c.ratios?.[0] === undefined ? '' : ratios[c.ratios[0]] === undefined ? '' : ` ${ratios[c.ratios[0]]!.toFixed(2)}× ${c.ratios[0]}`;
        const figure = r.bytesPerSec > 0 ? fmt(r.bytesPerSec, 'B/s') : fmt(r.opsPerSec, '/s');
        console.error(`[${done}/${total} ${((performance.now() - t00) / 1000).toFixed(0)}s] run ${run + 1} ${p.name}: ${c.name}: ${figure}${main} ${target}`);
      }
    }
  }
} finally {
  for (const s of servers) s.send('stop');
  cServer?.kill();
  setTimeout(() => {
    for (const s of servers) s.kill();
  }, 3000).unref();
}
rmSync(dir, { recursive: true, force: true });

// ---- report ----------------------------------------------------------------------------------

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const med = (xs: number[]) => sorted(xs)[Math.floor((xs.length - 1) / 2)]!;
/** "median" with one run, "median (min-max)" with several. */
function spread(xs: number[], f: (n: number) => string): string {
  if (xs.length === 0) return '';
  const s = sorted(xs);
  return s.length === 1 ? f(s[0]!) : `${f(med(s))} (${f(s[0]!)}–${f(s[s.length - 1]!)})`;
}

const header = ['pinning', 'case', 'bytes/s', 'entries|calls/s', 'ratio', 'server CPU', 'CPU ratio', 'p50 µs', 'p99 µs', 'target'];
const table: string[][] = [];
const json: unknown[] = [];
for (const p of pinnings) {
  for (const c of selected) {
    const ss = samples.get(`${p.name}|${c.id}`) ?? [];
    if (ss.length === 0) continue;
    const q = (x: number) => ss.map((s) => (s.r.hist === undefined ? NaN : histQuantile([s.r.hist], x)!)).filter((v) => !Number.isNaN(v));
    const ratioText = (c.ratios ?? []).map((ref) => {
      const xs = ss.map((s) => s.ratios[ref]).filter((v): v is number => v !== undefined);
      return xs.length === 0 ? '' : `${spread(xs, (v) => v.toFixed(2))}× ${ref}`;
    }).filter((t) => t !== '').join('; ');
    const targets = [...new Set(ss.map((s) => s.target).filter((t) => t !== ''))].join(' / ');
    table.push([
      p.name, c.name,
      ss[0]!.r.bytesPerSec > 0 ? spread(ss.map((s) => s.r.bytesPerSec), (v) => fmt(v, 'B')) : '',
      spread(ss.map((s) => s.r.entriesPerSec ?? s.r.opsPerSec), (v) => fmt(v)),
      ratioText,
      (() => {
        const xs = ss.map((x) => cost(c, x.r)).filter((v): v is number => v !== undefined);
        return xs.length === 0 ? '' : `${spread(xs, (v) => v.toFixed(v < 10 ? 2 : 0))} ${costUnit(c)}`;
      })(),
      (() => {
        const xs = ss.map((x) => x.costRatio).filter((v): v is number => v !== undefined);
        return xs.length === 0 ? '' : `${spread(xs, (v) => v.toFixed(2))}×`;
      })(),
      spread(q(0.5), (v) => v.toFixed(0)),
      spread(q(0.99), (v) => v.toFixed(0)),
      targets,
    ]);
    json.push({
      pinning: p.name, case: c.id, name: c.name,
      bytesPerSec: ss.map((s) => Math.round(s.r.bytesPerSec)),
      perSec: ss.map((s) => Math.round(s.r.entriesPerSec ?? s.r.opsPerSec)),
      ratios: Object.fromEntries((c.ratios ?? []).map((ref) => [ref, ss.map((s) => s.ratios[ref] === undefined ? null : Number(s.ratios[ref]!.toFixed(3)))])),
      serverCpu: ss.map((x) => { const v = cost(c, x.r); return v === undefined ? null : Number(v.toFixed(3)); }),
      serverCpuUnit: costUnit(c),
      cpuRatio: ss.map((x) => (x.costRatio === undefined ? null : Number(x.costRatio.toFixed(3)))),
      p50us: q(0.5).map((v) => Number(v.toFixed(1))),
      p99us: q(0.99).map((v) => Number(v.toFixed(1))),
      target: targets || undefined,
    });
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(`vphb bench: ${CPUS} CPU(s), ${DURATION_MS} ms per case, ${RUNS} run(s) (median (min–max)), Node ${process.version}`);
console.log('Ratios compare figures of the same run and pinning; the machine may be shared, so absolute figures are noisy.');
console.log('server CPU: user+system time of the serving process (vphb or the peer) per MB received or per call, warm-up included: less sensitive to other load than the rates.');
console.log('CPU ratio: the first reference\'s server CPU cost ÷ this row\'s (what the ratio would be if server CPU were the limit).');
if (cNote !== '') console.log(`note: ${cNote}`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of table) console.log(line(r));
const jsonLine = JSON.stringify({ bench: 'vphb', node: process.version, cpus: CPUS, durationMs: DURATION_MS, runs: RUNS, note: cNote || undefined, results: json });
console.log(jsonLine);
writeFileSync(OUT, jsonLine + '\n');
console.error(`JSON written to ${OUT}${PROF === undefined ? '' : `; CPU profiles in ${PROF}`}`);
process.exit(0);
