/** libvphb (clients/c): builds it with make, runs its C suites against a live `vphb serve` and
 *  the protocol vectors, and checks the generated op wrappers are current. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announce, buildC, cToolchain } from '../e2e/system.js';
import { DEVICE_OPS, serverOps, startVphb, type VphbProc } from '../e2e/vphb-proc.js';

const C = 'clients/c';
const prereq = cToolchain();
const run = announce('C client suite (clients/c)', prereq);

function sh(cmd: string, args: string[], timeout = 120_000): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.runIf(run)('libvphb', () => {
  let vphb: VphbProc;
  beforeAll(async () => {
    if (prereq.missing !== undefined) throw new Error(`missing ${prereq.missing}: ${prereq.install}`);
    buildC();
    vphb = await startVphb();
  }, 180_000);
  afterAll(async () => { await vphb?.stop(); });

  it('passes its live-server suite (UNIX, TCP+token, pipelining, errors, v2 DDW sequence, TCE_PUT_BATCH, events, lost connection)', () => {
    const r = sh(join(C, 'build', 'test_live'), [vphb.socket, vphb.tcp, vphb.token], 60_000);
    expect(r.out).toMatch(/ 0 failed/);
    expect(r.status).toBe(0);
  });

  it('decodes every frame of protocol/vectors and re-encodes the canonical ones byte for byte', () => {
    const g = sh(process.execPath, [join(C, 'tests', 'vectors-to-txt.mjs')]);
    expect(g.status).toBe(0);
    const file = join(vphb.dir, 'vectors.txt');
    writeFileSync(file, g.out);
    const r = sh(join(C, 'build', 'test_vectors'), [file]);
    expect(r.out).toMatch(/ 0 failed/);
    expect(r.status).toBe(0);
  });

  it('serves an unmodified VMM through libvphb-vfio.so (libc calls only), and turns a killed server into EIO at once', async () => {
    const own = await startVphb(); // killed by the test program
    try {
      // The device part needs the server's device ops (issue 7); without them it is skipped, loudly.
      const ops = await serverOps(own.socket);
      const missing = DEVICE_OPS.filter((o) => !ops.includes(o));
      if (missing.length > 0) process.stderr.write(`\n!!! test_preload: vphb lacks ${missing.join(', ')}: device ioctls NOT tested\n\n`);
      const r = spawnSync(join(C, 'build', 'test_preload'), [String(own.pid), ...(missing.length === 0 ? ['devices'] : [])], {
        encoding: 'utf8', timeout: 90_000,
        env: { ...process.env, LD_PRELOAD: join(process.cwd(), C, 'build', 'libvphb-vfio.so'), VPHB_SOCKET: own.socket },
      });
      const out = `${r.stdout}${r.stderr}`;
      expect(out).toMatch(/ 0 failed/);
      expect(r.status).toBe(0);
    } finally {
      await own.stop();
    }
  });

  it('README embeds the C example that make tests compiles', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /```c\n#include "vphb.h"\n\n([\s\S]*?)```/.exec(readme)?.[1];
    const src = readFileSync(join(C, 'tests', 'readme_example.c'), 'utf8');
    const body = /int main\(void\)\n\{\n([\s\S]*?)    return 0;\n\}/.exec(src)?.[1]?.split('\n').map((l) => l.replace(/^ {4}/, '')).join('\n');
    expect(block).toBeDefined();
    expect(block).toBe(body);
  });

  it('generated op wrappers are current with protocol/ops.json', () => {
    const r = sh(process.execPath, [join(C, 'gen-c.mjs'), '--check']);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });
});
