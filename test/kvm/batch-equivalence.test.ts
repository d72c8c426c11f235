/**
 * Randomised equivalence: a batch (aligned or not) leaves guest view, hardware tables and
 * preregistered-memory counts exactly as the same entries put one by one, and a batch that fails
 * validation changes nothing. Seeded, small, fast.
 */
import { describe, expect, it } from 'vitest';
import { H_SUCCESS, H_TOO_HARD } from '../../src/kvm/constants.js';
import { hPutTce, tcePutBatch } from '../../src/kvm/hcalls.js';
import { Vm } from '../../src/kvm/vm.js';
import { FakeMm, FakeWindow, linkFakeWindow } from './fakes.js';
import { rng } from '../helpers/rng.js';

const LIOBN = 7n;
const BUS = 1n << 59n;
const UA = 0x3_0000_0000;
const RAM = 32 << 20;

function world(sttShift: number, hwShift: number | undefined) {
  const vm = new Vm(1, 16, new FakeMm());
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: BigInt(RAM), userspaceAddr: BigInt(UA) });
  vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 1n << 36n, memorySize: BigInt(RAM), userspaceAddr: 0x1000_0000n });
  const table = vm.createSpaprTce64({ liobn: LIOBN, pageShift: sttShift, flags: 0, offset: BUS >> BigInt(sttShift), size: 256n });
  const prereg = [{ ua: UA, size: RAM, mapped: 0 }, { ua: 0x1000_0000, size: RAM / 2, mapped: 0 }];
  let window: FakeWindow | undefined;
  if (hwShift !== undefined) window = linkFakeWindow(vm, table, prereg, hwShift, BUS, 1n << 32n).window;
  return { vm, table, window, prereg };
}

function snapshot(w: ReturnType<typeof world>): string {
  const g = new Uint8Array(256 * 8);
  w.table.readLE(0, 256, g, 0);
  let h = '';
  if (w.window !== undefined) {
    const n = 256 << (w.table.pageShift - w.window.table.pageShift);
    const hb = new Uint8Array(n * 8);
    w.window.table.readLE(0, n, hb, 0);
    h = Buffer.from(hb).toString('hex');
  }
  return `${Buffer.from(g).toString('hex')}|${h}|${w.prereg.map((r) => r.mapped).join(',')}`;
}

function randomTce(r: () => number, shift: number, bad: boolean): bigint {
  const perms = BigInt(Math.floor(r() * 4));
  const pages = (RAM >> shift) - 1;
  const page = BigInt(Math.floor(r() * pages)) << BigInt(shift);
  const base = r() < 0.2 ? 1n << 36n : 0n; // second slot: only half preregistered
  if (!bad) return perms === 0n && r() < 0.5 ? 0n : (base + page) | perms;
  const kind = Math.floor(r() * 3);
  if (kind === 0) return BigInt(RAM + (1 << shift)) | 1n; // not in a slot
  if (kind === 1) return (base + page + 0x800n) | 2n; // misaligned
  return (1n << 60n) | 3n; // beyond 2^52
}

describe('TCE_PUT_BATCH = one-by-one H_PUT_TCE', () => {
  for (const [sttShift, hwShift] of [[16, undefined], [16, 16], [16, 12], [24, 16]] as const) {
    it(`page_shift ${sttShift}, hardware ${hwShift ?? 'none'}`, () => {
      const r = rng(sttShift * 100 + (hwShift ?? 0));
      for (let round = 0; round < 12; round++) {
        const a = world(sttShift, hwShift);
        const b = world(sttShift, hwShift);
        for (let batch = 0; batch < 4; batch++) {
          const n = 1 + Math.floor(r() * 40);
          const start = Math.floor(r() * (256 - n));
          const poison = r() < 0.3 ? Math.floor(r() * n) : -1;
          const tces = Array.from({ length: n }, (_, i) => randomTce(r, sttShift, i === poison));
          const shift = Math.floor(r() * 4); // 0 = aligned view, else unaligned
          const bytes = new Uint8Array(n * 8 + shift);
          const dv = new DataView(bytes.buffer);
          tces.forEach((t, i) => dv.setBigUint64(shift + i * 8, t, true));
          const before = snapshot(a);
          const res = tcePutBatch(a.vm, LIOBN, BUS + (BigInt(start) << BigInt(sttShift)), bytes, shift, n);
          let rc = H_SUCCESS;
          let applied = 0;
          // one by one, stopping where the batch must stop
          for (let i = 0; i < n; i++) {
            const one = hPutTce(b.vm, LIOBN, BUS + (BigInt(start + i) << BigInt(sttShift)), tces[i]!);
            if (one !== H_SUCCESS) {
              rc = one;
              break;
            }
            applied++;
          }
          if (res.ret === H_SUCCESS) {
            expect(rc).toBe(H_SUCCESS);
            expect(res.written).toBe(n);
            expect(snapshot(a)).toBe(snapshot(b));
          } else {
            // pass 1 failed: nothing written by the batch; undo b by replaying a's state is not
            // possible, so rebuild b from a's entries
            expect(res).toEqual({ ret: H_TOO_HARD, written: 0 });
            expect(rc).toBe(H_TOO_HARD);
            expect(applied).toBeLessThan(n);
            expect(snapshot(a)).toBe(before);
            // bring b back in line: put a's guest view entries of the range into b
            for (let i = 0; i < n; i++) {
              hPutTce(b.vm, LIOBN, BUS + (BigInt(start + i) << BigInt(sttShift)), a.table.get(start + i));
            }
            expect(snapshot(a)).toBe(snapshot(b));
          }
        }
      }
    });
  }
});
