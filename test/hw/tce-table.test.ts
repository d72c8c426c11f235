import { describe, expect, it } from 'vitest';
import { TceTable, tableGeometry, tableSizeBytes, type TceTableParams } from '../../src/hw/tce-table.js';
import { VphbError } from '../../src/wire/errno.js';
import { errno } from '../helpers/errors.js';

const KiB = 1n << 10n;
const MiB = 1n << 20n;
const GiB = 1n << 30n;
const TiB = 1n << 40n;

function params(over: Partial<TceTableParams> = {}): TceTableParams {
  return {
    pageShift: 12,
    windowSize: 2n * GiB,
    levels: 1,
    busStart: 0n,
    hostPageShift: 16,
    maxLevels: 5,
    maxLevelBytes: 16 << 20,
    ...over,
  };
}

describe('geometry', () => {
  it('splits E index bits over the levels, never below one host page per level', () => {
    // 1 TiB of 4K pages: E = 28.
    const g = (levels: number, host = 16) => tableGeometry(12, TiB, levels, host)!;
    expect(g(1).entryBits).toBe(28);
    expect([1, 2, 3, 4, 5].map((l) => g(l).levelShift)).toEqual([28, 14, 13, 13, 13]);
    expect([1, 2, 3, 4, 5].map((l) => g(l, 12).levelShift)).toEqual([28, 14, 10, 9, 9]);
    expect(g(2).levelByteShift).toBe(17);
    expect(g(3).levelByteShift).toBe(16);
  });

  it('describes no table for levels 0 or > 5, a size that is not a power of two or below one page', () => {
    expect(tableGeometry(12, GiB, 0, 16)).toBeUndefined();
    expect(tableGeometry(12, GiB, 6, 16)).toBeUndefined();
    expect(tableGeometry(12, 3n * GiB, 1, 16)).toBeUndefined();
    expect(tableGeometry(12, 0n, 1, 16)).toBeUndefined();
    expect(tableGeometry(16, 4n * KiB, 1, 16)).toBeUndefined();
    expect(tableSizeBytes(12, 3n * GiB, 1, 16)).toBe(0n);
  });

  it('tableSizeBytes is the worst case of every level fully populated', () => {
    // 2 GiB / 4K, one level: 2^19 entries * 8.
    expect(tableSizeBytes(12, 2n * GiB, 1, 16)).toBe(4n * MiB);
    // Tiny table: still one host page.
    expect(tableSizeBytes(12, 64n * KiB, 1, 16)).toBe(64n * KiB);
    // 1 TiB / 4K, 2 levels of 2^14 entries (128 KiB): 2^14 leaves + 1 top.
    expect(tableSizeBytes(12, TiB, 2, 16)).toBe((2n ** 14n + 1n) * 128n * KiB);
    // 3 levels of 2^13 entries (64 KiB): 2^15 leaves, 4 middle, 1 top.
    expect(tableSizeBytes(12, TiB, 3, 16)).toBe((2n ** 15n + 4n + 1n) * 64n * KiB);
    // More levels than needed: each level still costs at least one block.
    expect(tableSizeBytes(16, 512n * MiB, 3, 16)).toBe(3n * 64n * KiB);
  });
});

