/**
 * examples/type1-msi.ts run as a user would (built, needs `npm run build`) against a server whose
 * config adds a PHB with a one-page MSI window and two ITSes; the README embeds it verbatim.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '../cli/helpers.js';

const EXAMPLE = 'dist/examples/type1-msi.js';
const dir = mkdtempSync(join(tmpdir(), 'vphb-type1-'));
const socket = join(dir, 'vphb.sock');
let server: ChildProcess;

const config = {
  phbs: [
    { kind: 'smmu', name: 'smmu0', its: ['0x80000040000'], pes: [{ pe: 1, group: 7, devices: ['0002:01:00.0'] }] },
    {
      kind: 'smmu', name: 'tiny', sw_msi: { start: '0x8000000', size: '0x10000' }, its: ['0x8080000', '0x80a0000'],
      pes: [{ pe: 1, group: 20, devices: ['0003:01:00.0'], its: 0 }, { pe: 2, group: 21, devices: ['0003:02:00.0'], its: 1 }],
    },
  ],
};

beforeAll(async () => {
  if (!existsSync(EXAMPLE)) throw new Error(`${EXAMPLE} missing: run npm run build first (npm test does)`);
  writeFileSync(join(dir, 'topology.json'), JSON.stringify(config));
  server = (await startServe(['--socket', socket, '--config', join(dir, 'topology.json'), '--log-level', 'warn'])).proc;
});

afterAll(() => {
  server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('examples/type1-msi', () => {
  it('reads the IOVA ranges, maps around the MSI window, follows the MSI write, hits ENOSPC on the tiny window', () => {
    const want = [
      'IOVA page sizes 0x40210000, 65535 mappings available',
      'usable IOVA 0x0..0x7ffffff',
      'usable IOVA 0x8100000..0xffffffffffff',
      'guest RAM mapped at IOVA 0x0..0x7ffffff',
      'guest RAM mapped at IOVA 0x8100000..0xfffffff',
      'MAP_DMA into the MSI window 0x8000000 -> EINVAL',
      'MSI enabled: doorbell page 0x80000050000 mapped at IOVA 0x8000000',
      'device MSI write to 0x8000040 -> 0x80000050040 (the ITS doorbell)',
      'device raises MSI vector 0 -> delivered 1',
      'guest RAM mapped at IOVA 0x0..0x7ffffff',
      'guest RAM mapped at IOVA 0x8010000..0xfffffff',
      'second doorbell with the MSI window full -> ENOSPC',
      '',
    ].join('\n');
    for (let run = 0; run < 2; run++) {
      // Twice: the first connection's teardown released groups, mappings and MSI cookies.
      const r = spawnSync(process.execPath, [EXAMPLE, socket, '7', '20', '21'], { encoding: 'utf8', timeout: 20_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(want);
    }
  });

  it('the README embeds it verbatim', () => {
    const blocks = [...readFileSync('README.md', 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks).toContain(readFileSync('examples/type1-msi.ts', 'utf8'));
  });
});
