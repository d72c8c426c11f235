/**
 * KVM ops on /dev/kvm and on a VM: create, capabilities, memory slots, in-kernel TCE tables (and
 * their mmap, as TCE_TABLE_READ/WRITE), the VFIO device. Hcalls are in hcalls.ts, the fast path in
 * tce-batch.ts, device attributes in kvm-device.ts.
 */
import { GuestTceTable } from '../kvm/guest-tce-table.js';
import { checkExtension, Vm } from '../kvm/vm.js';
import { fail } from '../wire/errno.js';
import type { HandlerMap } from './context.js';

/** Most entries one TCE_TABLE_READ returns (16 MiB of reply). */
export const TABLE_READ_MAX_ENTRIES = 1 << 21;


/** Entries the table's mmap covers: whole host pages, as the kernel maps them. */
function mappedEntries(table: GuestTceTable): bigint {
  const perPage = BigInt(table.entriesPerPage);
  return ((table.size + perPage - 1n) / perPage) * perPage;
}

function checkMapped(table: GuestTceTable, index: bigint, count: number): number {
  if (index + BigInt(count) > mappedEntries(table)) {
    throw fail('EFAULT', `entries ${index}..${index + BigInt(count)} lie beyond the table mapping (${mappedEntries(table)} entries)`);
  }
  return Number(index);
}

export const kvmVmHandlers: HandlerMap = {
  KVM_CREATE_VM: (ctx, req) => {
    const vm = new Vm(req.type ?? 0, ctx.system.topology.hostPageShift, ctx.mm, ctx.system.quirks);
    return { fd: ctx.handles.install(vm) };
  },

  KVM_CHECK_EXTENSION: (ctx, req) => {
    if (req.fd !== undefined) ctx.handles.get(req.fd, Vm);
    return { ret: checkExtension(req.extension) };
  },

  KVM_ENABLE_CAP: (ctx, req) => {
    ctx.handles.get(req.fd, Vm).enableCap(req.cap, req.flags ?? 0, req.args ?? []);
    return {};
  },

  KVM_SET_USER_MEMORY_REGION: (ctx, req) => {
    ctx.handles.get(req.fd, Vm).setUserMemoryRegion({
      slot: req.slot,
      flags: req.flags ?? 0,
      guestPhysAddr: req.guest_phys_addr,
      memorySize: req.memory_size,
      userspaceAddr: req.userspace_addr,
    });
    return {};
  },

  KVM_CREATE_SPAPR_TCE: (ctx, req) => {
    const table = ctx.handles.get(req.fd, Vm).createSpaprTce(req.liobn, req.window_size);
    return { fd: ctx.handles.install(table) };
  },

  KVM_CREATE_SPAPR_TCE_64: (ctx, req) => {
    const table = ctx.handles.get(req.fd, Vm).createSpaprTce64({
      liobn: req.liobn,
      pageShift: req.page_shift,
      flags: req.flags ?? 0,
      offset: req.offset,
      size: req.size,
    });
    return { fd: ctx.handles.install(table) };
  },

  KVM_CREATE_DEVICE: (ctx, req) => {
    const device = ctx.handles.get(req.fd, Vm).createDevice(req.type, req.flags ?? 0);
    return device === undefined ? {} : { fd: ctx.handles.install(device) };
  },

  TCE_TABLE_READ: (ctx, req) => {
    const table = ctx.handles.get(req.fd, GuestTceTable);
    if (req.count > TABLE_READ_MAX_ENTRIES) throw fail('EINVAL', `count ${req.count} above ${TABLE_READ_MAX_ENTRIES}`);
    const index = checkMapped(table, req.index, req.count);
    const data = new Uint8Array(req.count * 8);
    table.readLE(index, req.count, data, 0);
    return { data };
  },

  TCE_TABLE_WRITE: (ctx, req) => {
    const table = ctx.handles.get(req.fd, GuestTceTable);
    if (req.data.byteLength % 8 !== 0) throw fail('EINVAL', `data is ${req.data.byteLength} bytes, not whole u64 entries`);
    const count = req.data.byteLength / 8;
    const index = checkMapped(table, req.index, count);
    table.writeLE(index, req.data, 0, count);
    return {};
  },
};
