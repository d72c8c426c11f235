import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HANDLERS } from '../../src/ops/index.js';
import { OPS } from '../../src/wire/ops.generated.js';
import { ERRNO } from '../../src/wire/errno.js';

const registry = JSON.parse(readFileSync(new URL('../../protocol/ops.json', import.meta.url), 'utf8')) as {
  ops: { name: string; code: number; errors: string[] }[];
};

describe('protocol/ops.json', () => {
  it('generated TypeScript is up to date', () => {
    expect(() => execFileSync(process.execPath, ['protocol/gen-ts.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('names and codes are unique and every errno is a known one', () => {
    expect(new Set(registry.ops.map((o) => o.name)).size).toBe(registry.ops.length);
    expect(new Set(registry.ops.map((o) => o.code)).size).toBe(registry.ops.length);
    for (const op of registry.ops) for (const e of op.errors) expect(Object.keys(ERRNO)).toContain(e);
  });

  it('every op except VERSION (served by the session) and the events the server sends has exactly one handler', () => {
    const missing = OPS.filter((o) => o.name !== 'VERSION' && o.direction !== 'server' && !(o.name in HANDLERS)).map((o) => o.name);
    expect(missing).toEqual([]);
    expect(Object.keys(HANDLERS).filter((k) => !OPS.some((o) => o.name === k))).toEqual([]);
  });
});
