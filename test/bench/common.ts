/** Shared bits of the benchmark processes: argument passing, IPC messages, latency histograms. */

export type CaseKind =
  | 'bulk' // stream rounds of `writeSize`-byte writes to a bulk peer (Node drop / copy)
  | 'echo' // ping-pong `msgBytes` messages with `window` outstanding through the Node echo peer
  | 'batch-unlinked'
  | 'batch-linked'
  | 'hput'; // H_PUT_TCE, `window` outstanding per connection, `connections` connections

export interface ClientArgs {
  kind: CaseKind;
  socket: string;
  /** Entries per batch (batch cases). */
  entries: number;
  /** Bytes per write (bulk). */
  writeSize: number;
  /** Message size (echo). */
  msgBytes: number;
  /** Outstanding requests per connection. */
  window: number;
  /** Connections (hput). */
  connections: number;
  /** hput: `promise` = Client.call per call; `fast` = the pipelined hcall channel. */
  api: 'promise' | 'fast';
  /** Measuring time in ms. */
  durationMs: number;
}

export interface CaseResult {
  /** Bytes (whole frames, header included) per second. */
  bytesPerSec: number;
  /** TCE entries (batches), calls (hput) or messages (echo) per second. */
  opsPerSec: number;
  /** Entries per second for batch cases. */
  entriesPerSec?: number;
  /** Bytes and operations over the whole case, warm-up included (for CPU cost per byte/op). */
  totalBytes?: number;
  totalOps?: number;
  /** CPU time (µs, user + system) the serving process spent during the case. */
  serverCpuUs?: number;
  /** Latency histogram (see Histogram), absent for bulk cases. */
  hist?: number[];
}

export const HEADER = 16;
export const BATCH_HEAD = 32;

export function frameBytes(entries: number): number {
  return HEADER + BATCH_HEAD + entries * 8;
}

export function send(msg: unknown): void {
  if (process.send === undefined) throw new Error('not started with an IPC channel');
  process.send(msg);
}

/** Log-scale latency histogram: 50 buckets per decade of µs, from 1 µs to 10 s. */
export const HIST_BUCKETS = 351;

export function histAdd(hist: Float64Array | number[], us: number): void {
  const b = us <= 1 ? 0 : Math.min(HIST_BUCKETS - 1, Math.ceil(Math.log10(us) * 50));
  hist[b] = (hist[b] ?? 0) + 1;
}

/** Upper edge (µs) of the bucket holding quantile `p` of the merged histograms. */
export function histQuantile(hists: readonly (readonly number[])[], p: number): number | undefined {
  const merged = new Float64Array(HIST_BUCKETS);
  for (const h of hists) for (let i = 0; i < HIST_BUCKETS; i++) merged[i]! += h[i] ?? 0;
  const total = merged.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (let i = 0; i < HIST_BUCKETS; i++) {
    seen += merged[i]!;
    if (seen >= total * p) return 10 ** (i / 50);
  }
  return 10 ** ((HIST_BUCKETS - 1) / 50);
}

/** Serving processes answer {cpu} requests with their CPU time so far (µs). */
export function answerCpu(): void {
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      send({ cpu: u.user + u.system });
    }
  });
}
