/**
 * The batch engine reads 4-byte aligned runs through a Uint32Array and other runs through a
 * DataView, and caches the slot / preregistered span of the last entry: a long run that hops
 * between slots and spans, with poison and clear entries, must land identically at every byte
 * offset (guest view, hardware table and reference counts), and a bad entry deep in the run must
 * stop it before anything is written at every offset.
 */
import { describe, expect, it } from 'vitest';
import { H_SUCCESS, H_TOO_HARD } from '../../src/kvm/constants.js';
import { tcePutBatch } from '../../src/kvm/hcalls.js';
import { Vm } from '../../src/kvm/vm.js';
import { FakeMm, FakeWindow, linkFakeWindow } from './fakes.js';

const LIOBN = 9n;
const BUS = 1n << 59n;
const RAM = 64 << 20;
const N = 3000;

function world(hwShift: number | undefined) {
  const vm = new Vm(1, 16, new FakeMm());
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: BigInt(RAM), userspaceAddr: 0x3_0000_0000n });
  vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 1n << 33n, memorySize: BigInt(RAM), userspaceAddr: 0x1000_0000n });
  const table = vm.createSpaprTce64({ liobn: LIOBN, pageShift: 16, flags: 0, offset: BUS >> 16n, size: 4096n });
  const prereg = [{ ua: 0x3_0000_0000, size: RAM, mapped: 0 }, { ua: 0x1000_0000, size: RAM, mapped: 0 }];
  let window: FakeWindow | undefined;
  if (hwShift !== undefined) window = linkFakeWindow(vm, table, prereg, hwShift, BUS, 1n << 32n).window;
  const snapshot = () => {
    const g = new Uint8Array(4096 * 8);
    table.readLE(0, 4096, g, 0);
    let h = '';
    if (window !== undefined) {
      const n = 4096 << (16 - window.table.pageShift);
      const hb = new Uint8Array(n * 8);
      window.table.readLE(0, n, hb, 0);
      h = Buffer.from(hb).toString('hex');
    }
    return `${Buffer.from(g).toString('hex')}|${h}|${prereg.map((r) => r.mapped).join(',')}`;
  };
  return { vm, snapshot };
}

/** Entry i: runs of 37 entries alternate between the two slots; every 11th is poison, every 13th a clear. */
function entries(bad: number): bigint[] {
  return Array.from({ length: N }, (_, i) => {
    if (i === bad) return (1n << 33n) + BigInt(RAM) | 1n; // just past slot 1
    if (i % 13 === 0) return 0n;
    if (i % 11 === 0) return 0xdead_0000n; // poison: address, no permissions
    const page = BigInt((i * 7) % (RAM >> 16)) << 16n;
    return ((Math.floor(i / 37) % 2 === 0 ? 0n : 1n << 33n) + page) | BigInt(1 + (i % 3));
  });
}

function put(w: ReturnType<typeof world>, tces: bigint[], shift: number) {
  const bytes = new Uint8Array(tces.length * 8 + shift);
  const dv = new DataView(bytes.buffer);
  tces.forEach((t, i) => dv.setBigUint64(shift + i * 8, t, true));
  return tcePutBatch(w.vm, LIOBN, BUS + (7n << 16n), bytes, shift, tces.length);
}

describe('TCE_PUT_BATCH: aligned and unaligned runs', () => {
  for (const hw of [undefined, 16, 12] as const) {
    it(`land identically at every byte offset (hardware ${hw ?? 'none'})`, () => {
      const snaps = [0, 1, 2, 3, 4, 5, 6, 7].map((shift) => {
        const w = world(hw);
        expect(put(w, entries(-1).reverse(), shift).ret).toBe(H_SUCCESS); // something to replace
        expect(put(w, entries(-1), shift)).toEqual({ ret: H_SUCCESS, written: N });
        return w.snapshot();
      });
      for (const s of snaps) expect(s).toBe(snaps[0]);
    });

    it(`stop before writing on a bad entry at every byte offset (hardware ${hw ?? 'none'})`, () => {
      for (const shift of [0, 1, 4, 7]) {
        const w = world(hw);
        put(w, entries(-1), shift);
        const before = w.snapshot();
        expect(put(w, entries(N - 5), shift)).toEqual({ ret: H_TOO_HARD, written: 0 });
        expect(w.snapshot()).toBe(before);
      }
    });
  }
});
