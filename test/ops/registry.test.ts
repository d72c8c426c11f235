import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HANDLERS } from '../../src/ops/index.js';
import { OPS } from '../../src/wire/ops.generated.js';
import { ERRNO } from '../../src/wire/errno.js';
import { H_HARDWARE, H_PARAMETER, H_SUCCESS, H_TOO_HARD } from '../../src/kvm/constants.js';

const registry = JSON.parse(readFileSync(new URL('../../protocol/ops.json', import.meta.url), 'utf8')) as {
  errnos: Record<string, number>;
  papr: Record<string, number>;
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

  it('has the number of every errno the server sends, equal to the code table', () => {
    expect(registry.errnos).toEqual(ERRNO);
    for (const op of registry.ops) for (const e of op.errors) expect(registry.errnos).toHaveProperty(e);
  });

  it('has the number of every PAPR return code the server returns', () => {
    expect(registry.papr).toMatchObject({ H_SUCCESS, H_HARDWARE, H_PARAMETER, H_TOO_HARD });
    expect(new Set(Object.values(registry.papr)).size).toBe(Object.keys(registry.papr).length);
  });

  it('lists EFAULT for REGISTER_MEMORY (a user address beyond 2^52)', () => {
    expect(registry.ops.find((o) => o.name === 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY')!.errors).toContain('EFAULT');
  });

  it('every op except VERSION (served by the session) and the events the server sends has exactly one handler', () => {
    const missing = OPS.filter((o) => o.name !== 'VERSION' && o.direction !== 'server' && !(o.name in HANDLERS)).map((o) => o.name);
    expect(missing).toEqual([]);
    expect(Object.keys(HANDLERS).filter((k) => !OPS.some((o) => o.name === k))).toEqual([]);
  });
});
