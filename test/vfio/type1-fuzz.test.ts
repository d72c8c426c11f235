/**
 * Seeded random sequences of type1 MAP / UNMAP (v1 and v2, ALL, VADDR), group attach / detach and
 * MSI enable against the model, with the invariants checked after every call, failed or not:
 * mappings disjoint and inside the usable ranges, every domain's page table = the mappings plus
 * its MSI pages, locked memory = the pages the mappings pinned, dma_avail + mappings = the limit.
 */
import { describe, expect, it } from 'vitest';
import { VphbError } from '../../src/wire/errno.js';
import type { VfioDevice } from '../../src/vfio/device.js';
import type { GroupFile } from '../../src/vfio/group.js';
import { world } from './world.js';
import { rng } from '../helpers/rng.js';

const PAGE = 0x1_0000n;

describe.each([1, 2, 3])('type1 random sequence, seed %i', (seed) => {
  it.each([1, 3])('type %i: 1,500 calls keep every invariant', (type) => {
    const r = rng(seed * 7 + type);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const w = world({ limit: 64n << 20n });
    const { container, files } = w.setup([7], type);
    const b = container.type1!;
    const g8 = w.vfio.openGroup(8);
    let dev: VfioDevice | undefined;
    const iova = () => BigInt(Math.floor(r() * 4096)) * PAGE * (r() < 0.2 ? 0x4000n : 1n) + (r() < 0.05 ? 0x1000n : 0n);
    const size = () => BigInt(1 + Math.floor(r() * 64)) * PAGE;
    const ops: (() => unknown)[] = [
      () => b.map(r() < 0.5 ? w.mm : w.other, { flags: pick([1, 2, 3, 3, 3, 4, 0]), vaddr: iova(), iova: iova(), size: size() }),
      () => b.map(w.mm, { flags: 3, vaddr: 0n, iova: pick([0x800_0000n, 0x4000_0000n, 0x80f_0000n]), size: PAGE }),
      () => b.unmap({ flags: 0, iova: iova(), size: size() * 4n }),
      () => b.unmap({ flags: pick([0, 2, 4, 1]), iova: pick([0n, iova()]), size: pick([0n, size()]) }),
      () => (g8.group.container === undefined ? g8.group.setContainer(container) : dev === undefined ? g8.group.unsetContainer() : undefined),
      () => {
        if (g8.group.container === undefined) return;
        dev ??= g8.group.openDevice(g8, '0002:02:00.0');
        dev.sink = () => undefined;
        dev.setIrqs({ flags: 4 | 32, index: pick([1, 2]), start: 0, count: 1, data: [1] });
      },
      () => {
        dev?.close();
        dev = undefined;
      },
    ];
    const limit = 65535;
    let most = 0;
    let msiPages = 0;
    let twoGroups = 0;
    for (let i = 0; i < 1500; i++) {
      try {
        pick(ops)();
      } catch (e) {
        if (!(e instanceof VphbError)) throw e;
      }
      const dmas = b.dmas;
      for (let k = 1; k < dmas.length; k++) expect(dmas[k - 1]!.iova + dmas[k - 1]!.size).toBeLessThanOrEqual(dmas[k]!.iova);
      for (const d of dmas) expect(b.iovaRanges.some((x) => d.iova >= x.start && d.iova + d.size - 1n <= x.end)).toBe(true);
      for (const dom of b.domains) {
        const table = dom.mappings.filter((m) => m.kind === 'dma').map((m) => [m.iova, m.size]);
        expect(table).toEqual(dmas.map((d) => [d.iova, d.size]));
        expect(dom.mappings.filter((m) => m.kind === 'msi').length).toBe(dom.cookie?.pages.length ?? 0);
      }
      const pinned = (mm: unknown) => dmas.filter((d) => d.mm === mm).reduce((s, d) => s + d.lockedPages, 0);
      expect([w.mm.lockedPages, w.other.lockedPages]).toEqual([pinned(w.mm), pinned(w.other)]);
      expect(b.dmaAvail + dmas.length).toBe(limit);
      most = Math.max(most, dmas.length);
      msiPages = Math.max(msiPages, b.domains[0]?.cookie?.pages.length ?? 0);
      if (b.pes.length === 2) twoGroups++;
    }
    // The sequence did reach the interesting states.
    expect(most).toBeGreaterThan(5);
    expect(msiPages).toBe(1);
    expect(twoGroups).toBeGreaterThan(0);
    dev?.close();
    g8.close();
    for (const f of files as GroupFile[]) f.close();
    container.close();
    expect([w.mm.lockedPages, w.other.lockedPages, w.vfio.containers.size]).toEqual([0, 0, 0]);
  });
});
