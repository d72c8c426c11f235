/** The per-process preregistered-memory registry. */
import { describe, expect, it } from 'vitest';
import { Mm } from '../../src/vfio/locked-memory.js';
import { PreregRegion } from '../../src/vfio/prereg.js';
import { GiB, MiB, errno } from './world.js';

describe('PreregRegion', () => {
  it('backs pages as large as the natural alignment of vaddr | size', () => {
    expect(new PreregRegion(0n, GiB).pageShift).toBe(30);
    expect(new PreregRegion(0x7fff_0000_0000n, 256n * MiB).pageShift).toBe(28);
    expect(new PreregRegion(0x1_0000n, GiB).pageShift).toBe(16);
    expect(new PreregRegion(2n * MiB, 6n * MiB).pageShift).toBe(21);
  });
});

describe('PreregRegistry', () => {
  it('exact ranges are shared (one charge), overlaps are EINVAL, the last release unaccounts', () => {
    const mm = new Mm(null, 16);
    const a = mm.prereg.acquire(0n, 64n * MiB);
    const b = mm.prereg.acquire(0n, 64n * MiB);
    expect(b).toBe(a);
    expect(a.users).toBe(2);
    expect(mm.lockedPages).toBe(1024);
    expect(errno(() => mm.prereg.acquire(32n * MiB, 64n * MiB))).toBe('EINVAL');
    const c = mm.prereg.acquire(64n * MiB, 64n * MiB); // adjacent, not overlapping
    expect(mm.lockedPages).toBe(2048);
    mm.prereg.release(a);
    expect(mm.lockedPages).toBe(2048);
    mm.prereg.release(a);
    mm.prereg.release(a); // extra releases are ignored
    expect(mm.lockedPages).toBe(1024);
    expect(mm.prereg.regions).toEqual([c]);
    expect(mm.prereg.findExact(64n * MiB, 64n * MiB)).toBe(c);
  });

  it('ENOMEM before EFAULT, both without a trace', () => {
    const mm = new Mm(64n * MiB, 16);
    expect(errno(() => mm.prereg.acquire((1n << 52n) - 64n * MiB, 128n * MiB))).toBe('ENOMEM');
    expect(errno(() => mm.prereg.acquire((1n << 52n) - 32n * MiB, 64n * MiB))).toBe('EFAULT');
    expect(mm.lockedPages).toBe(0);
    expect(mm.prereg.regions).toEqual([]);
  });
});
