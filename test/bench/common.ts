/** Shared bits of the benchmark processes: argument passing and IPC messages. */

export type CaseKind = 'baseline' | 'batch-unlinked' | 'batch-linked' | 'hput';

export interface ClientArgs {
  kind: CaseKind;
  socket: string;
  /** Entries per batch (baseline and batch cases). */
  entries: number;
  /** Outstanding requests. */
  window: number;
  /** Measuring time in ms. */
  durationMs: number;
}

export interface CaseResult {
  /** Bytes of whole frames (header included) per second. */
  bytesPerSec: number;
  /** TCE entries (batches) or calls (hput) per second. */
  opsPerSec: number;
  p50us?: number;
  p99us?: number;
  /** Entries per second for batch cases. */
  entriesPerSec?: number;
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

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
