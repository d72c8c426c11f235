import { describe, expect, it } from 'vitest';
import { errno as code } from '../helpers/errors.js';
import {
  H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE, KVM_CAP_PPC_ENABLE_HCALL,
} from '../../src/kvm/constants.js';
import { MemorySlots } from '../../src/kvm/memslots.js';
import { tablePages } from '../../src/kvm/guest-tce-table.js';
import { checkExtension, Vm } from '../../src/kvm/vm.js';
import { FakeMm } from './fakes.js';

const KiB64 = 0x1_0000n;
const region = (slot: number, gpa: bigint, size: bigint, ua: bigint, flags = 0) => ({
  slot, flags, guestPhysAddr: gpa, memorySize: size, userspaceAddr: ua,
});

describe('memory slots (KVM_SET_USER_MEMORY_REGION)', () => {
  it('checks flags, slot id, alignment, limits in order', () => {
    const m = new MemorySlots(16);
    expect(code(() => m.set(region(0, 1n, 3n, 5n, 4)))).toBe('EINVAL'); // flags first
    expect(code(() => m.set(region(512, 0n, KiB64, 0n)))).toBe('EINVAL');
    expect(code(() => m.set(region(0x10000, 0n, KiB64, 0n)))).toBe('EINVAL'); // address space 1
    expect(code(() => m.set(region(0, 0n, 0x1000n, 0n)))).toBe('EINVAL');
    expect(code(() => m.set(region(0, 0x1000n, KiB64, 0n)))).toBe('EINVAL');
    expect(code(() => m.set(region(0, 0n, KiB64, 0x1000n)))).toBe('EINVAL');
    expect(code(() => m.set(region(0, 0n, KiB64, (1n << 52n) - KiB64 + KiB64)))).toBe('EINVAL'); // ua+size > 2^52
    expect(code(() => m.set(region(0, 0n, KiB64, (1n << 52n) - KiB64)))).toBe('ok');
    expect(code(() => m.set(region(1, 0n, 0n, 0n)))).toBe('EINVAL'); // delete missing slot
  });

  it('creates, rejects overlap, moves, deletes; translates gpa to ua', () => {
    const m = new MemorySlots(16);
    m.set(region(0, 0n, 0x100000n, 0x7000_0000n));
    expect(code(() => m.set(region(1, 0xf0000n, 0x20000n, 0x9000_0000n)))).toBe('EEXIST');
    m.set(region(1, 0x100000n, 0x20000n, 0x9000_0000n));
    expect(m.toUserAddress(0x1234)).toBe(0x7000_1234);
    expect(m.toUserAddress(0x110000)).toBe(0x9001_0000);
    expect(m.toUserAddress(0x120000)).toBe(-1);
    expect(code(() => m.set(region(1, 0x100000n, 0x30000n, 0x9000_0000n)))).toBe('EINVAL'); // size change
    m.set(region(1, 0x200000n, 0x20000n, 0x9000_0000n)); // move
    expect(m.toUserAddress(0x110000)).toBe(-1);
    expect(m.toUserAddress(0x210000)).toBe(0x9001_0000);
    expect(code(() => m.set(region(1, 0x0n, 0x20000n, 0x9000_0000n)))).toBe('EEXIST'); // move onto slot 0
    m.set(region(0, 0n, 0n, 0n)); // delete
    expect(m.toUserAddress(0x1234)).toBe(-1);
    expect(m.list().map((s) => s.slot)).toEqual([1]);
  });
});

