/**
 * A KVM virtual machine, as far as sPAPR DMA goes: its memory slots, its in-kernel guest-view TCE
 * tables by LIOBN, which TCE hcalls it serves in the kernel, and its KVM VFIO device.
 *
 * Lifetime follows the kernel's references: the VM fd, every TCE table fd and the VFIO device fd
 * each hold the VM; it is destroyed when the last of them closes.
 */
import { CLOSE_RANK, type KernelFile } from '../vfio/kernel-file.js';
import { quirksOf, type Quirks } from '../vfio/profile.js';
import { fail } from '../wire/errno.js';
import {
  DEFAULT_ENABLED_HCALLS, HV_IMPLEMENTED_HCALLS, KVM_CAP_DEVICE_CTRL, KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_PPC_ENABLE_HCALL, KVM_CAP_SPAPR_MULTITCE, KVM_CAP_SPAPR_TCE, KVM_CAP_SPAPR_TCE_64,
  KVM_CAP_SPAPR_TCE_VFIO, KVM_CAP_USER_MEMORY, KVM_CREATE_DEVICE_TEST, KVM_DEV_TYPE_VFIO, KVM_USER_MEM_SLOTS,
  KVM_VM_PPC_HV, MAX_HCALL_OPCODE, TCE_MAX_PAGE_SHIFT, TCE_MIN_PAGE_SHIFT,
} from './constants.js';
import { GuestTceTable, tablePages, type TableOwner } from './guest-tce-table.js';
import { MemorySlots, type MemoryRegion } from './memslots.js';
import { KvmVfioDevice, type DeviceOwner } from './vfio-device.js';

/** The locked-memory account (RLIMIT_MEMLOCK) of the process that created the VM. */
export interface LockedMemory {
  /** Charges `pages` host pages; throws ENOMEM (changing nothing) over the limit. */
  charge(pages: number, what: string): void;
  uncharge(pages: number): void;
}

/** KVM_CHECK_EXTENSION answers (the same on /dev/kvm and on a VM). */
const EXTENSIONS: ReadonlyMap<number, number> = new Map([
  [KVM_CAP_USER_MEMORY, 1],
  [KVM_CAP_NR_MEMSLOTS, KVM_USER_MEM_SLOTS],
  [KVM_CAP_SPAPR_TCE, 1],
  [KVM_CAP_DEVICE_CTRL, 1],
  [KVM_CAP_SPAPR_MULTITCE, 1],
  [KVM_CAP_PPC_ENABLE_HCALL, 1],
  [KVM_CAP_SPAPR_TCE_64, 1],
  [KVM_CAP_SPAPR_TCE_VFIO, 1],
]);

export function checkExtension(cap: number): number {
  return EXTENSIONS.get(cap) ?? 0;
}

export interface SpaprTceArgs {
  liobn: bigint;
  pageShift: number;
  flags: number;
  /** Bus start in IOMMU pages. */
  offset: bigint;
  /** Entries (IOMMU pages). */
  size: bigint;
}

const U64_MAX = (1n << 64n) - 1n;

export class Vm implements KernelFile, TableOwner, DeviceOwner {
  readonly closeRank = CLOSE_RANK.vm;
  readonly type: number;
  readonly hostPageShift: number;
  readonly memslots: MemorySlots;
  readonly mm: LockedMemory;
  /** The server's behaviour profile (the hcalls and the KVM VFIO device read it). */
  readonly quirks: Quirks;
  readonly #tables = new Map<bigint, GuestTceTable>();
  readonly #enabledHcalls = new Set<number>(DEFAULT_ENABLED_HCALLS);
  #device: KvmVfioDevice | undefined;
  /** References: the VM fd, table fds, the device fd. */
  #refs = 1;
  #fdOpen = true;

  constructor(type: number, hostPageShift: number, mm: LockedMemory, quirks: Quirks = quirksOf()) {
    if (type !== 0 && type !== KVM_VM_PPC_HV) throw fail('EINVAL', `VM type ${type} not supported`);
    this.type = type;
    this.quirks = quirks;
    this.hostPageShift = hostPageShift;
    this.memslots = new MemorySlots(hostPageShift);
    this.mm = mm;
  }

  /** False once every reference is gone. */
  get alive(): boolean {
    return this.#refs > 0;
  }

