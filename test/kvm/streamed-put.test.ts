/**
 * Property test of the streamed batch (StreamedPut, the fast path) against its specification,
 * putTces on the whole run (tcePutBatch): random entries, valid or not, cut into random pieces at
 * random byte offsets (entries split across pieces, pieces misaligned), into unlinked tables and
 * tables linked to one hardware window of the same or smaller pages. Result, guest view, hardware
 * table and preregistered-memory counts must be identical. Seeded, small, fast.
 */
import { describe, expect, it } from 'vitest';
import { H_SUCCESS } from '../../src/kvm/constants.js';
import { tcePutBatch } from '../../src/kvm/hcalls.js';
import { StreamedPut, iobaIndex } from '../../src/kvm/tce-batch.js';
import { Vm } from '../../src/kvm/vm.js';
import { FakeMm, FakeWindow, linkFakeWindow } from './fakes.js';
import { rng } from '../helpers/rng.js';

const LIOBN = 7n;
const BUS = 1n << 59n;
const UA = 0x3_0000_0000;
const RAM = 32 << 20;

function world(sttShift: number, hwShift: number | undefined, SIZE: number) {
  const vm = new Vm(1, 16, new FakeMm());
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: BigInt(RAM), userspaceAddr: BigInt(UA) });
  vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 1n << 36n, memorySize: BigInt(RAM), userspaceAddr: 0x1000_0000n });
  const table = vm.createSpaprTce64({ liobn: LIOBN, pageShift: sttShift, flags: 0, offset: BUS >> BigInt(sttShift), size: BigInt(SIZE) });
  // The second slot is preregistered up to one hardware page past its middle: a larger guest page
  // there passes pass 1 (its first hardware page is preregistered) and fails in the hardware write.
  const prereg = [{ ua: UA, size: RAM, mapped: 0 }, { ua: 0x1000_0000, size: RAM / 2 + 2 ** (hwShift ?? 12), mapped: 0 }];
  let window: FakeWindow | undefined;
  if (hwShift !== undefined) window = linkFakeWindow(vm, table, prereg, hwShift, BUS, 1n << 40n).window;
  return { vm, table, window, prereg, SIZE };
}

function snapshot(w: ReturnType<typeof world>): string {
  const SIZE = w.SIZE;
  const g = new Uint8Array(SIZE * 8);
  w.table.readLE(0, SIZE, g, 0);
  let h = '';
  if (w.window !== undefined) {
    const n = SIZE << (w.table.pageShift - w.window.table.pageShift);
    const hb = new Uint8Array(n * 8);
    w.window.table.readLE(0, n, hb, 0);
    h = Buffer.from(hb).toString('hex');
  }
  return `${Buffer.from(g).toString('hex')}|${h}|${w.prereg.map((r) => r.mapped).join(',')}|${w.table.allocatedPages}`;
}

function randomTce(r: () => number, shift: number, bad: boolean, repeat: bigint | undefined, slot1: boolean): bigint {
  if (repeat !== undefined && r() < 0.5) return repeat; // rewrite what is there (unchanged entries)
  const perms = BigInt(Math.floor(r() * 4));
  const page = BigInt(Math.floor(r() * ((RAM >> shift) - 1))) << BigInt(shift);
  // Second slot: only half preregistered; its pages around the middle most often.
  const k = r() < 0.9 ? Math.floor(r() * 2) - 1 : 1; // the page below the middle, at it, above it
  const mid = BigInt(RAM / 2 + k * 2 ** shift);
  const low = BigInt(Math.floor(r() * ((RAM / 2) >> shift))) << BigInt(shift);
  if (slot1 && r() < 0.2) return ((1n << 36n) + (r() < 0.5 ? mid : low)) | 3n;
  const base = 0n;
  if (!bad) return perms === 0n && r() < 0.5 ? 0n : (base + page) | perms;
  const kind = Math.floor(r() * 3);
  if (kind === 0) return BigInt(RAM + (1 << shift)) | 1n; // not in a slot
  if (kind === 1) return (base + page + 0x800n) | 2n; // misaligned
  return (1n << 60n) | 3n; // beyond 2^52
}

