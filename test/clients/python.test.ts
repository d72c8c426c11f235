/**
 * The Python client's suite (clients/python/tests, pytest) as part of `npm test`, and the check
 * that its generated op methods are up to date. Needs a python3 with msgpack and pytest: Debian's
 * /usr/bin/python3 with python3-msgpack and python3-pytest is preferred (a pyenv python3 on PATH
 * often lacks them). Without one the suite is skipped, loudly, with the install command; under
 * VPHB_REQUIRE_SYSTEM=1 (CI) that is a failure instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const INSTALL = 'apt-get install -y python3-msgpack python3-pytest';
const required = process.env['VPHB_REQUIRE_SYSTEM'] === '1';

function findPython(): string | undefined {
  const candidates = [process.env['VPHB_PYTHON'], '/usr/bin/python3', 'python3'].filter((c): c is string => c !== undefined && c !== '');
  for (const py of candidates) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import msgpack, pytest'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return undefined;
}

const python = findPython();
if (python === undefined) {
  const msg = `\n*** Python client suite SKIPPED: no python3 with msgpack and pytest found (tried $VPHB_PYTHON, /usr/bin/python3, python3).\n*** Install them with: ${INSTALL}\n`;
  process.stderr.write(msg);
}

describe('Python client', () => {
  it('generated methods are up to date with protocol/ops.json', () => {
    expect(() => execFileSync(process.execPath, ['protocol/gen-python.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it.runIf(python === undefined && required)('has an interpreter with msgpack and pytest (VPHB_REQUIRE_SYSTEM=1)', () => {
    throw new Error(`no python3 with msgpack and pytest: ${INSTALL}`);
  });

  it.skipIf(python === undefined)('passes its pytest suite against a live server and the vectors', () => {
    const r = spawnSync(python!, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'clients/python/tests'], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    if (r.status !== 0) process.stderr.write(`${r.stdout}\n${r.stderr}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\d+ passed/);
    expect(r.stdout).not.toMatch(/failed|error/);
  }, 150_000);
});
