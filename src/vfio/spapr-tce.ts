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
  VFIO_EEH,
  VFIO_IOMMU_SPAPR_INFO_DDW,
  VFIO_SPAPR_TCE_IOMMU,
  VFIO_SPAPR_TCE_v2_IOMMU,
} from './constants.js';
import { DmaWindows, MAX_WINDOWS, type WindowInfo } from './dma-windows.js';
import type { Mm } from './locked-memory.js';
import { holdAt, preregSegments, type PreregHold, type PreregSegment } from './prereg.js';
import { PreregLinks, type PreregLink } from './prereg-links.js';
import { quirksOf, type Quirks } from './profile.js';

export { MAX_WINDOWS, type WindowInfo } from './dma-windows.js';

const TWO32 = 2 ** 32;
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
  /**
   * REGISTER_MEMORY only, vphb's own field: the page size (shift) backing the range when it is
   * hugetlbfs memory. Absent: the host page size (`linux`) or no cap (`strict`).
   */
  page_shift?: number;
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
  readonly quirks: Quirks;
  readonly #pes: Pe[] = [];
  readonly #windows: DmaWindows;
  readonly #prereg = new PreregLinks();
  #defWindowPending = false;
  #enabled = false;
  #enableCharge = 0;
  #mm: Mm | undefined;

  /**
   * VFIO_CHECK_EXTENSION as this backend answers it, with or without a container: SPAPR_TCE (2),
   * SPAPR_TCE_v2 (7) and VFIO_EEH (5, EEH is enabled on PowerNV) are 1.
   */
  static checkExtension(extension: number): number {
    return SpaprTceBackend.isIommuType(extension) || extension === VFIO_EEH ? 1 : 0;
  }

  /** The IOMMU types this backend can be opened with. */
  static isIommuType(type: number): boolean {
    return type === VFIO_SPAPR_TCE_IOMMU || type === VFIO_SPAPR_TCE_v2_IOMMU;
  }

  /** EINVAL for a type that is not an sPAPR IOMMU type (VFIO_EEH claims the extension, not the type). */
  constructor(type: number, quirks: Quirks = quirksOf()) {
    if (!SpaprTceBackend.isIommuType(type)) throw fail('EINVAL', `IOMMU type ${type} is not sPAPR TCE (2 or 7)`);
    this.type = type;
    this.v2 = type === VFIO_SPAPR_TCE_v2_IOMMU;
    this.quirks = quirks;
    this.#windows = new DmaWindows((table, index, count) => this.#clear(table, index, count), quirks);
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

  /** The regions this container registered itself. */
  get preregistered(): readonly PreregLink[] {
    return this.#prereg.links;
  }

  /**
   * Where this container's MAP_DMA (and KVM's hardware writes) find preregistered memory, sorted
   * by address: under `preregLookupWholeMm` every region of the bound mm (the kernel's
   * mm_iommu_lookup; a region the container holds appears as its hold), else only the
   * container's own holds.
   */
  get preregHolds(): readonly PreregHold[] {
    if (!this.quirks.preregLookupWholeMm) return this.#prereg.links;
    const regions = this.#mm?.prereg.regions ?? [];
    if (this.#prereg.size === 0) return regions;
    // A region this container holds counts on its hold too (and so on the region).
    return regions.map((r) => this.#prereg.linkOf(r) ?? r);
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
   * unprograms what was done and nothing changes). The first group of a container without a
   * window in slot 0 makes the default window pending, for v1 as for v2 (K3).
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

  /**
   * Gives a PE back (tce_iommu_release_ownership, v6.10+): every TCE of every container table is
   * cleared first — the other groups of the container lose their mappings too (K6) — then the
   * PE's TVT is emptied. The container's tables persist.
   */
  detachPe(pe: Pe): void {
    const i = this.#pes.indexOf(pe);
    if (i < 0) return;
    for (const w of this.#windows.list) this.#clear(w.table, 0, w.table.entries);
    this.#windows.unprogramFrom(pe);
    this.#pes.splice(i, 1);
  }

  /**
   * Tears the backend down (the container lost its last group or is destroyed): PEs detached,
   * every window cleared and freed, preregistrations dropped (a region TCEs of another container
   * still map stays pinned, as mm_iommu_put leaves it), all other locked memory refunded.
   */
  release(): void {
    for (const pe of [...this.#pes].reverse()) this.detachPe(pe);
    for (let slot = MAX_WINDOWS - 1; slot >= 0; slot--) this.#windows.remove(slot, [], this.#mm);
    const mm = this.#mm;
    for (const link of [...this.#prereg.links]) {
      this.#prereg.remove(link);
      mm?.prereg.release(link.region, true);
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
    this.#mm = mm;
    const pages = Number(size >> BigInt(mm.pageShift));
    mm.charge(pages, `enabling a ${hex(size)}-byte default window`);
    this.#enableCharge = pages;
    this.#enabled = true;
  }

  /** VFIO_IOMMU_DISABLE (v1): refunds ENABLE's charge; mappings stay. Always succeeds. */
  disable(mm: Mm): void {
    this.#checkMm(mm);
    if (this.v2) throw fail('ENOTTY', 'VFIO_IOMMU_DISABLE is a SPAPR_TCE (v1) ioctl');
    this.#disable();
  }

  /**
   * VFIO_IOMMU_MAP_DMA: [iova, iova+size) → [vaddr, vaddr+size), replacing existing entries.
   * Returns the ioctl's value: 0, or 1 for an iova not aligned to the window page under
   * `misalignedIovaReturnsOne` (K7; nothing is mapped).
   */
  map(mm: Mm, req: MapRequest): number {
    this.#checkMm(mm);
    if (!this.#enabled) {
      throw fail('EPERM', this.v2 ? 'no memory preregistered yet (REGISTER_MEMORY enables a v2 container)' : 'container not enabled (VFIO_IOMMU_ENABLE)');
    }
    if ((req.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) !== 0) {
      throw fail('EINVAL', `flags ${hex(req.flags)}: only READ 0x1 and WRITE 0x2 are defined`);
    }
    return this.#withDefaultWindow(mm, () => {
      const { slot, table } = this.#tableFor(req.iova);
      const pageSize = 1n << BigInt(table.pageShift);
      if ((req.size & (pageSize - 1n)) !== 0n || (req.vaddr & (pageSize - 1n)) !== 0n) {
        throw fail('EINVAL', `size ${hex(req.size)} and vaddr ${hex(req.vaddr)} must be multiples of the window's ${hex(pageSize)} page`);
      }
      if ((req.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) === 0) {
        throw fail('EINVAL', 'flags: a mapping needs READ or WRITE');
      }
      const range = this.#range(slot, table, req.iova, req.size);
      if (range === 1) return 1;
      const { index, pages } = range;
      if (pages === 0) return 0;
      let segments: PreregSegment[] | undefined;
      let failure: { done: number; error: Error } | undefined;
      if (this.v2) {
        const r = preregSegments(this.preregHolds, Number(req.vaddr), pages, table.pageShift);
        segments = r.segments;
        if (r.error !== undefined) failure = { done: r.done, error: r.error };
      } else if (req.vaddr + req.size > TASK_SIZE) {
        const done = req.vaddr >= TASK_SIZE ? 0 : Number((TASK_SIZE - req.vaddr) / pageSize);
        failure = {
          done,
          error: fail('EFAULT', `vaddr ${hex(req.vaddr)} size ${hex(req.size)}: cannot pin memory beyond the user address space (${hex(TASK_SIZE)})`),
        };
      }
      if (failure !== undefined) {
        // The kernel wrote the pages before the failing one, then cleared what it wrote.
        if (this.quirks.failedMapClearsRange && failure.done > 0) this.#clear(table, index, failure.done);
        throw failure.error;
      }
      // Hardware tables get R|W for a W-only mapping.
      const perms = (req.flags & VFIO_DMA_MAP_FLAG_READ) !== 0 && (req.flags & VFIO_DMA_MAP_FLAG_WRITE) === 0 ? TCE_READ : TCE_READ | TCE_WRITE;
      this.#write(table, index, Number(req.vaddr), pages, perms, segments);
      return 0;
    });
  }

  /** VFIO_IOMMU_UNMAP_DMA: clears the TCEs of [iova, iova+size). Returns the ioctl's value, as map(). */
  unmap(mm: Mm, req: UnmapRequest): number {
    this.#checkMm(mm);
    if (!this.#enabled) {
      throw fail('EPERM', this.v2 ? 'no memory preregistered yet (REGISTER_MEMORY enables a v2 container)' : 'container not enabled (VFIO_IOMMU_ENABLE)');
    }
    if (req.flags !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: UNMAP_DMA defines no flags`);
    return this.#withDefaultWindow(mm, () => {
      const { slot, table } = this.#tableFor(req.iova);
      const pageSize = 1n << BigInt(table.pageShift);
      if ((req.size & (pageSize - 1n)) !== 0n) {
        throw fail('EINVAL', `size ${hex(req.size)} must be a multiple of the window's ${hex(pageSize)} page`);
      }
      const range = this.#range(slot, table, req.iova, req.size);
      if (range === 1) return 1;
      if (range.pages > 0) this.#clear(table, range.index, range.pages);
      return 0;
    });
  }

  /**
   * VFIO_IOMMU_SPAPR_REGISTER_MEMORY (v2): pins and accounts a range; enables the container.
   * Order (tce_iommu_register_pages, mm_iommu_do_alloc): flags, alignment, wrap → EINVAL; the
   * same range already in this container → EBUSY; then ENOMEM (limit; size 0 under
   * `registerSizeZeroEnomem`), EFAULT (not user memory), EINVAL (overlap).
   */
  registerMemory(mm: Mm, req: MemoryRequest): void {
    this.#checkMm(mm);
    if (!this.v2) throw fail('ENOTTY', 'REGISTER_MEMORY is a SPAPR_TCE_v2 ioctl');
    this.#mm = mm;
    this.#checkMemoryRange(mm, req, true);
    const ps = req.page_shift;
    if (ps !== undefined && (!Number.isInteger(ps) || ps < mm.pageShift || ps > 63)) {
      throw fail('EINVAL', `page_shift ${ps}: a backing page is 2^${mm.pageShift} (the host page) to 2^63 bytes`);
    }
    if (this.#prereg.findExact(req.vaddr, req.size) !== undefined) {
      throw fail('EBUSY', `vaddr ${hex(req.vaddr)} size ${hex(req.size)} is already registered with this container`);
    }
    const region = mm.prereg.acquire(req.vaddr, req.size, {
      backingShift: ps ?? (this.quirks.preregPageSizeFromBacking ? mm.pageShift : undefined),
      sizeZeroEnomem: this.quirks.registerSizeZeroEnomem,
    });
    this.#prereg.add(region);
    this.#enabled = true;
  }

  /**
   * VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY (v2). While TCEs still point into the region: under
   * `unregisterMappedSucceeds` (K9) it returns 0, the region leaves the container but stays pinned
   * and accounted; otherwise EBUSY with nothing changed.
   */
  unregisterMemory(mm: Mm, req: MemoryRequest): void {
    this.#checkMm(mm);
    if (!this.v2) throw fail('ENOTTY', 'UNREGISTER_MEMORY is a SPAPR_TCE_v2 ioctl');
    if (this.#mm === undefined) throw fail('EPERM', 'container has no memory context yet (nothing was registered)');
    this.#checkMemoryRange(mm, req, false);
    const link = this.#prereg.findExact(req.vaddr, req.size);
    if (link === undefined) {
      throw fail('ENOENT', `vaddr ${hex(req.vaddr)} size ${hex(req.size)} is not registered with this container`);
    }
    if (!this.quirks.unregisterMappedSucceeds) {
      if (link.mapped > 0) throw fail('EBUSY', `vaddr ${hex(req.vaddr)} size ${hex(req.size)}: ${link.mapped} TCE(s) still map it`);
      this.#prereg.remove(link);
      mm.prereg.release(link.region);
      return;
    }
    this.#prereg.remove(link);
    mm.prereg.release(link.region, true);
  }

  /** VFIO_IOMMU_SPAPR_TCE_CREATE (v2): a new window in the next free slot; returns its bus start. */
  createWindow(mm: Mm, req: CreateWindowRequest): bigint {
    this.#checkMm(mm);
    if (!this.v2) throw fail('ENOTTY', 'TCE_CREATE is a SPAPR_TCE_v2 ioctl');
    this.#mm = mm;
    const pe = this.#firstPe('ENXIO');
    if (req.flags !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: TCE_CREATE defines no flags`);
    return this.#withDefaultWindow(mm, () => {
      const slot = this.#windows.freeSlot(pe.phb.windowSlots);
      if (slot < 0) throw fail('ENOSPC', `all ${Math.min(MAX_WINDOWS, pe.phb.windowSlots)} DMA window slots are in use`);
      if (!pe.phb.supportsPageShift(req.page_shift)) {
        throw fail('EINVAL', `page_shift ${req.page_shift} not supported by ${pe.phb.name} (supported: ${pe.phb.spec.pageShifts.join(', ')})`);
      }
      const params = { pageShift: req.page_shift, windowSize: req.window_size, levels: req.levels, charge: true };
      return this.#windows.create(mm, this.#pes, slot, params).busStart;
    });
  }

  /** VFIO_IOMMU_SPAPR_TCE_REMOVE (v2): removes the window containing start_addr, clearing it. */
  removeWindow(mm: Mm, req: RemoveWindowRequest): void {
    this.#checkMm(mm);
    if (!this.v2) throw fail('ENOTTY', 'TCE_REMOVE is a SPAPR_TCE_v2 ioctl');
    this.#mm = mm;
    this.#firstPe('ENXIO');
    if (req.flags !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: TCE_REMOVE defines no flags`);
    if (this.#defWindowPending && req.start_addr === 0n) {
      this.#defWindowPending = false;
      return;
    }
    const found = this.#windows.find(req.start_addr);
    if (found === undefined) throw fail('EINVAL', `no DMA window contains start_addr ${hex(req.start_addr)}`);
    this.#windows.remove(found.slot, this.#pes, mm);
  }

  // ---- hardware-table access for in-kernel users (KVM's TCE link) ----------------------------

  /** True while `table` is one of this container's windows. */
  hasWindow(table: TceTable): boolean {
    return this.#windows.has(table);
  }

  /**
   * Whether [ua, ua + len) lies in preregistered memory this (v2) container can map (see
   * preregHolds), in a region that can back pages of `len` bytes.
   */
  preregisteredRange(ua: number, len: number): boolean {
    if (!this.v2) return false;
    const hold = holdAt(this.preregHolds, ua);
    return hold !== undefined && ua + len <= hold.region.end && 2 ** hold.region.pageShift >= len;
  }

  /**
   * Writes `count` hardware TCEs of window `table` from `index`: entry k is
   * `tces[2k] | tces[2k+1] << 32` (user address | permission bits, or 0 to clear). Replaced entries
   * drop their preregistered-memory reference, new ones take one. Stops before the first non-zero
   * entry whose page is not preregistered memory this container can map; returns how many were
   * written.
   */
  writeTces(table: TceTable, index: number, tces: Uint32Array, count: number): number {
    if (!this.hasWindow(table)) throw fail('EINVAL', 'not a window of this container');
    const pageSize = 2 ** table.pageShift;
    for (let k = 0; k < count; k++) {
      const lo = tces[2 * k]! >>> 0;
      const hi = tces[2 * k + 1]! >>> 0;
      let hold: PreregHold | undefined;
      if (lo !== 0 || hi !== 0) {
        const raw = hi * TWO32 + lo;
        const ua = raw - (raw % pageSize);
        if (!this.preregisteredRange(ua, pageSize)) return k;
        hold = holdAt(this.preregHolds, ua);
      }
      this.#clear(table, index + k, 1);
      table.setParts(index + k, lo, hi);
      hold?.countMapped(1);
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
   * Runs `fn` after materialising a pending default window (tce_iommu_create_default_window: 4K
   * pages, the 32-bit window's size, one level, charged for v1 and v2 alike). If `fn` fails, the
   * window stays under `failedCallKeepsDefaultWindow` (K5), else it goes away again (pending once
   * more) so that the failed call leaves no trace.
   */
  #withDefaultWindow<T>(mm: Mm, fn: () => T): T {
    if (!this.#defWindowPending) return fn();
    const pe = this.#firstPe('ENODEV');
    this.#windows.create(mm, this.#pes, 0, {
      pageShift: DEFAULT_WINDOW_PAGE_SHIFT,
      windowSize: pe.phb.dma32.size,
      levels: DEFAULT_WINDOW_LEVELS,
      charge: true,
    });
    this.#defWindowPending = false;
    try {
      return fn();
    } catch (e) {
      if (!this.quirks.failedCallKeepsDefaultWindow) {
        this.#windows.remove(0, this.#pes, mm);
        this.#defWindowPending = true;
      }
      throw e;
    }
  }

  /** The window containing iova; ENXIO when none. */
  #tableFor(iova: bigint): { slot: number; table: TceTable } {
    const found = this.#windows.find(iova);
    if (found === undefined) throw fail('ENXIO', `no DMA window contains iova ${hex(iova)}`);
    return found;
  }

  /**
   * Entry range of [iova, iova+size) in the window. An unaligned iova is 1 (the ioctl's value)
   * under `misalignedIovaReturnsOne`, else EINVAL; a range not wholly inside the window is EINVAL
   * in both profiles (the kernel checks only the first page and then writes past its table).
   */
  #range(slot: number, table: TceTable, iova: bigint, size: bigint): { index: number; pages: number } | 1 {
    const pageSize = 1n << BigInt(table.pageShift);
    if ((iova & (pageSize - 1n)) !== 0n) {
      if (this.quirks.misalignedIovaReturnsOne) return 1;
      throw fail('EINVAL', `iova ${hex(iova)} is not aligned to the window's ${hex(pageSize)} page`);
    }
    if (iova + size > table.busEnd) {
      throw fail('EINVAL', `iova ${hex(iova)} size ${hex(size)} runs past the end of window ${slot} (${hex(table.busStart)}..${hex(table.busEnd)})`);
    }
    return { index: table.indexOf(iova), pages: Number(size >> BigInt(table.pageShift)) };
  }

  /** Writes `pages` TCEs mapping consecutive pages from `vaddr`, replacing what was there. */
  #write(table: TceTable, index: number, vaddr: number, pages: number, perms: number, segments: PreregSegment[] | undefined): void {
    const pageSize = 2 ** table.pageShift;
    this.#clear(table, index, pages);
    let addr = vaddr;
    for (let i = 0; i < pages; i++) {
      const lo = addr % TWO32;
      table.setParts(index + i, lo + perms, (addr - lo) / TWO32);
      addr += pageSize;
    }
    if (segments !== undefined) {
      for (const s of segments) s.hold.countMapped(s.pages);
    }
  }

  /** Zeroes entries, dropping the preregistered-memory references of those that were mapped. */
  #clear(table: TceTable, index: number, count: number): void {
    const holds = this.v2 ? this.preregHolds : [];
    if (holds.length === 0) {
      table.clear(index, count);
      return;
    }
    let last: PreregHold | undefined;
    table.clear(index, count, (_i, lo, hi) => {
      const addr = hi * TWO32 + lo;
      if (last === undefined || addr < last.region.start || addr >= last.region.end) last = holdAt(holds, addr);
      last?.countMapped(-1);
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

  /**
   * flags ≠ 0, vaddr/size not host-page aligned → EINVAL. REGISTER also: a range wrapping the
   * address space → EINVAL; size 0 → EINVAL unless `registerSizeZeroEnomem` (then acquire() says
   * ENOMEM, and UNREGISTER finds no such region: ENOENT).
   */
  #checkMemoryRange(mm: Mm, req: MemoryRequest, register: boolean): void {
    if (req.flags !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: no flags are defined`);
    const mask = BigInt(mm.pageSize - 1);
    if ((req.vaddr & mask) !== 0n || (req.size & mask) !== 0n) {
      throw fail('EINVAL', `vaddr ${hex(req.vaddr)} and size ${hex(req.size)} must be multiples of the host page (${hex(mm.pageSize)})`);
    }
    if (this.quirks.registerSizeZeroEnomem) {
      if (register && req.size > 0n && req.vaddr + req.size >= 1n << 64n) throw fail('EINVAL', `vaddr ${hex(req.vaddr)} + size ${hex(req.size)} wraps`);
      return;
    }
    if (req.size === 0n) throw fail('EINVAL', 'size 0');
    if (req.vaddr + req.size >= 1n << 64n) throw fail('EINVAL', `vaddr ${hex(req.vaddr)} + size ${hex(req.size)} wraps`);
  }

  #disable(): void {
    if (!this.#enabled || this.v2) return;
    this.#enabled = false;
    this.#mm?.uncharge(this.#enableCharge);
    this.#enableCharge = 0;
  }
}
