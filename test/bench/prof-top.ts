/**
 * Summarises V8 CPU profiles (from `run.js --prof dir`): self time by function, in percent of
 * the profile's samples (idle and GC included, as V8 reports them).
 * Usage: node dist/test/bench/prof-top.js file.cpuprofile... [--top n] [--busy]
 * --busy: percentages of the non-idle time (the idle share is printed on the first line).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const topIdx = process.argv.indexOf('--top');
const TOP = topIdx > 0 ? Number(process.argv[topIdx + 1]) : 15;
const BUSY = process.argv.includes('--busy'); // percentages of non-idle time
const files = process.argv.slice(2).filter((a, i, all) => a !== '--top' && all[i - 1] !== '--top' && a !== '--busy');
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    const dt = p.timeDeltas[i] ?? 0;
    const f = n.callFrame;
    const where = f.url === '' ? '' : ` ${f.url.replace(/^.*\/(dist|node_modules)\//, '')}:${f.lineNumber + 1}`;
    const key = `${f.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const idle = self.get('(idle)') ?? 0;
  const base = BUSY ? total - idle : total;
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${((100 * idle) / total).toFixed(1)}% idle${BUSY ? '; shares of the busy time:' : ''}`);
  for (const [k, v] of [...self].filter(([k]) => !BUSY || k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`  ${((100 * v) / base).toFixed(1).padStart(5)}%  ${k}`);
  }
}
