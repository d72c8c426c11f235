import { describe, expect, it } from 'vitest';
import { H_PARAMETER, H_SUCCESS, H_TOO_HARD, KVM_CAP_PPC_ENABLE_HCALL } from '../../src/kvm/constants.js';
import { hGetTce, hPutTce, hPutTceIndirect, hStuffTce, tcePutBatch } from '../../src/kvm/hcalls.js';
import { Vm } from '../../src/kvm/vm.js';
import { quirksOf, type ProfileName } from '../../src/vfio/profile.js';
import { FakeMm, bytesOf } from './fakes.js';

const LIOBN = 0x8000_0001n;
const RAM = 0x1000_0000n; // 256 MiB at gpa 0
const UA = 0x7fff_0000_0000n;

function setup(pageShift = 12, offset = 0n, size = 0x10000n, profile: ProfileName = 'linux') {
  const mm = new FakeMm();
  const vm = new Vm(1, 16, mm, quirksOf(profile));
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: RAM, userspaceAddr: UA });
  const table = vm.createSpaprTce64({ liobn: LIOBN, pageShift, flags: 0, offset, size });
  vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x13cn, 1n]);
  vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x138n, 1n]);
  return { mm, vm, table };
}


describe('H_PUT_TCE / H_GET_TCE', () => {
  it('checks liobn, ioba, tce in order', () => {
    const { vm } = setup();
    expect(hPutTce(vm, 0x42n, 0x1001n, 0x3n)).toBe(H_TOO_HARD); // unknown liobn before ioba
    expect(hPutTce(vm, LIOBN, 0x1001n, 0x1003n)).toBe(H_PARAMETER); // unaligned ioba
    expect(hPutTce(vm, LIOBN, 0x10000n << 12n, 0x1003n)).toBe(H_PARAMETER); // past window
    expect(hPutTce(vm, LIOBN, 0x1000n, 0x1007n)).toBe(H_TOO_HARD); // bits below the page
    expect(hPutTce(vm, LIOBN, 0x1000n, RAM | 1n)).toBe(H_TOO_HARD); // not in a memslot
    expect(hPutTce(vm, LIOBN, 0x1000n, (1n << 60n) | 1n)).toBe(H_TOO_HARD); // beyond 2^52
    expect(hGetTce(vm, LIOBN, 0x1000n)).toEqual({ ret: H_SUCCESS, tce: 0n });
    expect(hPutTce(vm, LIOBN, 0x1000n, 0x5000n | 3n)).toBe(H_SUCCESS);
    expect(hGetTce(vm, LIOBN, 0x1000n)).toEqual({ ret: H_SUCCESS, tce: 0x5003n });
    expect(hGetTce(vm, 0x42n, 0x1000n).ret).toBe(H_TOO_HARD);
    expect(hGetTce(vm, LIOBN, 0x1800n).ret).toBe(H_PARAMETER);
  });

  it('stores poison (no permission bits) verbatim and clears lazily', () => {
    const { vm, table } = setup();
    expect(hPutTce(vm, LIOBN, 0x2000n, 0x0n)).toBe(H_SUCCESS);
    expect(table.allocatedPages).toBe(0); // zero into an untouched page allocates nothing
    expect(hPutTce(vm, LIOBN, 0x2000n, 0xdead_b000_0000n)).toBe(H_SUCCESS); // poison: not validated
    expect(hGetTce(vm, LIOBN, 0x2000n).tce).toBe(0xdead_b000_0000n);
    expect(table.allocatedPages).toBe(1);
  });

  it('window with an offset: ioba below the start is H_PARAMETER', () => {
    const { vm } = setup(16, 0x100n, 0x100n); // bus 0x1000000..0x2000000
    expect(hPutTce(vm, LIOBN, 0xff0000n, 0n)).toBe(H_PARAMETER);
    expect(hPutTce(vm, LIOBN, 0x1000000n, 0x10000n | 1n)).toBe(H_SUCCESS);
    expect(hPutTce(vm, LIOBN, 0x1000000n, 0x11000n | 1n)).toBe(H_TOO_HARD); // 4K-aligned, 64K page
    expect(hPutTce(vm, LIOBN, 0x2000000n, 0n)).toBe(H_PARAMETER);
  });

  it('large pages (page_shift > 32) check the alignment in the high word', () => {
    const { vm } = setup(34, 0n, 4n);
    expect(hPutTce(vm, LIOBN, 0n, (1n << 33n) | 1n)).toBe(H_TOO_HARD);
    expect(hPutTce(vm, LIOBN, 0n, 0x1000_0000n | 1n)).toBe(H_TOO_HARD);
  });
});

