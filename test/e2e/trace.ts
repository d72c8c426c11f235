/** Reads the VPHB_TRACE log of libvphb-vfio.so: one line per VFIO call QEMU made. */
import { existsSync, readFileSync } from 'node:fs';

export interface TraceLine {
  kind: string;
  handle: number;
  op: string;
  args: Record<string, string>;
  /** "0", a number, or "-<strerror>". */
  result: string;
}

export function readTrace(file: string): TraceLine[] {
  if (!existsSync(file)) return [];
  const out: TraceLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\w+) (-?\d+) (\S+)(.*) = (.+)$/.exec(line);
    if (m === null) continue;
    const args: Record<string, string> = {};
    let positional = 0;
    for (const w of m[4]!.trim().split(/\s+/).filter((x) => x !== '')) {
      const eq = w.indexOf('=');
      if (eq > 0) args[w.slice(0, eq)] = w.slice(eq + 1);
      else args[String(positional++)] = w;
    }
    out.push({ kind: m[1]!, handle: Number(m[2]), op: m[3]!, args, result: m[5]! });
  }
  return out;
}

export const big = (s: string | undefined): bigint => (s === undefined ? -1n : BigInt(s));
