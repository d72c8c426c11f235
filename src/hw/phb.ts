/**
 * A PCI host bridge: its DMA-window geometry, its reserved inbound ranges and its PEs.
 * Built from a PhbSpec; the spec stays the source of the numbers.
 */
import type { BusRange, PhbSpec, TableOps } from './topology.js';
import { Pe } from './pe.js';
import { assignBars } from './pci/bar-assign.js';

export class Phb {
  readonly spec: PhbSpec;
  readonly index: number;
  readonly name: string;
  readonly pes: readonly Pe[];
  readonly hostPageShift: number;

  constructor(spec: PhbSpec, hostPageShift: number) {
    this.spec = spec;
    this.index = spec.index;
    this.name = spec.name;
    this.hostPageShift = hostPageShift;
    this.pes = spec.pes.map((pe) => new Pe(this, pe));
    assignBars(this.pes.flatMap((pe) => pe.devices.map((d) => d.fn)), spec.mmio32);
  }

  get tableOps(): TableOps {
    return this.spec.tableOps;
  }

  /** Window slots of each PE's translation table (TVT). */
  get windowSlots(): number {
    return this.spec.windowStarts.length;
  }

  /** Bus start of a window slot (the hardware, not the user, places windows). */
  windowStart(slot: number): bigint {
    const start = this.spec.windowStarts[slot];
    if (start === undefined) throw new RangeError(`${this.name} has no window slot ${slot}`);
    return start;
  }

  /** Dynamic DMA windows (VFIO v2, TCE_CREATE) need `maxDynamicWindows > 0`. */
  get supportsDdw(): boolean {
    return this.spec.maxDynamicWindows > 0;
  }

  supportsPageShift(pageShift: number): boolean {
    return this.spec.pageShifts.includes(pageShift);
  }

  /** VFIO ddw.pgsizes: bitmap of supported IOMMU page sizes (1 << shift). */
  get pageSizeMask(): bigint {
    return this.spec.pageShifts.reduce((m, s) => m | (1n << BigInt(s)), 0n);
  }

  get dma32(): BusRange {
    return this.spec.dma32;
  }

  /** What a DMA to `iova` hits instead of a window, if it hits a reserved range. */
  reservedRangeAt(iova: bigint): 'MSI' | 'MMIO32' | undefined {
    if (inRange(this.spec.msi, iova)) return 'MSI';
    if (inRange(this.spec.mmio32, iova)) return 'MMIO32';
    return undefined;
  }
}

function inRange(r: BusRange, a: bigint): boolean {
  return a >= r.start && a < r.start + r.size;
}