describe('VM', () => {
  it('answers capabilities', () => {
    for (const cap of [63, 125, 94, 104, 142]) expect(checkExtension(cap)).toBe(1);
    expect(checkExtension(9999)).toBe(0);
  });

  it('rejects unknown VM types', () => {
    expect(code(() => new Vm(7, 16, new FakeMm()))).toBe('EINVAL');
  });

  it('KVM_ENABLE_CAP(PPC_ENABLE_HCALL) switches every hcall HV KVM implements (K10), H_PUT_TCE included', () => {
    const vm = new Vm(0, 16, new FakeMm());
    expect(vm.hcallEnabled(H_PUT_TCE)).toBe(true);
    expect(vm.hcallEnabled(H_PUT_TCE_INDIRECT)).toBe(false);
    vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x13cn, 1n]);
    expect(vm.hcallEnabled(H_PUT_TCE_INDIRECT)).toBe(true);
    vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x13cn, 0n]);
    expect(vm.hcallEnabled(H_PUT_TCE_INDIRECT)).toBe(false);
    // What QEMU enables: H_LOGICAL_CI_LOAD/STORE, H_SET_MODE, H_CLEAR_REF, H_CLEAR_MOD, H_PAGE_INIT.
    for (const h of [0x3cn, 0x40n, 0x31cn, 0x14n, 0x10n, 0x2cn]) {
      vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [h, 1n]);
      expect(vm.hcallEnabled(Number(h))).toBe(true);
    }
    vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x20n, 0n]); // H_PUT_TCE off: the guest exits to userspace
    expect(vm.hcallEnabled(H_PUT_TCE)).toBe(false);
    expect(code(() => vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 1, [0x138n, 1n]))).toBe('EINVAL'); // flags
    expect(code(() => vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x138n, 2n]))).toBe('EINVAL');
    expect(code(() => vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x13dn, 1n]))).toBe('EINVAL'); // not a multiple of 4
    expect(code(() => vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x460n, 1n]))).toBe('EINVAL'); // above MAX_HCALL_OPCODE
    expect(code(() => vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x24n, 1n]))).toBe('EINVAL'); // H_SET_SPRG0: not implemented
    expect(code(() => vm.enableCap(1, 0, [0x138n, 1n]))).toBe('EINVAL');
    vm.enableCap(KVM_CAP_PPC_ENABLE_HCALL, 0, [0x138n, 1n]);
    expect(vm.hcallEnabled(H_STUFF_TCE)).toBe(true);
  });

  it('KVM_CREATE_SPAPR_TCE_64: checks in order, accounts, EBUSY undoes the charge', () => {
    const mm = new FakeMm();
    const vm = new Vm(1, 16, mm);
    const base = { liobn: 0x8000_0000n, pageShift: 12, flags: 0, offset: 0n, size: 0x40000n };
    expect(code(() => vm.createSpaprTce64({ ...base, flags: 1, size: 0n }))).toBe('EINVAL');
    expect(code(() => vm.createSpaprTce64({ ...base, size: 0n }))).toBe('EINVAL');
    expect(code(() => vm.createSpaprTce64({ ...base, pageShift: 11 }))).toBe('EINVAL');
    expect(code(() => vm.createSpaprTce64({ ...base, pageShift: 35 }))).toBe('EINVAL');
    expect(code(() => vm.createSpaprTce64({ ...base, pageShift: 24, offset: 1n << 40n, size: 1n << 40n }))).toBe('EINVAL');
    mm.limit = 5;
    expect(code(() => vm.createSpaprTce64(base))).toBe('ENOMEM'); // 32 + 1 pages
    expect(mm.locked).toBe(0);
    mm.limit = Infinity;
    const t = vm.createSpaprTce64(base);
    // 0x40000 entries * 8 B = 2 MiB = 32 host pages; pointer array (128 + 32*8 B) = 1 page
    expect(t.accountedPages).toBe(33);
    expect(tablePages(0x40000n, 16).total).toBe(33n);
    expect(mm.locked).toBe(33);
    expect(code(() => vm.createSpaprTce64({ ...base, pageShift: 16 }))).toBe('EBUSY');
    expect(mm.locked).toBe(33);
    // too large a pointer array: charged, then ENOMEM, refunded
    expect(code(() => vm.createSpaprTce64({ ...base, liobn: 2n, size: 1n << 40n }))).toBe('ENOMEM');
    expect(mm.locked).toBe(33);
    t.close();
    expect(mm.locked).toBe(0);
    expect(vm.findTable(base.liobn)).toBeUndefined();
    // legacy create: 4K pages, offset 0
    const legacy = vm.createSpaprTce(5n, 0x4000_0000);
    expect([legacy.pageShift, legacy.offset, legacy.size]).toEqual([12, 0n, 0x40000n]);
    expect(code(() => vm.createSpaprTce(6n, 0x800))).toBe('EINVAL');
  });

  it('KVM_CREATE_DEVICE: VFIO only, one per VM, TEST creates nothing', () => {
    const vm = new Vm(0, 16, new FakeMm());
    expect(code(() => vm.createDevice(3, 0))).toBe('ENODEV');
    expect(vm.createDevice(4, 1)).toBeUndefined();
    const d = vm.createDevice(4, 0)!;
    expect(code(() => vm.createDevice(4, 0))).toBe('EBUSY');
    expect(vm.createDevice(4, 1)).toBeUndefined();
    d.close();
    expect(vm.createDevice(4, 0)).toBeDefined();
  });

  it('lives while a table or the device holds it', () => {
    const vm = new Vm(0, 16, new FakeMm());
    vm.setUserMemoryRegion(region(0, 0n, KiB64, 0n));
    const t = vm.createSpaprTce(1n, 0x10000);
    vm.close();
    expect(vm.alive).toBe(true);
    expect(vm.memslots.list()).toHaveLength(1);
    t.close();
    expect(vm.alive).toBe(false);
    expect(vm.memslots.list()).toHaveLength(0);
  });
});
