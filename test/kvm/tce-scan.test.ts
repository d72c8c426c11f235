/**
 * SimdScanner (WebAssembly SIMD) = scanJs (its specification) on random runs: random cache
 * parameters, entries inside and outside the range, misaligned, other high words, without
 * permissions, runs longer than one copied block, and restarts after each hit as pass 1 does.
 */
import { describe, expect, it } from 'vitest';
import { SimdScanner, scanJs } from '../../src/kvm/tce-scan.js';
import { rng } from '../helpers/rng.js';

const simd = SimdScanner.create();

describe('TCE scan: WebAssembly SIMD = JS', () => {
  it('WebAssembly SIMD is available on this Node (else pass 1 silently runs in JS)', () => {
    expect(simd).toBeDefined();
  });

  it('answers the same first index on random runs, through every hit', () => {
    const r = rng(3);
    let hits = 0;
    for (let round = 0; round < 60; round++) {
      const n = round % 10 === 0 ? 65536 + Math.floor(r() * 70000) : 1 + Math.floor(r() * 3000);
      const words = new Uint32Array(2 * n);
      const alignMask = [0, 0xffc, 0xfffc, 0xfffffc, 0xfffffffc][Math.floor(r() * 5)]!;
      const cHi = r() < 0.5 ? 0 : Math.floor(r() * 2 ** 32);
      const cFirst = Math.floor(r() * 2 ** 32);
      const cSpan = r() < 0.3 ? 0xffff_ffff : Math.floor(r() * 2 ** 32);
      const rare = r() < 0.5 ? 0.0005 : 0.05; // how often an entry needs the slow path
      for (let e = 0; e < n; e++) {
        const k = r();
        let lo = ((cFirst + Math.floor(r() * Math.min(cSpan, 2 ** 31))) & ~alignMask & ~3) >>> 0;
        let hi = cHi;
        if (k < rare) lo = (lo | 0x1000) >>> 0; // maybe misaligned
        else if (k < 2 * rare) hi = (cHi + 1) >>> 0; // other high word
        else if (k < 3 * rare) lo = (cFirst - 8) >>> 0; // below the range
        words[2 * e] = (lo | (r() < 0.1 ? 0 : 1 + Math.floor(r() * 3))) >>> 0;
        words[2 * e + 1] = hi;
      }
      simd!.begin(words);
      for (let e = 0; e < n; e++) {
        const want = scanJs(words, e, n, alignMask, cHi, cFirst, cSpan);
        expect(simd!.scan(e, n, alignMask, cHi, cFirst, cSpan)).toBe(want);
        if (want === n) break;
        hits++;
        e = want;
      }
    }
    expect(hits).toBeGreaterThan(500);
  });
});
