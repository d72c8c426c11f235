/**
 * A partitionable endpoint: the unit the PHB isolates for DMA, and therefore one IOMMU group.
 * Each PE has a translation-validation table (TVT) with one slot per DMA window; a slot points at
 * a TCE table or is empty. Tables are owned by whoever programs them (a VFIO container); the PE
 * only references them, so several PEs can share one address space.
 */
import { fail, type ErrnoName } from '../wire/errno.js';
import { Device } from './device.js';
import { PeEeh } from './eeh.js';
import { PCI_COMMAND } from './pci/config-space.js';
import type { Phb } from './phb.js';
import type { SmmuDomain } from './smmu-domain.js';
import type { TceTable } from './tce-table.js';
import type { PeSpec } from './topology.js';

export type DmaAccess = 'read' | 'write';

/** TCE permission bits. */
export const TCE_READ = 0x1;
export const TCE_WRITE = 0x2;

export interface Translation {
  /** Memory address the DMA reaches. */
  addr: bigint;
  /** IOMMU page size of the window that translated it. */
  pageSize: bigint;
}

export class Pe {
  readonly phb: Phb;
  readonly spec: PeSpec;
  /** PE number on its PHB. */
  readonly number: number;
  /** IOMMU group number (host-unique). */
  readonly group: number;
  readonly devices: readonly Device[];
  readonly #tvt: (TceTable | undefined)[];
  #faults = 0;
  /** EEH state: a DMA fault freezes the PE (issue 7). */
  readonly eeh: PeEeh;

  /**
   * Fault injection (tests): when set, the next `program()` fails with this errno and clears the
   * field. Models firmware refusing to configure a TVT entry.
   */
  failNextProgram: ErrnoName | null = null;

  /**
   * Fault injection (tests): the host kernel still has DMA mappings on this PE, so VFIO cannot
   * take ownership of it (attaching its group to a backend fails with EBUSY).
   */
  hostDmaActive = false;

  /** smmu PHBs: the IOMMU domain this PE translates through (set by the type1 backend), if any. */
  smmuDomain: SmmuDomain | undefined = undefined;

  constructor(phb: Phb, spec: PeSpec) {
    this.phb = phb;
    this.spec = spec;
    this.number = spec.pe;
    this.group = spec.group;
    this.devices = spec.devices.map((a, i) => new Device(a, this, spec.functions?.[i]));
    this.#tvt = new Array<TceTable | undefined>(phb.windowSlots).fill(undefined);
    const savedCommand = new Map<Device, number>();
    this.eeh = new PeEeh({
      errorDetected: () => {
        for (const d of this.devices) d.fn.raise('err', 0);
      },
      resetFunctions: () => {
        for (const d of this.devices) {
          savedCommand.set(d, d.fn.command);
          d.fn.reset();
        }
      },
      restoreFunctions: () => {
        for (const d of this.devices) {
          d.fn.restoreAssignment();
          const cmd = savedCommand.get(d);
          if (cmd !== undefined) d.fn.config.set16(PCI_COMMAND, cmd);
        }
        savedCommand.clear();
      },
    });
  }

  /** The TVT: slot → table or undefined. */
  get windows(): readonly (TceTable | undefined)[] {
    return this.#tvt;
  }

  /** DMA faults seen by this PE's devices since boot. */
  get faults(): number {
    return this.#faults;
  }

  /**
   * Points TVT slot `slot` at `table`. EINVAL when the table does not fit the slot: wrong bus
   * start, page size or level count this PHB cannot walk; EBUSY when the slot is in use.
   */
  program(slot: number, table: TceTable): void {
    const injected = this.failNextProgram;
    if (injected !== null) {
      this.failNextProgram = null;
      throw fail(injected, `${this.phb.name} PE ${this.number}: firmware refused to program window slot ${slot}`);
    }
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#tvt.length) {
      throw fail('EINVAL', `${this.phb.name} PE ${this.number} has no window slot ${slot}`);
    }
    if (this.#tvt[slot] !== undefined) {
      throw fail('EBUSY', `${this.phb.name} PE ${this.number} window slot ${slot} is in use`);
    }
    if (table.busStart !== this.phb.windowStart(slot)) {
      throw fail('EINVAL', `window at 0x${table.busStart.toString(16)} does not start where slot ${slot} of ${this.phb.name} decodes (0x${this.phb.windowStart(slot).toString(16)})`);
    }
    if (!this.phb.supportsPageShift(table.pageShift)) {
      throw fail('EINVAL', `${this.phb.name} does not support page_shift ${table.pageShift}`);
    }
    if (table.levels > this.phb.spec.maxLevels) {
      throw fail('EINVAL', `${this.phb.name} walks at most ${this.phb.spec.maxLevels} levels, table has ${table.levels}`);
    }
    this.#tvt[slot] = table;
  }

  /** Empties TVT slot `slot` (no-op if empty). */
  unprogram(slot: number): void {
    if (slot >= 0 && slot < this.#tvt.length) this.#tvt[slot] = undefined;
  }

  /**
   * What the PHB does with a DMA by one of this PE's devices to bus address `iova`:
   * the memory address reached, or EFAULT (counted as a fault of the PE) naming why not.
   */
  translate(iova: bigint, access: DmaAccess): Translation {
    if (this.eeh.dmaFrozen) {
      throw fail('EFAULT', `iova 0x${iova.toString(16)}: ${this.phb.name} PE ${this.number} is frozen (EEH): DMA stopped`);
    }
    if (this.phb.spec.kind === 'smmu') {
      const t = this.smmuDomain?.translate(iova, access) ?? `iova 0x${iova.toString(16)}: group ${this.group} is not attached to an IOMMU domain (DMA blocked)`;
      if (typeof t === 'string') throw this.#fault(t);
      return t;
    }
    const reserved = this.phb.reservedRangeAt(iova);
    if (reserved !== undefined) {
      throw this.#fault(`iova 0x${iova.toString(16)} decodes as ${reserved}, not DMA`);
    }
    const table = this.#tvt.find((t) => t !== undefined && t.contains(iova));
    if (table === undefined) {
      throw this.#fault(`iova 0x${iova.toString(16)}: no DMA window of ${this.phb.name} PE ${this.number} contains it`);
    }
    const tce = table.get(table.indexOf(iova));
    const perms = Number(tce & 3n);
    if (perms === 0) {
      throw this.#fault(`iova 0x${iova.toString(16)}: invalid TCE (no permission bits)`);
    }
    const need = access === 'read' ? TCE_READ : TCE_WRITE;
    if ((perms & need) === 0) {
      throw this.#fault(`iova 0x${iova.toString(16)}: TCE permission denies ${access} (TCE allows ${perms === TCE_READ ? 'read' : 'write'} only)`);
    }
    const pageSize = 1n << BigInt(table.pageShift);
    const mask = pageSize - 1n;
    return { addr: (tce & ~mask) | (iova & mask), pageSize };
  }

  #fault(message: string) {
    this.#faults++;
    // A PowerNV PHB freezes the PE on a DMA it rejects (EEH); an SMMU just reports the fault.
    if (this.phb.spec.kind === 'spapr') this.eeh.dmaFault();
    return fail('EFAULT', this.eeh.dmaFrozen ? `${message}; ${this.phb.name} PE ${this.number} frozen (EEH)` : message);
  }
}
