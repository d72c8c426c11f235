/** VFIO_EEH_PE_OP and the PE's EEH state: freeze on DMA faults, all-ones reads, GET_STATE, recovery. */
import { describe, expect, it } from 'vitest';
import { errno, failure } from '../helpers/errors.js';
import { call } from '../helpers/handlers.js';
import { barRead, barWrite, cfgRead, cfgWrite, openDevice, type DeviceSetup } from './device-setup.js';

const op = (s: DeviceSetup, o: number, extra: Record<string, number | bigint> = {}) =>
  call(s.ctx, 'VFIO_EEH_PE_OP', { fd: s.container, op: o, ...extra }).ret;
const translate = (s: DeviceSetup, iova: bigint) => call(s.ctx, 'IOMMU_TRANSLATE', { fd: s.dev, iova, access: 'read' });
const [DISABLE, ENABLE, UNFREEZE_IO, UNFREEZE_DMA, GET_STATE, RESET_DEACTIVATE, RESET_HOT, , CONFIGURE, INJECT_ERR] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

function mappedDevice(): DeviceSetup {
  const s = openDevice();
  call(s.ctx, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: s.container, vaddr: 0x100_0000n, size: 1n << 20n });
  call(s.ctx, 'VFIO_IOMMU_MAP_DMA', { fd: s.container, flags: 3, vaddr: 0x100_0000n, iova: 0x1000n, size: 0x1000n });
  return s;
}