  /**
   * KVM_ENABLE_CAP on the VM (kvm_vm_ioctl_enable_cap). KVM_CAP_PPC_ENABLE_HCALL args
   * [opcode, 0|1] switches any hcall HV KVM implements (K10), H_PUT_TCE and H_GET_TCE included:
   * opcode above MAX_HCALL_OPCODE or not a multiple of 4, args[1] > 1, or an hcall KVM does not
   * implement → EINVAL.
   */
  enableCap(cap: number, flags: number, args: readonly bigint[]): void {
    if (flags !== 0) throw fail('EINVAL', `KVM_ENABLE_CAP flags must be 0`);
    if (args.length > 4) throw fail('EINVAL', 'KVM_ENABLE_CAP takes at most 4 args');
    if (cap !== KVM_CAP_PPC_ENABLE_HCALL) throw fail('EINVAL', `capability ${cap} cannot be enabled on a VM`);
    const opcode = args[0] ?? 0n;
    const on = args[1] ?? 0n;
    if (opcode > BigInt(MAX_HCALL_OPCODE) || (opcode & 3n) !== 0n || on > 1n) {
      throw fail('EINVAL', `args [0x${opcode.toString(16)}, ${on}]: the opcode must be a multiple of 4 up to 0x${MAX_HCALL_OPCODE.toString(16)}, args[1] 0 or 1`);
    }
    if (!HV_IMPLEMENTED_HCALLS.has(Number(opcode))) {
      throw fail('EINVAL', `hcall 0x${opcode.toString(16)} is not implemented by HV KVM`);
    }
    if (on === 1n) this.#enabledHcalls.add(Number(opcode));
    else this.#enabledHcalls.delete(Number(opcode));
  }

  /** Whether the kernel serves hcall `opcode` (else the guest exits to userspace: H_TOO_HARD). */
  hcallEnabled(opcode: number): boolean {
    return this.#enabledHcalls.has(opcode);
  }

  /** KVM_SET_USER_MEMORY_REGION. */
  setUserMemoryRegion(region: MemoryRegion): void {
    this.memslots.set(region);
  }

  /** KVM_CREATE_SPAPR_TCE_64: a guest-view table for `liobn`; the caller installs it as an fd. */
  createSpaprTce64(args: SpaprTceArgs): GuestTceTable {
    if (args.flags !== 0) throw fail('EINVAL', 'flags must be 0');
    if (args.size === 0n) throw fail('EINVAL', 'size must not be 0');
    if (args.pageShift < TCE_MIN_PAGE_SHIFT || args.pageShift > TCE_MAX_PAGE_SHIFT) {
      throw fail('EINVAL', `page_shift ${args.pageShift} not in [${TCE_MIN_PAGE_SHIFT}, ${TCE_MAX_PAGE_SHIFT}]`);
    }
    if (args.offset + args.size > U64_MAX >> BigInt(args.pageShift)) {
      throw fail('EINVAL', 'offset + size overflows the 64-bit bus address space');
    }
    const { total } = tablePages(args.size, this.hostPageShift);
    // A count this large fails the charge against any finite limit, and the allocation anyway.
    const pages = total > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(total);
    this.mm.charge(pages, `KVM TCE table liobn 0x${args.liobn.toString(16)}`);
    let table: GuestTceTable;
    try {
      table = new GuestTceTable(args, this.hostPageShift, this);
    } catch (e) {
      this.mm.uncharge(pages);
      throw e;
    }
    if (this.#tables.has(args.liobn)) {
      this.mm.uncharge(pages);
      throw fail('EBUSY', `liobn 0x${args.liobn.toString(16)} already has a table in this VM`);
    }
    this.#tables.set(args.liobn, table);
    this.#refs++;
    return table;
  }

  /** Legacy KVM_CREATE_SPAPR_TCE: 4 KiB pages, bus start 0, window_size in bytes. */
  createSpaprTce(liobn: bigint, windowSize: number): GuestTceTable {
    return this.createSpaprTce64({ liobn, pageShift: 12, flags: 0, offset: 0n, size: BigInt(windowSize >>> 12) });
  }

  findTable(liobn: bigint): GuestTceTable | undefined {
    return this.#tables.get(liobn);
  }

  /** Whether `table` is a live TCE table of this VM. */
  ownsTable(table: GuestTceTable): boolean {
    return !table.closed && this.#tables.get(table.liobn) === table;
  }

  tables(): IterableIterator<GuestTceTable> {
    return this.#tables.values();
  }

  get device(): KvmVfioDevice | undefined {
    return this.#device;
  }

  /**
   * KVM_CREATE_DEVICE. Returns the device, or undefined for a successful KVM_CREATE_DEVICE_TEST.
   * Unknown flag bits are ignored, as the kernel does.
   */
  createDevice(type: number, flags: number): KvmVfioDevice | undefined {
    if (type !== KVM_DEV_TYPE_VFIO) throw fail('ENODEV', `device type ${type} not supported`);
    if ((flags & KVM_CREATE_DEVICE_TEST) !== 0) return undefined;
    if (this.#device !== undefined) throw fail('EBUSY', 'this VM already has a KVM VFIO device');
    this.#device = new KvmVfioDevice(this);
    this.#refs++;
    return this.#device;
  }

  // ---- owner callbacks and lifetime -------------------------------------------------------------

  tableClosed(table: GuestTceTable): void {
    if (this.#tables.get(table.liobn) === table) this.#tables.delete(table.liobn);
    this.mm.uncharge(table.accountedPages);
    this.#unref();
  }

  deviceClosed(device: KvmVfioDevice): void {
    if (this.#device === device) this.#device = undefined;
    this.#unref();
  }

  /** close(2) of the VM fd. */
  close(): void {
    if (!this.#fdOpen) return;
    this.#fdOpen = false;
    this.#unref();
  }

  #unref(): void {
    this.#refs--;
    if (this.#refs === 0) this.memslots.clear();
  }
}
