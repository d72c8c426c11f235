import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { H_SUCCESS, KVM_CAP_PPC_ENABLE_HCALL } from '../../src/kvm/constants.js';
import { hGetTce, hPutTce, hStuffTce, tcePutBatch } from '../../src/kvm/hcalls.js';
import { Vm } from '../../src/kvm/vm.js';
import { FakeMm, bytesOf } from './fakes.js';

const LIOBN = 0x8000_0001n;
const UA = 0x7fff_0000_0000n;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes the process holds (JS heap + array buffers), after a full collection. */
function footprint(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function vmWith(hostPageShift: number, pageShift: number, size: bigint) {
  const vm = new Vm(1, hostPageShift, new FakeMm()); // unlimited locked memory
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1n << 30n, userspaceAddr: UA });
  vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x138n, 1n]); // H_STUFF_TCE
  const table = vm.createSpaprTce64({ liobn: LIOBN, pageShift, flags: 0, offset: 0n, size });
  return { vm, table };
}

describe('GuestTceTable storage', () => {
  it('entries at and beyond 2^32 address their own entry (no 32-bit wrap)', () => {
    const { vm, table } = vmWith(16, 12, 2n ** 32n + 0x100n);
    expect(hPutTce(vm, LIOBN, 0x1000_0000_0000n, 0x5000n | 3n)).toBe(H_SUCCESS); // entry 2^32
    expect(hGetTce(vm, LIOBN, 0n)).toEqual({ ret: H_SUCCESS, tce: 0n });
    expect(hGetTce(vm, LIOBN, 0x1000_0000_0000n)).toEqual({ ret: H_SUCCESS, tce: 0x5003n });
    expect(table.allocatedPages).toBe(1);
    // A batch straddling 2^32: entries 2^32-2 .. 2^32+1.
    const src = bytesOf([0x1000n | 1n, 0x2000n | 1n, 0x3000n | 2n, 0x4000n | 3n]);
    expect(tcePutBatch(vm, LIOBN, (2n ** 32n - 2n) << 12n, src, 0, 4)).toEqual({ ret: H_SUCCESS, written: 4 });
    const back = (k: bigint) => hGetTce(vm, LIOBN, k << 12n).tce;
    expect([back(2n ** 32n - 2n), back(2n ** 32n - 1n), back(2n ** 32n), back(2n ** 32n + 1n)]).toEqual([0x1001n, 0x2001n, 0x3002n, 0x4003n]);
    expect([back(0n), back(1n), back(2n)]).toEqual([0n, 0n, 0n]);
    const out = new Uint8Array(32);
    table.readLE(2 ** 32 - 2, 4, out, 0);
    expect(out).toEqual(src);
  });

  it('creating a 1 TiB window of 4 KiB pages with 4 KiB host pages costs under 1 MiB', () => {
    const before = footprint();
    const tables = Array.from({ length: 16 }, () => vmWith(12, 12, 2n ** 28n).table);
    const perTable = (footprint() - before) / tables.length;
    expect(tables[0]!.allocatedPages).toBe(0);
    expect(perTable).toBeLessThan(1 << 20); // a flat page-pointer array alone would be 4 MiB
  });

  it('a used table costs at most 1.1x its touched leaves plus a small constant', () => {
    const { table } = vmWith(12, 12, 2n ** 28n);
    const before = footprint();
    const leaves = 4096;
    for (let i = 0; i < leaves; i++) table.put(i * 37 * 512 + (i % 512), 0x1000 * (i + 1) + 3, 0); // scattered pages
    const grown = footprint() - before;
    expect(table.allocatedPages).toBe(leaves);
    expect(grown).toBeLessThanOrEqual(1.1 * leaves * 4096 + (256 << 10));
    expect(table.getLo(5 * 37 * 512 + 5)).toBe(0x6003);
  });

  it('storing zeros into absent leaves materialises nothing (H_STUFF_TCE 0 over 1 GiB, zero batches)', () => {
    const { vm, table } = vmWith(12, 12, 2n ** 18n); // 1 GiB window
    expect(hStuffTce(vm, LIOBN, 0n, 0n, 2n ** 18n)).toBe(H_SUCCESS);
    expect(table.allocatedPages).toBe(0);
    expect(tcePutBatch(vm, LIOBN, 0n, new Uint8Array(8 * 4096), 0, 4096)).toEqual({ ret: H_SUCCESS, written: 4096 });
    expect(table.allocatedPages).toBe(0);
    expect(hPutTce(vm, LIOBN, 0x2000_0000n, 0x7000n | 1n)).toBe(H_SUCCESS);
    expect(table.allocatedPages).toBe(1);
    // A clear value over the whole window clears the touched leaf (kept) and allocates no other.
    expect(hStuffTce(vm, LIOBN, 0n, 0n, 2n ** 18n)).toBe(H_SUCCESS);
    expect(table.allocatedPages).toBe(1);
    expect(hGetTce(vm, LIOBN, 0x2000_0000n).tce).toBe(0n);
    // A poison value (no permissions) does materialise: it must read back.
    expect(hStuffTce(vm, LIOBN, 0n, 0xdead_0000n, 1024n)).toBe(H_SUCCESS);
    expect(table.allocatedPages).toBe(3);
    expect(hGetTce(vm, LIOBN, 1023n << 12n).tce).toBe(0xdead_0000n);
    expect(hGetTce(vm, LIOBN, 1024n << 12n).tce).toBe(0n);
  });
});
