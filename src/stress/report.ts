/** What a stress run counts, and how it is printed. */

export interface StressReport {
  mode: string;
  seconds: number;
  clients: number;
  ops: number;
  /** Error replies by errno name (expected ones included: they are the kernel's answers). */
  errnos: Record<string, number>;
  /** Replies that differ from the client's reference model, with the first few described. */
  divergences: number;
  examples: string[];
  /** Resources not back to baseline after every client went away. */
  leaks: string[];
  /** Fault mode: client processes killed mid-call. */
  kills: number;
  /** Fuzz mode. */
  framesTried: number;
  internalErrors: number;
  malformedReplies: number;
  hangs: number;
  /** The server stopped answering (or its process died). */
  crashed: boolean;
  /** Server RSS high-water mark in bytes, when its pid is known (--server-pid). */
  serverRssMax?: number;
}

export function emptyReport(mode: string, clients: number): StressReport {
  return {
    mode, seconds: 0, clients, ops: 0, errnos: {}, divergences: 0, examples: [], leaks: [], kills: 0,
    framesTried: 0, internalErrors: 0, malformedReplies: 0, hangs: 0, crashed: false,
  };
}

export function noteErrno(r: StressReport, name: string, n = 1): void {
  r.errnos[name] = (r.errnos[name] ?? 0) + n;
}

export function diverged(r: StressReport, what: string): void {
  r.divergences++;
  if (r.examples.length < 10) r.examples.push(what);
}

export function merge(into: StressReport, from: StressReport): void {
  into.ops += from.ops;
  for (const [k, v] of Object.entries(from.errnos)) noteErrno(into, k, v);
  into.divergences += from.divergences;
  for (const e of from.examples) if (into.examples.length < 10) into.examples.push(e);
  into.framesTried += from.framesTried;
  into.internalErrors += from.internalErrors;
  into.malformedReplies += from.malformedReplies;
  into.hangs += from.hangs;
}

/** True when the run found nothing wrong. */
export function clean(r: StressReport): boolean {
  return !r.crashed && r.divergences === 0 && r.leaks.length === 0 && r.internalErrors === 0 && r.malformedReplies === 0 && r.hangs === 0;
}

export function formatReport(r: StressReport): string {
  const lines = [
    `stress ${r.mode}: ${r.clients} client(s), ${r.seconds.toFixed(1)} s, ${r.ops} ops, ${(r.ops / Math.max(r.seconds, 1e-9)).toFixed(0)} ops/s`,
    `errors by errno: ${Object.keys(r.errnos).length === 0 ? 'none' : Object.entries(r.errnos).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `divergences: ${r.divergences}${r.examples.length > 0 ? `\n  ${r.examples.join('\n  ')}` : ''}`,
    `leaks: ${r.leaks.length === 0 ? 'none' : r.leaks.join('; ')}`,
  ];
  if (r.mode === 'fault' || r.kills > 0) lines.push(`client processes killed mid-call: ${r.kills}`);
  if (r.mode === 'fuzz' || r.framesTried > 0) {
    lines.push(`fuzz: ${r.framesTried} frames tried, ${r.internalErrors} internal errors (EIO), ${r.malformedReplies} malformed replies, ${r.hangs} hangs`);
  }
  if (r.serverRssMax !== undefined) lines.push(`server RSS max: ${(r.serverRssMax / 2 ** 20).toFixed(0)} MiB`);
  lines.push(`server: ${r.crashed ? 'STOPPED ANSWERING' : 'alive'}`);
  lines.push(clean(r) ? 'result: ok' : 'result: FAILED');
  return lines.join('\n') + '\n';
}