describe('VFIO_EEH_PE_OP checks', () => {
  it('no backend EINVAL, flags EINVAL, unknown op EINVAL, INJECT_ERR fields, not a container ENOTTY', () => {
    const s = openDevice();
    const empty = call(s.ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
    expect(errno(() => call(s.ctx, 'VFIO_EEH_PE_OP', { fd: empty, op: GET_STATE }))).toBe('EINVAL');
    expect(errno(() => call(s.ctx, 'VFIO_EEH_PE_OP', { fd: s.group, op: GET_STATE }))).toBe('ENOTTY');
    expect(errno(() => call(s.ctx, 'VFIO_EEH_PE_OP', { fd: 99, op: GET_STATE }))).toBe('EBADF');
    expect(failure(() => op(s, GET_STATE, { flags: 1 })).message).toMatch(/flags/);
    expect(failure(() => op(s, 10)).message).toMatch(/op 10/);
    expect(failure(() => op(s, INJECT_ERR, { type: 0, func: 0, addr: 0n })).message).toMatch(/type, func, addr and mask/);
    expect(failure(() => op(s, INJECT_ERR, { type: 2, func: 0, addr: 0n, mask: 0n })).message).toMatch(/type 2/);
    expect(failure(() => op(s, INJECT_ERR, { type: 1, func: 20, addr: 0n, mask: 0n })).message).toMatch(/func 20/);
    expect(op(s, GET_STATE)).toBe(0); // nothing changed by the failures
    expect(op(s, DISABLE)).toBe(0);
  });
});

describe('freeze and recovery', () => {
  it('a DMA fault freezes the PE: all-ones reads, dropped writes, translate stopped, GET_STATE 2; ENABLE thaws', () => {
    const s = mappedDevice();
    const pe = s.system.host.peOfGroup(1)!;
    expect(failure(() => translate(s, 0x10_0000n)).message).toMatch(/frozen/); // the PHB freezes whether or not EEH was enabled
    expect(op(s, GET_STATE)).toBe(2);
    expect(op(s, ENABLE)).toBe(0); // eeh_pe_change_owner thaws a frozen PE
    expect(op(s, GET_STATE)).toBe(0);
    expect(failure(() => translate(s, 0x10_0000n)).message).toMatch(/frozen/);
    expect(pe.faults).toBe(2);
    expect(op(s, GET_STATE)).toBe(2);
    expect(failure(() => translate(s, 0x1000n)).message).toMatch(/is frozen \(EEH\)/); // even a mapped page
    expect(pe.faults).toBe(2);
    expect(cfgRead(s, 8, 4)).toBe(0xffff_ffff); // class code / revision: the function's bits
    expect(cfgRead(s, 0, 4)).toBe(0x0010_1b36); // ids are vfio's virtual copy
    expect(barRead(s, 0x08)).toBe(0xffff_ffff);
    expect(barWrite(s, 0x14, 1)).toBe(4);
    expect(op(s, UNFREEZE_IO)).toBe(0);
    expect(op(s, GET_STATE)).toBe(4); // STOPPED_DMA
    expect(barRead(s, 0x1c) & 1).toBe(0); // the CC write was dropped
    expect(errno(() => translate(s, 0x1000n))).toBe('EFAULT');
    expect(op(s, UNFREEZE_DMA)).toBe(0);
    expect(op(s, GET_STATE)).toBe(0);
    expect(translate(s, 0x1000n).addr).toBe(0x100_0000n);
  });

  it('MMIO frozen alone is UNAVAIL (5); ENABLE thaws a frozen PE; INJECT_ERR freezes without a DMA', () => {
    const s = openDevice();
    expect(op(s, INJECT_ERR, { type: 1, func: 16, addr: 0n, mask: 0n })).toBe(0);
    expect(op(s, GET_STATE)).toBe(2);
    op(s, UNFREEZE_DMA);
    expect(op(s, GET_STATE)).toBe(5);
    op(s, ENABLE);
    expect(op(s, GET_STATE)).toBe(0);
    expect(s.system.host.peOfGroup(1)!.eeh.freezes).toBe(1);
  });

  it('recovery: RESET_HOT (reported NORMAL while asserted), RESET_DEACTIVATE restores the host BARs, CONFIGURE', () => {
    const s = mappedDevice();
    const fn = s.system.host.peOfGroup(1)!.devices[0]!.fn;
    const hostBar = fn.barAddress(0);
    op(s, ENABLE);
    barWrite(s, 0x14, 1); // CC.EN
    cfgWrite(s, 0x10, 4, 0x4000_0000); // the user's virtual BAR
    expect(errno(() => translate(s, 0x2000n))).toBe('EFAULT');
    expect(op(s, GET_STATE)).toBe(2);
    expect(op(s, RESET_HOT)).toBe(0);
    expect(op(s, GET_STATE)).toBe(0);
    expect(fn.barAddress(0)).toBe(0n); // the function is at its power-on state
    expect(op(s, RESET_DEACTIVATE)).toBe(0);
    expect(fn.barAddress(0)).toBe(hostBar);
    expect(op(s, CONFIGURE)).toBe(0);
    expect(op(s, GET_STATE)).toBe(0);
    expect(cfgRead(s, 0x10, 4)).toBe(0x4000_0004); // the virtual BAR is the caller's to re-program
    expect(barRead(s, 0x1c) & 1).toBe(0); // the controller was reset
    expect(barRead(s, 0x08)).toBe(0x0001_0400);
    expect(translate(s, 0x1000n).addr).toBe(0x100_0000n);
  });

  it('a container of two groups: every PE gets the op; GET_STATE answers the first non-zero one', () => {
    const s = openDevice({ group: 2 });
    const g3 = call(s.ctx, 'VFIO_GROUP_OPEN', { group: 3 }).fd;
    call(s.ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g3, container: s.container });
    const pe3 = s.system.host.peOfGroup(3)!;
    pe3.eeh.freeze();
    expect(op(s, GET_STATE)).toBe(2);
    op(s, UNFREEZE_IO);
    op(s, UNFREEZE_DMA);
    expect(pe3.eeh.state).toBe(0);
    op(s, INJECT_ERR, { type: 0, func: 0, addr: 0n, mask: 0n });
    expect(s.system.host.peOfGroup(2)!.eeh.state).toBe(2);
    expect(pe3.eeh.state).toBe(2);
  });

  it('releasing the group thaws the PE and disarms freezing', () => {
    const s = openDevice();
    op(s, ENABLE);
    op(s, INJECT_ERR, { type: 0, func: 0, addr: 0n, mask: 0n });
    const pe = s.system.host.peOfGroup(1)!;
    call(s.ctx, 'CLOSE', { fd: s.dev });
    call(s.ctx, 'CLOSE', { fd: s.group });
    expect(pe.eeh.state).toBe(0);
    expect(pe.eeh.armed).toBe(false);
  });
});
