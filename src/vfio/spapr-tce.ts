/**
 * The sPAPR TCE IOMMU backend of a VFIO container: v1 (type 2, SPAPR_TCE: one group, ENABLE,
 * pins on MAP) and v2 (type 7, SPAPR_TCE_v2: preregistered memory, dynamic DMA windows).
 *
 * The container's DMA windows live here, one TCE table per window slot, and are programmed into
 * the TVT of every attached PE: all groups of a container share one DMA address space. A hardware
 * TCE is the client's user address of the page | permission bits.
 *
 * Every method checks in the kernel's order and either succeeds or changes nothing: partial work
 * (tables programmed into some PEs, locked memory charged, a pending default window materialised
 * by this call) is unwound in reverse before the error propagates.
 */
import { fail } from '../wire/errno.js';
import type { Pe } from '../hw/pe.js';
import { TCE_READ, TCE_WRITE } from '../hw/pe.js';
import type { TceTable } from '../hw/tce-table.js';
import type { DdwInfo } from '../wire/structs.js';
import {
  DEFAULT_WINDOW_LEVELS,
  DEFAULT_WINDOW_PAGE_SHIFT,
  TASK_SIZE,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_IOMMU_SPAPR_INFO_DDW,
  VFIO_SPAPR_TCE_IOMMU,
  VFIO_SPAPR_TCE_v2_IOMMU,
} from './constants.js';
import { DmaWindows, MAX_WINDOWS, type WindowInfo } from './dma-windows.js';
import type { Mm } from './locked-memory.js';
import { PreregLinks, type PreregLink, type PreregSegment } from './prereg-links.js';

export { MAX_WINDOWS, type WindowInfo } from './dma-windows.js';

const TWO32 = 2 ** 32;
/** Entries one slice of a sliced MAP/UNMAP writes (well under a millisecond). */
export const SLICE_ENTRIES = 4096;
const hex = (v: bigint | number) => `0x${v.toString(16)}`;

export interface SpaprTceInfo {
  flags: number;
  dma32_window_start: number;
  dma32_window_size: number;
  ddw?: DdwInfo;
}

export interface MapRequest {
  flags: number;
  vaddr: bigint;
  iova: bigint;
  size: bigint;
}

export interface UnmapRequest {
  flags: number;
  iova: bigint;
  size: bigint;
}

export interface MemoryRequest {
  flags: number;
  vaddr: bigint;
  size: bigint;
}

export interface CreateWindowRequest {
  flags: number;
  page_shift: number;
  window_size: bigint;
  levels: number;
}

export interface RemoveWindowRequest {
  flags: number;
  start_addr: bigint;
}

export class SpaprTceBackend {
  readonly type: number;
  readonly v2: boolean;
  readonly #pes: Pe[] = [];
  readonly #windows = new DmaWindows((table, index, count) => this.#clear(table, index, count));
  readonly #prereg = new PreregLinks();
  #defWindowPending = false;
  #enabled = false;
  #enableCharge = 0;
  #mm: Mm | undefined;
  /** While a call runs in slices: its entry loops, collected to run after the checks. */
  #slices: Generator<void, void, void>[] | undefined;

  /** The extensions this backend answers positively: SPAPR_TCE (2) and SPAPR_TCE_v2 (7). */
  static checkExtension(extension: number): number {
    return extension === VFIO_SPAPR_TCE_IOMMU || extension === VFIO_SPAPR_TCE_v2_IOMMU ? 1 : 0;
  }

  constructor(type: number) {
    if (SpaprTceBackend.checkExtension(type) !== 1) throw fail('EINVAL', `IOMMU type ${type} is not sPAPR TCE`);
    this.type = type;
    this.v2 = type === VFIO_SPAPR_TCE_v2_IOMMU;
  }

  // ---- introspection -------------------------------------------------------------------------

  get pes(): readonly Pe[] {
    return this.#pes;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  get defaultWindowPending(): boolean {
    return this.#defWindowPending;
  }

  /** The mm the container is bound to (by ENABLE, REGISTER_MEMORY, TCE_CREATE or TCE_REMOVE). */
  get mm(): Mm | undefined {
    return this.#mm;
  }

  get windows(): WindowInfo[] {
    return this.#windows.list;
  }

  get preregistered(): readonly PreregLink[] {
    return this.#prereg.links;
  }