describe('H_PUT_TCE_INDIRECT', () => {
  it('is H_TOO_HARD until enabled', () => {
    const { vm } = setup();
    vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x13cn, 0n]);
    expect(hPutTceIndirect(vm, LIOBN, 0n, 0x1000n, [3n]).ret).toBe(H_TOO_HARD);
  });

  it('checks liobn, npages, tce_list alignment, ioba range, tce_list in RAM, in that order', () => {
    const { vm } = setup();
    const many = new Array<bigint>(513).fill(0n);
    expect(hPutTceIndirect(vm, 0x42n, 1n, 1n, many).ret).toBe(H_TOO_HARD);
    expect(hPutTceIndirect(vm, LIOBN, 1n, 1n, many).ret).toBe(H_PARAMETER);
    expect(hPutTceIndirect(vm, LIOBN, 1n, 0x1008n, [0n]).ret).toBe(H_PARAMETER); // list alignment
    expect(hPutTceIndirect(vm, LIOBN, 1n, RAM, [0n]).ret).toBe(H_PARAMETER); // ioba before list in RAM
    expect(hPutTceIndirect(vm, LIOBN, 0x10000n << 12n, 0x1000n, [0n]).ret).toBe(H_PARAMETER); // first page outside
    expect(hPutTceIndirect(vm, LIOBN, 0n, RAM, [0n]).ret).toBe(H_TOO_HARD);
    expect(hPutTceIndirect(vm, LIOBN, 0xffffn << 12n, 0x1000n, [0n]).ret).toBe(H_SUCCESS);
  });

  it('K11 linux: pass 2 translates every entry: a poison TCE outside every memory slot is H_PARAMETER there', () => {
    const { vm, table } = setup();
    expect(hPutTceIndirect(vm, LIOBN, 0n, 0x1000n, [0x1003n, RAM + 0x5000n, 0x2003n])).toEqual({ ret: H_PARAMETER, written: 1 });
    expect([0, 1, 2].map((i) => table.get(i))).toEqual([0x1003n, 0n, 0n]);
    // pass 1 still covers the entries after it: nothing written
    expect(hPutTceIndirect(vm, LIOBN, 0x3000n, 0x1000n, [0x1003n, RAM, RAM | 3n])).toEqual({ ret: H_TOO_HARD, written: 0 });
    expect(table.get(3)).toBe(0n);
    // a poison value inside RAM is stored as given
    expect(hPutTceIndirect(vm, LIOBN, 0x4000n, 0x1000n, [0x7000n]).ret).toBe(H_SUCCESS);
    expect(table.get(4)).toBe(0x7000n);
  });

  it('K11 strict: clears and poison TCEs are stored as given', () => {
    const { vm, table } = setup(12, 0n, 0x10000n, 'strict');
    expect(hPutTceIndirect(vm, LIOBN, 0n, 0x1000n, [0x1003n, RAM + 0x5000n, 0x2003n])).toEqual({ ret: H_SUCCESS, written: 3 });
    expect([0, 1, 2].map((i) => table.get(i))).toEqual([0x1003n, RAM + 0x5000n, 0x2003n]);
  });

  it('linux checks the first page of the range only (K12): the part inside the window is written', () => {
    const { vm, table } = setup();
    expect(hPutTceIndirect(vm, LIOBN, 0xffffn << 12n, 0x1000n, [0x5003n, 0x6003n])).toEqual({ ret: H_SUCCESS, written: 1 });
    expect(table.get(0xffff)).toBe(0x5003n);
  });

  it('strict: the range check covers every page, not only the first', () => {
    const { vm, table } = setup(12, 0n, 0x10000n, 'strict');
    expect(hPutTceIndirect(vm, LIOBN, 0xffffn << 12n, 0x1000n, [0x5003n, 0x6003n]).ret).toBe(H_PARAMETER);
    expect(table.get(0xffff)).toBe(0n);
    expect(hPutTceIndirect(vm, LIOBN, 0xffffn << 12n, 0x1000n, [0n]).ret).toBe(H_SUCCESS);
  });

  it('writes nothing when any entry is bad (pass 1)', () => {
    const { vm, table } = setup();
    const r = hPutTceIndirect(vm, LIOBN, 0n, 0x1000n, [0x1003n, 0x2003n, RAM | 3n, 0x4003n]);
    expect(r).toEqual({ ret: H_TOO_HARD, written: 0 });
    for (let i = 0; i < 4; i++) expect(table.get(i)).toBe(0n);
    expect(hPutTceIndirect(vm, LIOBN, 0n, 0x1000n, [0x1003n, 0x2001n, 0n, 0x4002n]).ret).toBe(H_SUCCESS);
    expect([0, 1, 2, 3].map((i) => table.get(i))).toEqual([0x1003n, 0x2001n, 0n, 0x4002n]);
  });
});

