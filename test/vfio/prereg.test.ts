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

describe('PreregRegistry, the kernel\'s details', () => {
  it('a backing page caps the IOMMU page a region backs: min(alignment, backing)', () => {
    const mm = new Mm(null, 16);
    expect(mm.prereg.acquire(0n, GiB, { backingShift: 16 }).pageShift).toBe(16);
    expect(mm.prereg.acquire(GiB, 4n * MiB, { backingShift: 24 }).pageShift).toBe(22);
    expect(mm.prereg.acquire(2n * GiB, 64n * MiB).pageShift).toBe(26); // no backing given: alignment only
  });

  it('size 0 with sizeZeroEnomem: ENOMEM after the (empty) charge, no trace', () => {
    const mm = new Mm(0n, 16);
    expect(errno(() => mm.prereg.acquire(0n, 0n, { sizeZeroEnomem: true }))).toBe('ENOMEM');
    expect(mm.prereg.regions).toEqual([]);
  });

  it('the limit comes before the overlap (mm_iommu_do_alloc): ENOMEM, then EFAULT, then EINVAL', () => {
    const mm = new Mm(96n * MiB, 16);
    mm.prereg.acquire(0n, 64n * MiB);
    expect(errno(() => mm.prereg.acquire(32n * MiB, 64n * MiB))).toBe('ENOMEM');
    expect(errno(() => mm.prereg.acquire(32n * MiB, 16n * MiB))).toBe('EINVAL');
    expect(mm.lockedPages).toBe(1024);
  });

  it('release with keepIfMapped leaves a mapped region pinned with one orphan user; at() finds regions', () => {
    const mm = new Mm(null, 16);
    const r = mm.prereg.acquire(0n, MiB);
    const s = mm.prereg.acquire(2n * MiB, MiB);
    expect(mm.prereg.at(0x8_0000)).toBe(r);
    expect(mm.prereg.at(Number(2n * MiB))).toBe(s);
    expect(mm.prereg.at(Number(MiB))).toBeUndefined();
    r.countMapped(3);
    expect(mm.prereg.release(r, true)).toBe(false);
    expect([r.users, mm.lockedPages]).toEqual([1, 32]);
    r.countMapped(-3);
    expect(mm.prereg.release(r, true)).toBe(true);
    expect(mm.prereg.regions).toEqual([s]);
    expect(mm.lockedPages).toBe(16);
  });
});