  checkExtension(extension: number): number {
    return SpaprTceBackend.checkExtension(extension);
  }

  // ---- groups --------------------------------------------------------------------------------

  /**
   * Takes over a PE (an IOMMU group): ENODEV no TCE table support; EINVAL v2 on a PHB without
   * DDW; EBUSY v1 already has its one group, or the PE is already attached, or the host still
   * does DMA on it; EPERM a PHB whose tables are programmed differently from the groups'
   * already here. Then every window of the container is programmed into the PE (a failure
   * unprograms what was done and nothing changes).
   */
  attachPe(pe: Pe): void {
    if (pe.phb.spec.kind !== 'spapr') throw fail('ENODEV', `group ${pe.group} has no TCE table support`);
    if (this.v2 && !pe.phb.supportsDdw) {
      throw fail('EINVAL', `group ${pe.group}: ${pe.phb.name} (${pe.phb.spec.model}) has no dynamic DMA windows, SPAPR_TCE_v2 needs them`);
    }
    if (!this.v2 && this.#pes.length > 0) {
      throw fail('EBUSY', `SPAPR_TCE (v1) container already has group ${this.#pes[0]!.group}; v1 takes exactly one group`);
    }
    if (this.#pes.includes(pe)) throw fail('EBUSY', `group ${pe.group} is already attached`);
    const first = this.#pes[0];
    if (first !== undefined && first.phb.tableOps !== pe.phb.tableOps) {
      throw fail('EPERM', `group ${pe.group} (${pe.phb.tableOps} tables) cannot share a container with group ${first.group} (${first.phb.tableOps})`);
    }
    if (pe.hostDmaActive) throw fail('EBUSY', `group ${pe.group}: the host still has DMA mappings on PE ${pe.number}`);
    this.#windows.programInto(pe);
    if (this.#pes.length === 0 && this.#windows.at(0) === undefined) this.#defWindowPending = true;
    this.#pes.push(pe);
  }

  /** Gives a PE back: its TVT is emptied. The container's tables persist. */
  detachPe(pe: Pe): void {
    const i = this.#pes.indexOf(pe);
    if (i < 0) return;
    this.#windows.unprogramFrom(pe);
    this.#pes.splice(i, 1);
  }

  /**
   * Tears the backend down (the container lost its last group or is destroyed): PEs detached,
   * every window cleared and freed, preregistrations dropped, all locked memory refunded.
   */
  release(): void {
    for (const pe of [...this.#pes].reverse()) this.detachPe(pe);
    for (let slot = MAX_WINDOWS - 1; slot >= 0; slot--) this.#windows.remove(slot, [], this.#mm);
    const mm = this.#mm;
    for (const link of [...this.#prereg.links]) {
      this.#prereg.remove(link);
      mm?.prereg.release(link.region);
    }
    this.#disable();
    this.#defWindowPending = false;
    this.#mm = undefined;
  }

  // ---- ioctls --------------------------------------------------------------------------------

  /** VFIO_IOMMU_SPAPR_TCE_GET_INFO. */
  getInfo(mm: Mm): SpaprTceInfo {
    this.#checkMm(mm);
    const pe = this.#firstPe('ENXIO');
    const phb = pe.phb;
    const info: SpaprTceInfo = {
      flags: 0,
      dma32_window_start: Number(phb.dma32.start & 0xffff_ffffn),
      dma32_window_size: Number(phb.dma32.size & 0xffff_ffffn),
    };
    if (this.v2 && phb.supportsDdw) {
      info.flags |= VFIO_IOMMU_SPAPR_INFO_DDW;
      info.ddw = {
        pgsizes: phb.pageSizeMask,
        max_dynamic_windows_supported: phb.spec.maxDynamicWindows,
        levels: phb.spec.maxLevels,
      };
    }
    return info;
  }

  /** VFIO_IOMMU_ENABLE (v1): charges the whole default window to locked memory. */
  enable(mm: Mm): void {
    this.#checkMm(mm);
    if (this.v2) throw fail('ENOTTY', 'VFIO_IOMMU_ENABLE is a SPAPR_TCE (v1) ioctl; v2 enables by REGISTER_MEMORY');
    if (this.#enabled) throw fail('EBUSY', 'container is already enabled');
    const pe = this.#firstPe('ENODEV');
    const size = pe.phb.dma32.size;
    if (size === 0n) throw fail('EPERM', `${pe.phb.name} has no 32-bit DMA window`);
    const pages = Number(size >> BigInt(mm.pageShift));
    mm.charge(pages, `enabling a ${hex(size)}-byte default window`);
    this.#enableCharge = pages;
    this.#enabled = true;
    this.#mm = mm;
  }

  /** VFIO_IOMMU_DISABLE (v1): refunds ENABLE's charge; mappings stay. Always succeeds. */
  disable(mm: Mm): void {
    this.#checkMm(mm);
    if (this.v2) throw fail('ENOTTY', 'VFIO_IOMMU_DISABLE is a SPAPR_TCE (v1) ioctl');
    this.#disable();
  }

  /** VFIO_IOMMU_MAP_DMA: [iova, iova+size) → [vaddr, vaddr+size), replacing existing entries. */
  map(mm: Mm, req: MapRequest): void {
    this.#checkMm(mm);
    if (!this.#enabled) {
      throw fail('EPERM', this.v2 ? 'no memory preregistered yet (REGISTER_MEMORY enables a v2 container)' : 'container not enabled (VFIO_IOMMU_ENABLE)');
    }
    if ((req.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) !== 0) {
      throw fail('EINVAL', `flags ${hex(req.flags)}: only READ 0x1 and WRITE 0x2 are defined`);
    }
    this.#withDefaultWindow(mm, () => {
      const { slot, table } = this.#tableFor(req.iova);
      const pageSize = 1n << BigInt(table.pageShift);
      if ((req.size & (pageSize - 1n)) !== 0n || (req.vaddr & (pageSize - 1n)) !== 0n) {
        throw fail('EINVAL', `size ${hex(req.size)} and vaddr ${hex(req.vaddr)} must be multiples of the window's ${hex(pageSize)} page`);
      }
      if ((req.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) === 0) {
        throw fail('EINVAL', 'flags: a mapping needs READ or WRITE');
      }
      const { index, pages } = this.#range(slot, table, req.iova, req.size);
      if (pages === 0) return;
      let segments: PreregSegment[] | undefined;
      if (this.v2) {
        segments = this.#prereg.segments(Number(req.vaddr), pages, table.pageShift);
      } else if (req.vaddr + req.size > TASK_SIZE) {
        throw fail('EFAULT', `vaddr ${hex(req.vaddr)} size ${hex(req.size)}: cannot pin memory beyond the user address space (${hex(TASK_SIZE)})`);
      }
      // Hardware tables get R|W for a W-only mapping.
      const perms = (req.flags & VFIO_DMA_MAP_FLAG_READ) !== 0 && (req.flags & VFIO_DMA_MAP_FLAG_WRITE) === 0 ? TCE_READ : TCE_READ | TCE_WRITE;
      this.#write(table, index, Number(req.vaddr), pages, perms, segments);
    });
  }

  /**
   * map() or unmap() with its entry loop in slices: every check (and failure) happens now; the
   * returned generator, if any, writes the entries, SLICE_ENTRIES per step. Undefined when the
   * call was small enough to be done at once.
   */
  mapInSlices(mm: Mm, req: MapRequest): Generator<void, void, void> | undefined {
    return this.#collectSlices(() => this.map(mm, req));
  }

  unmapInSlices(mm: Mm, req: UnmapRequest): Generator<void, void, void> | undefined {
    return this.#collectSlices(() => this.unmap(mm, req));
  }

  #collectSlices(call: () => void): Generator<void, void, void> | undefined {
    const slices: Generator<void, void, void>[] = [];
    this.#slices = slices;
    try {
      call();
    } finally {
      this.#slices = undefined;
    }
    if (slices.length === 0) return undefined;
    return (function* run() {
      for (const s of slices) yield* s;
    })();
  }

  /** VFIO_IOMMU_UNMAP_DMA: clears the TCEs of [iova, iova+size). */
  unmap(mm: Mm, req: UnmapRequest): void {
    this.#checkMm(mm);
    if (!this.#enabled) {
      throw fail('EPERM', this.v2 ? 'no memory preregistered yet (REGISTER_MEMORY enables a v2 container)' : 'container not enabled (VFIO_IOMMU_ENABLE)');
    }
    if (req.flags !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: UNMAP_DMA defines no flags`);
    this.#withDefaultWindow(mm, () => {
      const { slot, table } = this.#tableFor(req.iova);
      const pageSize = 1n << BigInt(table.pageShift);
      if ((req.size & (pageSize - 1n)) !== 0n) {
        throw fail('EINVAL', `size ${hex(req.size)} must be a multiple of the window's ${hex(pageSize)} page`);
      }
      const { index, pages } = this.#range(slot, table, req.iova, req.size);
      if (pages > SLICE_ENTRIES && this.#slices !== undefined) this.#slices.push(this.#clearSteps(table, index, pages));
      else if (pages > 0) this.#clear(table, index, pages);
    });
  }

  /** VFIO_IOMMU_SPAPR_REGISTER_MEMORY (v2): pins and accounts a range; enables the container. */
  registerMemory(mm: Mm, req: MemoryRequest): void {
    this.#checkMm(mm);
    if (!this.v2) throw fail('ENOTTY', 'REGISTER_MEMORY is a SPAPR_TCE_v2 ioctl');
    this.#checkMemoryRange(mm, req);
    if (this.#prereg.findExact(req.vaddr, req.size) !== undefined) {
      throw fail('EBUSY', `vaddr ${hex(req.vaddr)} size ${hex(req.size)} is already registered with this container`);
    }
    const region = mm.prereg.acquire(req.vaddr, req.size);
    this.#prereg.add(region);
    this.#enabled = true;
    this.#mm = mm;
  }

  /**
   * VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY (v2). EBUSY, with nothing changed, while this container's
   * TCEs still point into the region (the kernel returns 0 and leaves it pinned; vphb refuses).
   */
  unregisterMemory(mm: Mm, req: MemoryRequest): void {
    this.#checkMm(mm);
    if (!this.v2) throw fail('ENOTTY', 'UNREGISTER_MEMORY is a SPAPR_TCE_v2 ioctl');
    if (this.#mm === undefined) throw fail('EPERM', 'container has no memory context yet (nothing was registered)');
    this.#checkMemoryRange(mm, req);
    const link = this.#prereg.findExact(req.vaddr, req.size);
    if (link === undefined) {
      throw fail('ENOENT', `vaddr ${hex(req.vaddr)} size ${hex(req.size)} is not registered with this container`);
    }
    if (link.mapped > 0) {
      throw fail('EBUSY', `vaddr ${hex(req.vaddr)} size ${hex(req.size)}: ${link.mapped} TCE(s) still map it`);
    }
    this.#prereg.remove(link);
    mm.prereg.release(link.region);
  }

  /** VFIO_IOMMU_SPAPR_TCE_CREATE (v2): a new window in the next free slot; returns its bus start. */
  createWindow(mm: Mm, req: CreateWindowRequest): bigint {
    this.#checkMm(mm);
    if (!this.v2) throw fail('ENOTTY', 'TCE_CREATE is a SPAPR_TCE_v2 ioctl');
    const pe = this.#firstPe('ENXIO');
    if (req.flags !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: TCE_CREATE defines no flags`);
    const start = this.#withDefaultWindow(mm, () => {
      const slot = this.#windows.freeSlot(pe.phb.windowSlots);
      if (slot < 0) throw fail('ENOSPC', `all ${Math.min(MAX_WINDOWS, pe.phb.windowSlots)} DMA window slots are in use`);
      if (!pe.phb.supportsPageShift(req.page_shift)) {
        throw fail('EINVAL', `page_shift ${req.page_shift} not supported by ${pe.phb.name} (supported: ${pe.phb.spec.pageShifts.join(', ')})`);
      }
      const params = { pageShift: req.page_shift, windowSize: req.window_size, levels: req.levels, charge: true };
      return this.#windows.create(mm, this.#pes, slot, params).busStart;
    });
    this.#mm = mm;
    return start;
  }

  /** VFIO_IOMMU_SPAPR_TCE_REMOVE (v2): removes the window containing start_addr, clearing it. */
  removeWindow(mm: Mm, req: RemoveWindowRequest): void {
    this.#checkMm(mm);
    if (!this.v2) throw fail('ENOTTY', 'TCE_REMOVE is a SPAPR_TCE_v2 ioctl');
    this.#firstPe('ENXIO');
    if (req.flags !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: TCE_REMOVE defines no flags`);
    if (this.#defWindowPending && req.start_addr === 0n) {
      this.#defWindowPending = false;
      this.#mm = mm;
      return;
    }
    const found = this.#windows.find(req.start_addr);
    if (found === undefined) throw fail('EINVAL', `no DMA window contains start_addr ${hex(req.start_addr)}`);
    this.#windows.remove(found.slot, this.#pes, mm);
    this.#mm = mm;
  }

  // ---- hardware-table access for in-kernel users (KVM's TCE link) ----------------------------

  /** True while `table` is one of this container's windows. */
  hasWindow(table: TceTable): boolean {
    return this.#windows.has(table);
  }

  /**
   * Whether [ua, ua + len) lies in memory this (v2) container has preregistered, in a region that
   * can back pages of `len` bytes.
   */
  preregisteredRange(ua: number, len: number): boolean {
    if (!this.v2) return false;
    const link = this.#prereg.at(ua);
    return link !== undefined && ua + len <= link.region.end && 2 ** link.region.pageShift >= len;
  }

  /**
   * Writes `count` hardware TCEs of window `table` from `index`: entry k is
   * `tces[2k] | tces[2k+1] << 32` (user address | permission bits, or 0 to clear). Replaced entries
   * drop their preregistered-memory reference, new ones take one. Stops before the first non-zero
   * entry whose page is not preregistered with this container; returns how many were written.
   */
  writeTces(table: TceTable, index: number, tces: Uint32Array, count: number): number {
    if (!this.hasWindow(table)) throw fail('EINVAL', 'not a window of this container');
    const pageSize = 2 ** table.pageShift;
    for (let k = 0; k < count; k++) {
      const lo = tces[2 * k]! >>> 0;
      const hi = tces[2 * k + 1]! >>> 0;
      let link: PreregLink | undefined;
      if (lo !== 0 || hi !== 0) {
        const raw = hi * TWO32 + lo;
        const ua = raw - (raw % pageSize);
        if (!this.preregisteredRange(ua, pageSize)) return k;
        link = this.#prereg.at(ua);
      }
      this.#clear(table, index + k, 1);
      table.setParts(index + k, lo, hi);
      if (link !== undefined) {
        link.countMapped(1);
      }
    }
    return count;
  }

  /** Clears hardware TCEs of window `table`, dropping their preregistered-memory references. */
  clearTces(table: TceTable, index: number, count: number): void {
    if (!this.hasWindow(table)) throw fail('EINVAL', 'not a window of this container');
    this.#clear(table, index, count);
  }

  // ---- windows -------------------------------------------------------------------------------

  /**
   * Runs `fn` after materialising a pending default window. If `fn` fails, the window this call
   * materialised goes away again (pending once more), so the failed call leaves no trace.
   */
  #withDefaultWindow<T>(mm: Mm, fn: () => T): T {
    if (!this.#defWindowPending) return fn();
    const pe = this.#firstPe('ENODEV');
    this.#windows.create(mm, this.#pes, 0, {
      pageShift: DEFAULT_WINDOW_PAGE_SHIFT,
      windowSize: pe.phb.dma32.size,
      levels: DEFAULT_WINDOW_LEVELS,
      charge: this.v2,
    });
    this.#defWindowPending = false;
    try {
      return fn();
    } catch (e) {
      this.#windows.remove(0, this.#pes, mm);
      this.#defWindowPending = true;
      throw e;
    }
  }

  /** The window containing iova; ENXIO when none. */
  #tableFor(iova: bigint): { slot: number; table: TceTable } {
    const found = this.#windows.find(iova);
    if (found === undefined) throw fail('ENXIO', `no DMA window contains iova ${hex(iova)}`);
    return found;
  }

