/** Package hygiene: what `npm publish` would ship must be usable and honest. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  license: string; keywords: string[]; repository?: unknown; engines: { node: string };
  dependencies: Record<string, string>; files: string[]; scripts: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('package.json', () => {
  it('has a license file, keywords and engines, and names no repository it does not have', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync('LICENSE', 'utf8')).toMatch(/^MIT License/);
    expect(pkg.repository).toBeUndefined(); // no public repository URL exists yet: none is invented
    expect(pkg.keywords).toEqual(expect.arrayContaining(['vfio', 'iommu', 'spapr']));
    expect(pkg.engines.node).toBe('>=20');
  });

  it('depends at run time on exactly the packages the shipped code imports', () => {
    const imported = new Set<string>();
    for (const file of [...sources('src'), ...sources('clients/ts')]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from '([^'.][^']*)'/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect([...imported].sort()).toEqual(Object.keys(pkg.dependencies).sort());
  });

  it('ships source maps that resolve (sources inlined: src/ is not in "files")', () => {
    expect(pkg.files).not.toContain('src');
    const map = JSON.parse(readFileSync('dist/src/cli/main.js.map', 'utf8')) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toBe(readFileSync('src/cli/main.ts', 'utf8'));
  });

  it("exports the client as 'vphb/client', as the README says", async () => {
    expect(existsSync('dist/clients/ts/index.js')).toBe(true);
    const mod = (await import('vphb/client')) as { Client: { connect: unknown } };
    expect(typeof mod.Client.connect).toBe('function');
    expect(readFileSync('README.md', 'utf8')).toContain("import { Client } from 'vphb/client'");
  });

  it('starts the server with exec, so npm signals reach it (test/cli/npm-start.test.ts)', () => {
    expect(pkg.scripts['start']).toBe('exec node dist/src/cli.js serve');
  });
});
