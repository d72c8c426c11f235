/**
 * A VM's memory slots (KVM_SET_USER_MEMORY_REGION): guest-physical ranges backed by ranges of the
 * VMM's user address space. TCE addresses are guest-physical; KVM turns them into user addresses
 * through these slots before it looks at preregistered memory or programs hardware.
 *
 * Every guest-physical and user address here is below 2^52, so the lookups use plain numbers
 * (exact in a double); the bigint forms are kept for reporting.
 */
import { fail } from '../wire/errno.js';
import { ADDRESS_LIMIT, KVM_MEM_LOG_DIRTY_PAGES, KVM_USER_MEM_SLOTS } from './constants.js';

export interface MemoryRegion {
  slot: number;
  flags: number;
  guestPhysAddr: bigint;
  memorySize: bigint;
  userspaceAddr: bigint;
}

/** One slot, with the numeric bounds the translation uses. */
export interface MemorySlot extends Readonly<MemoryRegion> {
  /** First guest-physical address in the slot. */
  readonly gpaStart: number;
  /** First guest-physical address after the slot. */
  readonly gpaEnd: number;
  /** userspace_addr - guest_phys_addr: add to a guest address in the slot to get its user address. */
  readonly uaDelta: number;
}

const LIMIT = BigInt(ADDRESS_LIMIT);

function makeSlot(r: MemoryRegion): MemorySlot {
  const gpaStart = Number(r.guestPhysAddr);
  return {
    ...r,
    gpaStart,
    gpaEnd: gpaStart + Number(r.memorySize),
    uaDelta: Number(r.userspaceAddr) - gpaStart,
  };
}

export class MemorySlots {
  readonly #pageSize: bigint;
  /** By guest address, ascending; slots never overlap. */
  #slots: MemorySlot[] = [];
  /** Last slot a lookup hit: TCE batches mostly stay in one slot. */
  #last: MemorySlot | undefined;

  constructor(hostPageShift: number) {
    this.#pageSize = 1n << BigInt(hostPageShift);
  }

  /**
   * KVM_SET_USER_MEMORY_REGION: creates, moves, changes the flags of, or (memory_size 0) deletes
   * slot `r.slot`, with the kernel's checks in the kernel's order.
   */
  set(r: MemoryRegion): void {
    if ((r.flags & ~KVM_MEM_LOG_DIRTY_PAGES) !== 0) throw fail('EINVAL', `memory region flags 0x${r.flags.toString(16)} not supported`);
    const id = r.slot & 0xffff;
    if (id >= KVM_USER_MEM_SLOTS) throw fail('EINVAL', `slot id ${id} >= ${KVM_USER_MEM_SLOTS}`);
    if (r.slot >>> 16 !== 0) throw fail('EINVAL', `address space ${r.slot >>> 16} does not exist`);
    const mask = this.#pageSize - 1n;
    if ((r.memorySize & mask) !== 0n) throw fail('EINVAL', 'memory_size not a multiple of the host page size');
    if ((r.guestPhysAddr & mask) !== 0n) throw fail('EINVAL', 'guest_phys_addr not aligned to the host page size');
    if ((r.userspaceAddr & mask) !== 0n) throw fail('EINVAL', 'userspace_addr not aligned to the host page size');
    if (r.userspaceAddr + r.memorySize > LIMIT) throw fail('EINVAL', 'userspace range beyond TASK_SIZE (2^52)');
    if (r.guestPhysAddr + r.memorySize > LIMIT) throw fail('EINVAL', 'guest range beyond 2^52');
    const slot = r.slot;
    const old = this.#slots.find((s) => s.slot === slot);
    if (r.memorySize === 0n) {
      if (old === undefined) throw fail('EINVAL', `slot ${slot} does not exist`);
      this.#replace(old, undefined);
      return;
    }
    if (old !== undefined) {
      if (old.userspaceAddr !== r.userspaceAddr || old.memorySize !== r.memorySize) {
        throw fail('EINVAL', `slot ${slot}: userspace_addr and memory_size of an existing slot cannot change`);
      }
      if (old.guestPhysAddr === r.guestPhysAddr && old.flags === r.flags) return;
    }
    const next = makeSlot(r);
    if (old === undefined || old.guestPhysAddr !== r.guestPhysAddr) {
      const clash = this.#slots.find((s) => s !== old && s.gpaStart < next.gpaEnd && next.gpaStart < s.gpaEnd);
      if (clash !== undefined) throw fail('EEXIST', `slot ${slot} overlaps slot ${clash.slot}`);
    }
    this.#replace(old, next);
  }

  #replace(old: MemorySlot | undefined, next: MemorySlot | undefined): void {
    const slots = this.#slots.filter((s) => s !== old);
    if (next !== undefined) slots.push(next);
    slots.sort((a, b) => a.gpaStart - b.gpaStart);
    this.#slots = slots;
    this.#last = undefined;
  }

  /** The slot holding guest address `gpa` (a number below 2^52), or undefined. */
  find(gpa: number): MemorySlot | undefined {
    const last = this.#last;
    if (last !== undefined && gpa >= last.gpaStart && gpa < last.gpaEnd) return last;
    for (const s of this.#slots) {
      if (gpa < s.gpaStart) break;
      if (gpa < s.gpaEnd) {
        this.#last = s;
        return s;
      }
    }
    return undefined;
  }

  /** User address of guest address `gpa`, or -1 when no slot holds it. */
  toUserAddress(gpa: number): number {
    const s = this.find(gpa);
    return s === undefined ? -1 : gpa + s.uaDelta;
  }

  list(): readonly MemorySlot[] {
    return this.#slots;
  }

  /** Drops every slot (the VM is destroyed). */
  clear(): void {
    this.#slots = [];
    this.#last = undefined;
  }
}