/** The run cut into pieces of random sizes, each in a buffer of its own at a random offset. */
function piecesOf(r: () => number, bytes: Uint8Array): { src: Uint8Array; at: number; n: number }[] {
  const out: { src: Uint8Array; at: number; n: number }[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = Math.min(bytes.length - at, 1 + Math.floor(r() * (r() < 0.3 ? 13 : 2000)));
    const pad = Math.floor(r() * 8);
    const src = new Uint8Array(pad + n);
    src.set(bytes.subarray(at, at + n), pad);
    out.push({ src, at: pad, n });
    at += n;
  }
  return out;
}

describe('StreamedPut = putTces on the whole run', () => {
  for (const [sttShift, hwShift, size] of [[16, undefined, 4096], [12, undefined, 4096], [16, 16, 2048], [16, 12, 256], [24, 16, 32]] as const) {
    it(`page_shift ${sttShift}, hardware ${hwShift ?? 'none'}`, () => {
      const r = rng(sttShift * 1000 + (hwShift ?? 1));
      let streamedCommits = 0;
      let fallbacks = 0;
      let hwFailures = 0;
      for (let round = 0; round < 6; round++) {
        const a = world(sttShift, hwShift, size);
        const b = world(sttShift, hwShift, size);
        for (let batch = 0; batch < 6; batch++) {
          const n = 1 + Math.floor(r() * Math.min(size - 1, r() < 0.5 ? 64 : 1500));
          const start = Math.floor(r() * (size - n));
          const poison = r() < 0.25 ? Math.floor(r() * n) : -1;
          const slot1 = r() < 0.3;
          const tces = Array.from({ length: n }, (_, i) => randomTce(r, sttShift, i === poison, r() < 0.3 ? undefined : a.table.get(start + i), slot1));
          const bytes = new Uint8Array(n * 8);
          const dv = new DataView(bytes.buffer);
          tces.forEach((t, i) => dv.setBigUint64(i * 8, t, true));
          const ioba = BUS + (BigInt(start) << BigInt(sttShift));

          const want = tcePutBatch(a.vm, LIOBN, ioba, bytes, 0, n);

          const index = iobaIndex(b.table, ioba, BigInt(n));
          const put = new StreamedPut(b.vm.memslots, b.table, b.table.targets(), index, n);
          for (const p of piecesOf(r, bytes)) put.add(p.src, p.at, p.n);
          expect(put.complete).toBe(true);
          let got;
          if (put.valid) {
            got = put.commit();
            streamedCommits++;
            if (got.ret !== H_SUCCESS) hwFailures++;
          } else {
            got = tcePutBatch(b.vm, LIOBN, ioba, bytes, 0, n); // what the ops stream does
            fallbacks++;
            expect(want.written).toBe(0);
          }
          expect(got).toEqual(want);
          expect(snapshot(b)).toBe(snapshot(a));
        }
      }
      // Both branches were exercised.
      expect(streamedCommits).toBeGreaterThan(5);
      expect(fallbacks).toBeGreaterThan(0);
      if (hwShift !== undefined && sttShift > hwShift) expect(hwFailures).toBeGreaterThan(0);
    });
  }

  it('refuses several hardware targets and a commit before the run is complete or valid', () => {
    const w = world(16, undefined, 16);
    const put = new StreamedPut(w.vm.memslots, w.table, [], 0, 2);
    put.add(new Uint8Array(12), 0, 12);
    expect(put.complete).toBe(false);
    expect(() => put.commit()).toThrow(/not a complete valid run/);
    put.add(new Uint8Array(4), 0, 4);
    expect(put.commit()).toEqual({ ret: H_SUCCESS, written: 2 });
    expect(() => put.add(new Uint8Array(8), 0, 8)).toThrow(RangeError);
  });
});
