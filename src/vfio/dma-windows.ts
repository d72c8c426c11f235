/**
 * A container's DMA windows: one TCE table per window slot, the locked memory charged for each,
 * and the programming of every table into the TVT of every attached PE. Creation is all or
 * nothing: a table is charged, allocated and programmed into each PE, and any failure unwinds
 * those steps in reverse.
 */
import type { Pe } from '../hw/pe.js';
import { TceTable, tableSizeBytes } from '../hw/tce-table.js';
import type { Mm } from './locked-memory.js';

/** Window slots a container can use (the kernel's IOMMU_TABLE_GROUP_MAX_TABLES). */
export const MAX_WINDOWS = 2;

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** A container window as seen from outside (tests, introspection, the KVM link). */
export interface WindowInfo {
  slot: number;
  table: TceTable;
  /** Host pages charged to locked memory for the table (0 when not charged). */
  chargedPages: number;
}

export interface WindowParams {
  pageShift: number;
  windowSize: bigint;
  levels: number;
  /** Charge the worst-case table size to locked memory (v2 windows). */
  charge: boolean;
}

/** Zeroes `count` entries of `table` from `index` on behalf of the owner (which tracks references). */
export type ClearEntries = (table: TceTable, index: number, count: number) => void;

export class DmaWindows {
  readonly #tables: (TceTable | undefined)[] = new Array<TceTable | undefined>(MAX_WINDOWS).fill(undefined);
  readonly #charged: number[] = new Array<number>(MAX_WINDOWS).fill(0);
  readonly #clear: ClearEntries;

  constructor(clear: ClearEntries) {
    this.#clear = clear;
  }

  get list(): WindowInfo[] {
    const out: WindowInfo[] = [];
    this.#tables.forEach((table, slot) => {
      if (table !== undefined) out.push({ slot, table, chargedPages: this.#charged[slot]! });
    });
    return out;
  }

  get empty(): boolean {
    return this.#tables.every((t) => t === undefined);
  }

  at(slot: number): TceTable | undefined {
    return this.#tables[slot];
  }

  has(table: TceTable): boolean {
    return this.#tables.includes(table);
  }

  /** The window containing bus address `iova`. */
  find(iova: bigint): { slot: number; table: TceTable } | undefined {
    const slot = this.#tables.findIndex((t) => t !== undefined && t.contains(iova));
    return slot < 0 ? undefined : { slot, table: this.#tables[slot]! };
  }

  /** The first free slot below `slots`, or -1. */
  freeSlot(slots: number): number {
    return this.#tables.findIndex((t, i) => t === undefined && i < slots);
  }

  /**
   * Creates the window in `slot` at the bus start `pes[0]`'s PHB decodes there, and programs it
   * into every PE. Check order: EINVAL parameters, ENOMEM locked memory, EINVAL bus bits, ENOMEM
   * level block, then whatever programming a PE fails with. Nothing remains on failure.
   */
  create(mm: Mm, pes: readonly Pe[], slot: number, p: WindowParams): TceTable {
    const phb = pes[0]!.phb;
    TceTable.checkParams(p.pageShift, p.windowSize, p.levels, phb.spec.maxLevels);
    const pages = p.charge ? Number(tableSizeBytes(p.pageShift, p.windowSize, p.levels, mm.pageShift) >> BigInt(mm.pageShift)) : 0;
    mm.charge(pages, `a ${hex(p.windowSize)}-byte window table (page_shift ${p.pageShift}, ${p.levels} level(s))`);
    let table: TceTable;
    try {
      table = TceTable.create({
        pageShift: p.pageShift,
        windowSize: p.windowSize,
        levels: p.levels,
        busStart: phb.windowStart(slot),
        hostPageShift: mm.pageShift,
        maxLevels: phb.spec.maxLevels,
        maxLevelBytes: phb.spec.maxLevelBytes,
      });
    } catch (e) {
      mm.uncharge(pages);
      throw e;
    }
    const done: Pe[] = [];
    try {
      for (const pe of pes) {
        pe.program(slot, table);
        done.push(pe);
      }
    } catch (e) {
      for (const pe of done.reverse()) pe.unprogram(slot);
      table.free();
      mm.uncharge(pages);
      throw e;
    }
    this.#tables[slot] = table;
    this.#charged[slot] = pages;
    return table;
  }

  /**
   * Unprograms the window in `slot` from the PEs, clears and frees its table, and refunds its
   * charge to `mm` (no-op for an empty slot).
   */
  remove(slot: number, pes: readonly Pe[], mm: Mm | undefined): void {
    const table = this.#tables[slot];
    if (table === undefined) return;
    for (const pe of [...pes].reverse()) pe.unprogram(slot);
    this.#clear(table, 0, table.entries);
    table.free();
    this.#tables[slot] = undefined;
    mm?.uncharge(this.#charged[slot]!);
    this.#charged[slot] = 0;
  }

  /** Programs every window into a PE joining the container; a failure unprograms what was done. */
  programInto(pe: Pe): void {
    const done: number[] = [];
    try {
      this.#tables.forEach((table, slot) => {
        if (table === undefined) return;
        pe.program(slot, table);
        done.push(slot);
      });
    } catch (e) {
      for (const slot of done.reverse()) pe.unprogram(slot);
      throw e;
    }
  }

  /** Empties a leaving PE's TVT slots of this container's windows. */
  unprogramFrom(pe: Pe): void {
    this.#tables.forEach((table, slot) => {
      if (table !== undefined) pe.unprogram(slot);
    });
  }
}