  /** Entry range of [iova, iova+size) in the window; EINVAL unaligned or not wholly inside. */
  #range(slot: number, table: TceTable, iova: bigint, size: bigint): { index: number; pages: number } {
    const pageSize = 1n << BigInt(table.pageShift);
    if ((iova & (pageSize - 1n)) !== 0n) {
      throw fail('EINVAL', `iova ${hex(iova)} is not aligned to the window's ${hex(pageSize)} page`);
    }
    if (iova + size > table.busEnd) {
      throw fail('EINVAL', `iova ${hex(iova)} size ${hex(size)} runs past the end of window ${slot} (${hex(table.busStart)}..${hex(table.busEnd)})`);
    }
    return { index: table.indexOf(iova), pages: Number(size >> BigInt(table.pageShift)) };
  }

  /** Writes `pages` TCEs mapping consecutive pages from `vaddr`, replacing what was there. */
  #write(table: TceTable, index: number, vaddr: number, pages: number, perms: number, segments: PreregSegment[] | undefined): void {
    if (pages > SLICE_ENTRIES && this.#slices !== undefined) {
      this.#slices.push(this.#writeSteps(table, index, vaddr, pages, perms, segments));
      return;
    }
    const pageSize = 2 ** table.pageShift;
    this.#clear(table, index, pages);
    let addr = vaddr;
    for (let i = 0; i < pages; i++) {
      const lo = addr % TWO32;
      table.setParts(index + i, lo + perms, (addr - lo) / TWO32);
      addr += pageSize;
    }
    if (segments !== undefined) {
      for (const s of segments) {
        s.link.countMapped(s.pages);
      }
    }
  }

  /** #write in slices of SLICE_ENTRIES (each slice clears, then writes its part). */
  *#writeSteps(table: TceTable, index: number, vaddr: number, pages: number, perms: number, segments: PreregSegment[] | undefined): Generator<void, void, void> {
    const pageSize = 2 ** table.pageShift;
    for (let done = 0; done < pages; done += SLICE_ENTRIES) {
      const n = Math.min(SLICE_ENTRIES, pages - done);
      this.#clear(table, index + done, n);
      let addr = vaddr + done * pageSize;
      for (let i = done; i < done + n; i++) {
        const lo = addr % TWO32;
        table.setParts(index + i, lo + perms, (addr - lo) / TWO32);
        addr += pageSize;
      }
      if (done + n < pages) yield;
    }
    if (segments !== undefined) {
      for (const s of segments) s.link.countMapped(s.pages);
    }
  }

  /** #clear in slices of SLICE_ENTRIES. */
  *#clearSteps(table: TceTable, index: number, count: number): Generator<void, void, void> {
    for (let done = 0; done < count; done += SLICE_ENTRIES) {
      this.#clear(table, index + done, Math.min(SLICE_ENTRIES, count - done));
      if (done + SLICE_ENTRIES < count) yield;
    }
  }

  /** Zeroes entries, dropping the preregistered-memory references of those that were mapped. */
  #clear(table: TceTable, index: number, count: number): void {
    // No TCE points into preregistered memory: nothing to drop, a plain clear (no visit) does.
    if (!this.v2 || this.#prereg.size === 0 || this.#prereg.links.every((l) => l.mapped === 0)) {
      table.clear(index, count);
      return;
    }
    table.clear(index, count, (_i, lo, hi) => {
      const link = this.#prereg.at(hi * TWO32 + lo);
      link?.countMapped(-1);
    });
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Once bound to an mm, the container answers any other mm with EPERM. */
  #checkMm(mm: Mm): void {
    if (this.#mm !== undefined && this.#mm !== mm) {
      throw fail('EPERM', 'container belongs to another process (memory context)');
    }
  }

  #firstPe(errno: 'ENXIO' | 'ENODEV'): Pe {
    const pe = this.#pes[0];
    if (pe === undefined) throw fail(errno, 'no group is attached to the container');
    return pe;
  }

  #checkMemoryRange(mm: Mm, req: MemoryRequest): void {
    if (req.flags !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: no flags are defined`);
    const mask = BigInt(mm.pageSize - 1);
    if ((req.vaddr & mask) !== 0n || (req.size & mask) !== 0n) {
      throw fail('EINVAL', `vaddr ${hex(req.vaddr)} and size ${hex(req.size)} must be multiples of the host page (${hex(mm.pageSize)})`);
    }
    if (req.size === 0n) throw fail('EINVAL', 'size 0');
    if (req.vaddr + req.size > 1n << 64n) throw fail('EINVAL', `vaddr ${hex(req.vaddr)} + size ${hex(req.size)} wraps`);
  }

  #disable(): void {
    if (!this.#enabled || this.v2) return;
    this.#enabled = false;
    this.#mm?.uncharge(this.#enableCharge);
    this.#enableCharge = 0;
  }
}