describe('create', () => {
  it('rejects levels 0, levels above the PHB maximum and sizes that are not powers of two (EINVAL)', () => {
    expect(errno(() => TceTable.create(params({ levels: 0 })))).toBe('EINVAL');
    expect(errno(() => TceTable.create(params({ levels: 2, maxLevels: 1 })))).toBe('EINVAL');
    expect(errno(() => TceTable.create(params({ levels: 6 })))).toBe('EINVAL');
    expect(errno(() => TceTable.create(params({ windowSize: 3n * GiB })))).toBe('EINVAL');
    expect(errno(() => TceTable.create(params({ windowSize: 0n })))).toBe('EINVAL');
  });

  it('rejects tables resolving bus bits >= 55 (EINVAL)', () => {
    // 1 TiB / 4K on 64K host pages: 3 levels of 13 bits + 12 = 51 fits, 4 levels = 64 does not.
    expect(errno(() => TceTable.create(params({ windowSize: TiB, levels: 3 })))).toBe('ok');
    expect(() => TceTable.create(params({ windowSize: TiB, levels: 4 }))).toThrow(/bus bit 55/);
    // Five levels can never fit under 55 bits with pages >= 4K.
    expect(errno(() => TceTable.create(params({ windowSize: 4n * GiB, levels: 5, hostPageShift: 12 })))).toBe('EINVAL');
    // Exactly 55 is rejected: 2^43 entries of 4K in one level = 43 + 12.
    expect(errno(() => TceTable.create(params({ windowSize: 1n << 55n, levels: 1, maxLevelBytes: 2 ** 31 })))).toBe('EINVAL');
  });

  it('fails a level block bigger than the allocator provides with ENOMEM, after the bus-bit check', () => {
    // 1 TiB / 4K in one level: a 2 GiB block.
    expect(errno(() => TceTable.create(params({ windowSize: TiB, levels: 1 })))).toBe('ENOMEM');
    // 2^63 window in one level: both too many bus bits and too big: EINVAL wins.
    expect(errno(() => TceTable.create(params({ windowSize: 1n << 63n, levels: 1 })))).toBe('EINVAL');
    // Exactly the limit is fine: 2^21 entries * 8 = 16 MiB.
    expect(errno(() => TceTable.create(params({ windowSize: 8n * GiB, levels: 1 })))).toBe('ok');
  });

  it('creates a 1 TiB window of 4K pages with only the top level allocated', () => {
    const before = process.memoryUsage().arrayBuffers;
    const t = TceTable.create(params({ windowSize: TiB, levels: 2, busStart: 1n << 59n }));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024);
    expect(t.entries).toBe(2 ** 28);
    expect(t.levelEntries).toBe(2 ** 14);
    expect(t.allocatedLevelPages).toBe(1);
    expect(t.allocatedBytes).toBe(128 * 1024);
    expect(t.get(2 ** 28 - 1)).toBe(0n);
    expect(t.allocatedLevelPages).toBe(1);
  });
});

describe('multi-level storage', () => {
  it.each([1, 2, 3, 4])('levels %i: index split top to leaf, levels allocated on first non-zero store', (levels) => {
    // 4 GiB of 4K pages on 4K host pages: E = 20; s' = 20, 10, 9, 9.
    const t = TceTable.create(params({ windowSize: 4n * GiB, levels, hostPageShift: 12 }));
    const s = Math.log2(t.levelEntries);
    expect(s).toBe([20, 10, 9, 9][levels - 1]);
    expect(t.allocatedLevelPages).toBe(1);
    t.set(0, 0x1003n);
    expect(t.allocatedLevelPages).toBe(levels); // one block per level below the top
    t.set(1, 0x2003n); // same leaf
    expect(t.allocatedLevelPages).toBe(levels);
    if (levels > 1) {
      t.set(2 ** s, 0x3003n); // next leaf, same parent
      expect(t.allocatedLevelPages).toBe(levels + 1);
    }
    if (levels > 2) {
      t.set(2 ** (2 * s), 0x4003n); // next middle block: a new middle and a new leaf
      expect(t.allocatedLevelPages).toBe(levels + 3);
    }
    const last = t.entries - 1;
    t.set(last, 0xdead_b000_0000_0003n);
    expect(t.get(last)).toBe(0xdead_b000_0000_0003n);
    expect(t.getLo(last)).toBe(0x0000_0003);
    expect(t.getHi(last)).toBe(0xdead_b000);
    expect(t.get(0)).toBe(0x1003n);
    expect(t.get(1)).toBe(0x2003n);
    expect(t.allocatedBytes).toBe(t.allocatedLevelPages * t.levelBytes);
  });

  it('storing zero never allocates; reads under missing levels are 0', () => {
    const t = TceTable.create(params({ windowSize: TiB, levels: 3 }));
    t.set(12345678, 0n);
    t.setParts(99, 0, 0);
    expect(t.allocatedLevelPages).toBe(1);
    expect(t.get(12345678)).toBe(0n);
    expect(t.getLo(t.entries - 1)).toBe(0);
  });

  it('setParts takes signed or unsigned halves; set rejects values that are not u64', () => {
    const t = TceTable.create(params());
    t.setParts(7, -1, 0x7fff_ffff);
    expect(t.get(7)).toBe(0x7fff_ffff_ffff_ffffn);
    expect(() => t.set(7, 1n << 64n)).toThrow(VphbError);
    expect(() => t.set(7, -1n)).toThrow(VphbError);
  });

  it('rejects indexes outside the table (EINVAL)', () => {
    const t = TceTable.create(params());
    expect(errno(() => t.get(t.entries))).toBe('EINVAL');
    expect(errno(() => t.set(-1, 1n))).toBe('EINVAL');
    expect(errno(() => t.clear(t.entries - 1, 2))).toBe('EINVAL');
    expect(errno(() => t.get(1.5))).toBe('EINVAL');
  });
});

