/** `vphb serve --profile` (needs `npm run build`): the banner names it, a bad value is refused. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = 'dist/src/cli.js';
const dir = mkdtempSync(join(tmpdir(), 'vphb-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `serve` with `args`, returns its stderr up to the profile line, then kills it. */
async function banner(args: string[]): Promise<string> {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build first (npm test does)`);
  const p = spawn(process.execPath, [CLI, 'serve', '--socket', join(dir, `s${args.length}-${Date.now()}.sock`), '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no banner: ${out}`)), 15_000);
      p.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('behaviour profile')) {
          clearTimeout(t);
          resolve();
        }
      });
      p.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
  } finally {
    p.kill('SIGKILL');
  }
  return out;
}

describe('vphb serve --profile', () => {
  it('takes strict; over a config naming strict, --profile linux wins (config alone: test/ops/profile.test.ts)', async () => {
    expect(await banner(['--profile', 'strict'])).toMatch(/behaviour profile strict\n/);
    const config = join(dir, 'topology.json');
    writeFileSync(config, JSON.stringify({ profile: 'strict', phbs: [{ name: 'phb0', pes: [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }] }] }));
    expect(await banner(['--config', config, '--profile', 'linux'])).toMatch(/behaviour profile linux\n/);
  });

  it('an unknown profile is refused with the choices', () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--profile', 'bsd'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/profile/);
    expect(r.stderr).toMatch(/strict/);
  });
});