describe('H_STUFF_TCE', () => {
  it('is H_TOO_HARD until enabled, then checks liobn, ioba range, permission bits', () => {
    const { vm, table } = setup();
    vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x138n, 0n]);
    expect(hStuffTce(vm, LIOBN, 0n, 0n, 1n)).toBe(H_TOO_HARD);
    vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x138n, 1n]);
    expect(hStuffTce(vm, 0x42n, 1n, 3n, 1n)).toBe(H_TOO_HARD);
    expect(hStuffTce(vm, LIOBN, 1n, 3n, 1n)).toBe(H_PARAMETER);
    expect(hStuffTce(vm, LIOBN, 0x10000n << 12n, 0n, 1n)).toBe(H_PARAMETER); // first page outside
    expect(hStuffTce(vm, LIOBN, 0n, 0x1001n, 2n)).toBe(H_PARAMETER);
    expect(hStuffTce(vm, LIOBN, 0n, 0x1002n, 2n)).toBe(H_PARAMETER);
    hPutTce(vm, LIOBN, 0x3000n, 0x1003n);
    expect(hStuffTce(vm, LIOBN, 0x1000n, 0xbad0000n, 3n)).toBe(H_SUCCESS); // poison
    expect([0, 1, 2, 3, 4].map((i) => table.get(i))).toEqual([0n, 0xbad0000n, 0xbad0000n, 0xbad0000n, 0n]);
    expect(hStuffTce(vm, LIOBN, 0n, 0n, 0x10000n)).toBe(H_SUCCESS);
    expect(table.get(3)).toBe(0n);
  });

  it('npages running past the window end: linux (K12) stuffs the part inside; strict H_PARAMETER', () => {
    const l = setup();
    expect(hStuffTce(l.vm, LIOBN, 0xfffen << 12n, 0xbad0000n, 5n)).toBe(H_SUCCESS);
    expect([0xfffe, 0xffff].map((i) => l.table.get(i))).toEqual([0xbad0000n, 0xbad0000n]);
    expect(hStuffTce(l.vm, LIOBN, 0n, 0n, 0x10001n)).toBe(H_SUCCESS);
    expect(l.table.get(0xffff)).toBe(0n);
    const s = setup(12, 0n, 0x10000n, 'strict');
    expect(hStuffTce(s.vm, LIOBN, 0xfffen << 12n, 0xbad0000n, 5n)).toBe(H_PARAMETER);
    expect(s.table.get(0xfffe)).toBe(0n);
    expect(hStuffTce(s.vm, LIOBN, 0n, 0n, 0x10001n)).toBe(H_PARAMETER);
  });

  it('clearing untouched pages allocates nothing', () => {
    const { vm, table } = setup();
    expect(hStuffTce(vm, LIOBN, 0n, 0n, 0x10000n)).toBe(H_SUCCESS);
    expect(table.allocatedPages).toBe(0);
  });
});

describe('TCE_PUT_BATCH (model)', () => {
  it('no 512 limit, no enable switch, same checks as INDIRECT', () => {
    const { vm, table } = setup();
    vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x13cn, 0n]);
    const tces = Array.from({ length: 10000 }, (_, i) => (BigInt(i) << 12n) | BigInt(1 + (i % 3)));
    const src = bytesOf(tces);
    expect(tcePutBatch(vm, 0x42n, 0n, src, 0, 10000)).toEqual({ ret: H_TOO_HARD, written: 0 });
    expect(tcePutBatch(vm, LIOBN, 0xe000n << 12n, src, 0, 10000)).toEqual({ ret: H_PARAMETER, written: 0 });
    expect(tcePutBatch(vm, LIOBN, 0n, src, 0, 10000)).toEqual({ ret: H_SUCCESS, written: 10000 });
    for (const i of [0, 1, 8191, 8192, 9999]) expect(table.get(i)).toBe(tces[i]);
    // unaligned source view
    const shifted = new Uint8Array(8 * 3 + 3);
    shifted.set(bytesOf([0x7003n, 0x8001n, 0x9002n]), 3);
    expect(tcePutBatch(vm, LIOBN, 0x10n << 12n, shifted, 3, 3).ret).toBe(H_SUCCESS);
    expect([16, 17, 18].map((i) => table.get(i))).toEqual([0x7003n, 0x8001n, 0x9002n]);
  });

  it('equals the same entries put one by one', () => {
    const a = setup();
    const b = setup();
    const tces = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? 0n : (BigInt(i * 3) << 12n) | BigInt(1 + (i % 3))));
    expect(tcePutBatch(a.vm, LIOBN, 0x100n << 12n, bytesOf(tces), 0, tces.length).ret).toBe(H_SUCCESS);
    tces.forEach((t, i) => expect(hPutTce(b.vm, LIOBN, BigInt(0x100 + i) << 12n, t)).toBe(H_SUCCESS));
    const ra = new Uint8Array(0x10000 * 8);
    const rb = new Uint8Array(0x10000 * 8);
    a.table.readLE(0, 0x10000, ra, 0);
    b.table.readLE(0, 0x10000, rb, 0);
    expect(Buffer.compare(ra, rb)).toBe(0);
    expect(a.table.allocatedPages).toBe(b.table.allocatedPages);
  });

  it('table close refunds the accounting', () => {
    const { mm, table } = setup();
    expect(mm.locked).toBeGreaterThan(0);
    table.close();
    expect(mm.locked).toBe(0);
  });
});
