/** The README's code blocks are the example files that the CLI tests run: they cannot drift. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README', () => {
  it.each(['examples/quickstart.ts', 'examples/vfio-v2.ts', 'examples/kvm-link.ts'])('embeds %s verbatim', (file) => {
    const source = readFileSync(file, 'utf8');
    expect(blocks).toContain(source.endsWith('\n') ? source : `${source}\n`);
  });

  it('keeps the quick start to the two commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toMatch(/^npm test\s/m);
  });

  it('the quickstart example is about 20 lines', () => {
    expect(readFileSync('examples/quickstart.ts', 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(22);
  });
});