describe('ranges', () => {
  const le = (values: bigint[], pad = 0) => {
    const b = new Uint8Array(pad + values.length * 8);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setBigUint64(pad + i * 8, v, true));
    return b;
  };

  it('writeLE copies unaligned little-endian u64s across leaf boundaries', () => {
    const t = TceTable.create(params({ windowSize: TiB, levels: 3 })); // 8192 entries per leaf
    const start = 8190;
    const vals = [1n, 0xffff_ffff_ffff_ffffn, 0x1234_5678_9abc_def3n, 4n, 5n];
    t.writeLE(start, le(vals, 3), 3, vals.length);
    expect(vals.map((_, i) => t.get(start + i))).toEqual(vals);
    expect(t.allocatedLevelPages).toBe(1 + 1 + 2); // top, one middle, two leaves
    const out = new Uint8Array(5 + vals.length * 8);
    t.readLE(start, vals.length, out, 5);
    expect(out.subarray(5)).toEqual(le(vals));
  });

  it('writeLE allocates a leaf only for a segment with a non-zero entry', () => {
    const t = TceTable.create(params({ windowSize: TiB, levels: 3 }));
    t.writeLE(8192 * 10, new Uint8Array(8 * 8192 * 2), 0, 8192 * 2);
    expect(t.allocatedLevelPages).toBe(1);
    const src = new Uint8Array(8 * 8192 * 2);
    src[8 * 8192 + 8] = 3; // entry 8193 of the run: second leaf
    t.writeLE(8192 * 10, src, 0, 8192 * 2);
    expect(t.allocatedLevelPages).toBe(3);
    expect(t.get(8192 * 11 + 1)).toBe(3n);
  });

  it('readLE of missing levels yields zeros and overwrites the destination', () => {
    const t = TceTable.create(params({ windowSize: TiB, levels: 2 }));
    const out = new Uint8Array(64).fill(0xaa);
    t.readLE(1000, 8, out, 0);
    expect(out.every((b) => b === 0)).toBe(true);
  });

  it('clear zeroes a range, skips missing subtrees, and reports what was non-zero', () => {
    const t = TceTable.create(params({ windowSize: TiB, levels: 3 }));
    const idx = [5, 8192 * 3 + 1, 2 ** 26 + 7, t.entries - 1];
    idx.forEach((i, k) => t.set(i, BigInt(k + 1) << 12n | 3n));
    const seen: [number, number, number][] = [];
    t.clear(0, t.entries, (i, lo, hi) => seen.push([i, lo, hi]));
    expect(seen).toEqual(idx.map((i, k) => [i, ((k + 1) << 12) | 3, 0]));
    expect(idx.map((i) => t.get(i))).toEqual([0n, 0n, 0n, 0n]);
    expect(t.allocatedLevelPages).toBe(1 + 3 + 4); // levels stay allocated
  });

  it('clear of part of a range keeps the rest', () => {
    const t = TceTable.create(params());
    for (let i = 0; i < 10; i++) t.setParts(i, (i + 1) * 4096 + 1, 0);
    t.clear(3, 4);
    expect([...Array(10).keys()].map((i) => t.getLo(i) !== 0)).toEqual([true, true, true, false, false, false, false, true, true, true]);
  });

  it('forEachNonZero visits entries in index order', () => {
    const t = TceTable.create(params({ windowSize: TiB, levels: 2 }));
    const idx = [2 ** 27, 3, 2 ** 14 + 2];
    for (const i of idx) t.setParts(i, 0x1001, 1);
    const seen: number[] = [];
    t.forEachNonZero((i, lo, hi) => {
      expect([lo, hi]).toEqual([0x1001, 1]);
      seen.push(i);
    });
    expect(seen).toEqual([...idx].sort((a, b) => a - b));
    const part: number[] = [];
    t.forEachNonZeroIn(4, 2 ** 27 - 4, (i) => part.push(i));
    expect(part).toEqual([2 ** 14 + 2]);
  });

  it('maps bus addresses to indexes relative to the window start', () => {
    const t = TceTable.create(params({ windowSize: TiB, levels: 2, busStart: 1n << 59n, pageShift: 16 }));
    expect(t.contains((1n << 59n) - 1n)).toBe(false);
    expect(t.contains(1n << 59n)).toBe(true);
    expect(t.contains((1n << 59n) + TiB)).toBe(false);
    expect(t.indexOf((1n << 59n) + 0x3_0000n + 5n)).toBe(3);
    expect(t.busEnd).toBe((1n << 59n) + TiB);
  });

  it('free drops every level', () => {
    const t = TceTable.create(params({ windowSize: TiB, levels: 2 }));
    t.set(1, 0x1003n);
    t.free();
    expect(t.freed).toBe(true);
    expect(t.allocatedLevelPages).toBe(0);
    expect(() => t.get(1)).toThrow(VphbError);
  });
});
