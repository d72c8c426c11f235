/**
 * The type1 IOMMU backend of a VFIO container (VFIO_TYPE1_IOMMU = 1, VFIO_TYPE1v2_IOMMU = 3),
 * for groups on smmu PHBs: what drivers/vfio/vfio_iommu_type1.c does.
 *
 * The container holds the user's DMA mappings (vfio_dma: iova, size, vaddr, prot, the mm that
 * pinned them), the usable-IOVA list, and one IOMMU domain per SMMU (PHB) its groups sit on;
 * every mapping is present in every domain's page table. Attaching a group clips the IOVA list to
 * the new aperture and cuts its reserved regions out, and gives a new domain an MSI cookie on the
 * software MSI window; detaching recomputes the list; the last group takes everything down.
 *
 * Every method checks in the kernel's order and either succeeds or changes nothing.
 */
import { fail } from '../wire/errno.js';
import type { Pe } from '../hw/pe.js';
import { groupResvRegions, IOMMU_READ, IOMMU_WRITE, SmmuDomain, type MsiPage } from '../hw/smmu-domain.js';
import type { ResvRegion } from '../hw/smmu-spec.js';
import {
  TASK_SIZE,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from './constants.js';
import type { Mm } from './locked-memory.js';
import { quirksOf, type Quirks } from './profile.js';
import { dirtyBitmapOf, trailingZeros, verifyBitmapSize } from './type1-dirty.js';
import { aperResize, iovaValid, resvExclude, type IovaRange } from './type1-iova.js';
import {
  DIRTY_BITMAP_SIZE_MAX,
  VFIO_DMA_CC_IOMMU,
  VFIO_DMA_MAP_FLAG_VADDR,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
  VFIO_DMA_UNMAP_FLAG_VADDR,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
} from './type1-constants.js';

const hex = (v: bigint | number) => `0x${v.toString(16)}`;
const U64_MAX = (1n << 64n) - 1n;

/** One user mapping (struct vfio_dma). */
export interface Type1Dma {
  iova: bigint;
  size: bigint;
  vaddr: bigint;
  prot: number;
  /** The mm its pages are pinned and accounted to. */
  mm: Mm;
  /** Host pages accounted to `mm`. */
  lockedPages: number;
  /** UNMAP_DMA with FLAG_VADDR invalidated the user address; MAP_DMA with FLAG_VADDR sets a new one. */
  vaddrInvalid: boolean;
}

export interface Type1MapRequest {
  flags: number;
  vaddr: bigint;
  iova: bigint;
  size: bigint;
}

export interface Type1UnmapRequest {
  flags: number;
  iova: bigint;
  size: bigint;
  /** GET_DIRTY_BITMAP: struct vfio_bitmap's pgsize and size. */
  bitmapPgsize?: bigint;
  bitmapSize?: bigint;
}

export interface Type1Info {
  flags: number;
  iova_pgsizes: bigint;
  iova_ranges?: { start: bigint; end: bigint }[];
  migration: { flags: number; pgsize_bitmap: bigint; max_dirty_bitmap_size: bigint };
  dma_avail: number;
}

export interface DirtyBitmapRequest {
  iova: bigint;
  size: bigint;
  pgsize: bigint;
  bitmapSize: bigint;
}

export { DIRTY_BITMAP_REPLY_MAX } from './type1-dirty.js';

export class Type1Backend {
  readonly type: number;
  readonly v2: boolean;
  readonly hostPageShift: number;
  readonly #dmas: Type1Dma[] = [];
  readonly #domains: SmmuDomain[] = [];
  readonly #pes: Pe[] = [];
  #iovas: IovaRange[] = [];
  #dmaAvail: number;
  #vaddrInvalidCount = 0;
  #dirtyTracking = false;
  #pgsizeBitmap: bigint;
  readonly #quirks: Quirks;

  /** vfio_iommu_type1_check_extension; `active` = asked of an open backend (not the empty container). */
  static checkExtension(extension: number, backend?: Type1Backend): number {
    switch (extension) {
      case VFIO_TYPE1_IOMMU:
      case VFIO_TYPE1v2_IOMMU:
      case VFIO_UNMAP_ALL:
        return 1;
      case VFIO_UPDATE_VADDR:
        return backend === undefined ? 0 : 1;
      case VFIO_DMA_CC_IOMMU:
        // No SMMU master here is marked CANWBS by firmware, so no domain enforces coherency.
        return 0;
      default:
        return 0;
    }
  }

  /** vfio_iommu_type1_open: `dmaEntryLimit` is the module's dma_entry_limit. */
  constructor(type: number, dmaEntryLimit: number, hostPageShift: number, quirks: Quirks = quirksOf()) {
    if (type !== VFIO_TYPE1_IOMMU && type !== VFIO_TYPE1v2_IOMMU) throw fail('EINVAL', `IOMMU type ${type} is not type1`);
    this.type = type;
    this.v2 = type === VFIO_TYPE1v2_IOMMU;
    this.hostPageShift = hostPageShift;
    this.#dmaAvail = dmaEntryLimit;
    this.#pgsizeBitmap = this.#pageMask;
    this.#quirks = quirks;
  }

  // ---- introspection -------------------------------------------------------------------------

  get #pageSize(): bigint {
    return 1n << BigInt(this.hostPageShift);
  }

  /** PAGE_MASK as a 64-bit bitmap: every page size from PAGE_SIZE up. */
  get #pageMask(): bigint {
    return U64_MAX & ~(this.#pageSize - 1n);
  }

  get pes(): readonly Pe[] {
    return this.#pes;
  }

  get domains(): readonly SmmuDomain[] {
    return this.#domains;
  }

  get dmas(): readonly Type1Dma[] {
    return this.#dmas;
  }

  /** The usable IOVA ranges, inclusive ends. */
  get iovaRanges(): readonly IovaRange[] {
    return this.#iovas;
  }

  get dmaAvail(): number {
    return this.#dmaAvail;
  }

  get pgsizeBitmap(): bigint {
    return this.#pgsizeBitmap;
  }

  get dirtyTracking(): boolean {
    return this.#dirtyTracking;
  }

  /** Smallest supported page size: the alignment unit of MAP/UNMAP. */
  get minPageSize(): bigint {
    const b = this.#pgsizeBitmap;
    return b & -b;
  }

  checkExtension(extension: number): number {
    return Type1Backend.checkExtension(extension, this);
  }

  // ---- groups --------------------------------------------------------------------------------

  /**
   * vfio_iommu_type1_attach_group: EBUSY while a vaddr is invalidated or the host still does DMA
   * on the PE; EINVAL already attached, aperture disjoint from the current IOVA list or cutting
   * off a mapping, a reserved region over a mapping, or nothing usable left; EOPNOTSUPP for a PE
   * whose IOMMU has no paging domains (sPAPR). Nothing changes on error.
   */
  attachPe(pe: Pe): void {
    if (this.#vaddrInvalidCount > 0) throw fail('EBUSY', `group ${pe.group}: ${this.#vaddrInvalidCount} mapping(s) have an invalidated vaddr`);
    if (this.#pes.includes(pe)) throw fail('EINVAL', `group ${pe.group} is already attached`);
    if (pe.phb.spec.kind !== 'smmu') {
      throw fail('EOPNOTSUPP', `group ${pe.group}: ${pe.phb.name} (${pe.phb.spec.kind}) has no paging IOMMU domains, type1 cannot use it`);
    }
    if (pe.hostDmaActive) throw fail('EBUSY', `group ${pe.group}: the host still has DMA mappings on PE ${pe.number}`);
    const existing = this.#domains.find((d) => d.phb === pe.phb);
    const domain = existing ?? new SmmuDomain(pe.phb);
    if (this.#aperConflict(domain.apertureStart, domain.apertureEnd)) {
      throw fail('EINVAL', `group ${pe.group}: aperture [${hex(domain.apertureStart)}, ${hex(domain.apertureEnd)}] conflicts with the container's IOVA ranges or mappings`);
    }
    const regions = groupResvRegions(pe);
    const hit = this.#resvConflict(regions);
    if (hit !== undefined) {
      throw fail('EINVAL', `group ${pe.group}: reserved region ${hit.type} [${hex(hit.start)}, ${hex(hit.start + hit.size - 1n)}] overlaps an existing DMA mapping`);
    }
    const iovas = resvExclude(aperResize(this.#iovas, domain.apertureStart, domain.apertureEnd), regions);
    if (iovas === undefined) throw fail('EINVAL', `group ${pe.group}: its reserved regions leave no usable IOVA range`);
    if (existing === undefined) {
      // A new domain: replay every mapping into it, then the MSI cookie on the SW_MSI window.
      try {
        for (const d of this.#dmas) domain.map({ iova: d.iova, size: d.size, addr: d.vaddr, prot: d.prot, kind: 'dma' });
      } catch (e) {
        domain.free();
        throw e;
      }
      const swMsi = regions.find((r) => r.type === 'sw-msi');
      if (swMsi !== undefined) domain.getMsiCookie(swMsi.start, this.#quirks.msiCookieUnbounded ? undefined : swMsi.size);
      this.#domains.push(domain);
      this.#updatePgsizeBitmap();
    }
    domain.pes.push(pe);
    pe.smmuDomain = domain;
    this.#iovas = iovas;
    this.#pes.push(pe);
  }

  /** vfio_iommu_type1_detach_group: the PE leaves its domain; an empty domain is freed. */
  detachPe(pe: Pe): void {
    const i = this.#pes.indexOf(pe);
    if (i < 0) return;
    this.#pes.splice(i, 1);
    const domain = pe.smmuDomain;
    pe.smmuDomain = undefined;
    let { start, end } = { start: this.#iovas[0]?.start ?? 0n, end: this.#iovas.at(-1)?.end ?? U64_MAX };
    if (domain !== undefined) {
      domain.pes.splice(domain.pes.indexOf(pe), 1);
      if (domain.pes.length === 0) {
        if (this.#domains.length === 1) this.#unmapAll();
        domain.free();
        this.#domains.splice(this.#domains.indexOf(domain), 1);
        // vfio_iommu_aper_expand: the narrowest remaining aperture.
        start = 0n;
        end = U64_MAX;
        for (const d of this.#domains) {
          if (d.apertureStart > start) start = d.apertureStart;
          if (d.apertureEnd < end) end = d.apertureEnd;
        }
        this.#updatePgsizeBitmap();
      }
    }
    // vfio_iommu_resv_refresh: rebuild from the aperture minus the remaining groups' regions.
    if (this.#iovas.length === 0) return;
    const refreshed = resvExclude([{ start, end }], this.#pes.flatMap(groupResvRegions));
    if (refreshed !== undefined) this.#iovas = refreshed;
  }

  /** vfio_iommu_type1_release: every mapping unpinned, domains freed. */
  release(): void {
    this.#unmapAll();
    for (const pe of this.#pes) pe.smmuDomain = undefined;
    for (const d of this.#domains) d.free();
    this.#domains.length = 0;
    this.#pes.length = 0;
    this.#iovas = [];
  }

  // ---- ioctls --------------------------------------------------------------------------------

  /** VFIO_IOMMU_GET_INFO: PGSIZES | CAPS with the MIGRATION, DMA_AVAIL and IOVA_RANGE capabilities. */
  getInfo(): Type1Info {
    const info: Type1Info = {
      flags: VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS,
      iova_pgsizes: this.#pgsizeBitmap,
      migration: { flags: 0, pgsize_bitmap: this.minPageSize, max_dirty_bitmap_size: DIRTY_BITMAP_SIZE_MAX },
      dma_avail: this.#dmaAvail,
    };
    if (this.#iovas.length > 0) info.iova_ranges = this.#iovas.map((r) => ({ start: r.start, end: r.end }));
    return info;
  }

  /**
   * VFIO_IOMMU_MAP_DMA (vfio_iommu_type1_map_dma + vfio_dma_do_map): EINVAL unknown flags, no
   * READ/WRITE (or VADDR with them), zero or unaligned size/iova/vaddr, wrap-around, or outside
   * the usable IOVA ranges; EEXIST over a mapping; ENOSPC no dma entry left; ENOMEM past the
   * locked-memory limit; EFAULT unpinnable user memory. FLAG_VADDR: ENOENT no mapping there,
   * EINVAL not exactly an invalidated mapping.
   */
  map(mm: Mm, req: Type1MapRequest): void {
    const known = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR;
    if ((req.flags & ~known) !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: unknown bits ${hex(req.flags & ~known)}`);
    const setVaddr = (req.flags & VFIO_DMA_MAP_FLAG_VADDR) !== 0;
    let prot = 0;
    if (req.flags & VFIO_DMA_MAP_FLAG_WRITE) prot |= IOMMU_WRITE;
    if (req.flags & VFIO_DMA_MAP_FLAG_READ) prot |= IOMMU_READ;
    if (prot !== 0 && setVaddr) throw fail('EINVAL', 'flags: VADDR cannot be combined with READ/WRITE');
    if (prot === 0 && !setVaddr) throw fail('EINVAL', 'flags: a mapping needs READ or WRITE');
    const { iova, size, vaddr } = req;
    const pgsize = this.minPageSize;
    if (size === 0n || ((size | iova | vaddr) & (pgsize - 1n)) !== 0n) {
      throw fail('EINVAL', `iova ${hex(iova)} size ${hex(size)} vaddr ${hex(vaddr)}: must be non-zero multiples of the smallest IOMMU page size ${hex(pgsize)}`);
    }
    if (iova + size - 1n > U64_MAX || vaddr + size - 1n > U64_MAX) {
      throw fail('EINVAL', `iova ${hex(iova)} / vaddr ${hex(vaddr)} + size ${hex(size)} wraps around 2^64`);
    }
    const dma = this.#findDma(iova, size);
    if (setVaddr) {
      if (dma === undefined) throw fail('ENOENT', `VADDR: no mapping at iova ${hex(iova)} size ${hex(size)}`);
      if (!dma.vaddrInvalid || dma.iova !== iova || dma.size !== size) {
        throw fail('EINVAL', `VADDR: iova ${hex(iova)} size ${hex(size)} is not exactly one mapping whose vaddr was invalidated`);
      }
      this.#changeOwner(dma, mm);
      dma.vaddr = vaddr;
      dma.vaddrInvalid = false;
      this.#vaddrInvalidCount--;
      return;
    }
    if (dma !== undefined) throw fail('EEXIST', `iova ${hex(iova)} size ${hex(size)} overlaps the mapping at ${hex(dma.iova)} size ${hex(dma.size)}`);
    if (this.#dmaAvail === 0) throw fail('ENOSPC', 'dma_entry_limit reached: no DMA mapping entry left in this container');
    if (!iovaValid(this.#iovas, iova, iova + size - 1n)) {
      throw fail('EINVAL', `iova ${hex(iova)} size ${hex(size)} is not inside one usable IOVA range (reserved or beyond the aperture)`);
    }
    // vfio_pin_map_dma: pin (accounting each page against RLIMIT_MEMLOCK), then map in every domain.
    const pages = Number(size >> BigInt(this.hostPageShift));
    const pinnable = vaddr >= TASK_SIZE ? 0 : Math.min(pages, Number((TASK_SIZE - vaddr) >> BigInt(this.hostPageShift)));
    const limit = mm.limitPages;
    if (limit !== null && mm.lockedPages + pinnable > limit) {
      throw fail('ENOMEM', `locked memory limit: mapping ${hex(size)} needs ${pages} pages, ${mm.lockedPages} of ${limit} already locked`);
    }
    if (pinnable < pages) throw fail('EFAULT', `vaddr ${hex(vaddr)} + ${hex(size)} is not user memory (TASK_SIZE ${hex(TASK_SIZE)})`);
    mm.charge(pages, `MAP_DMA iova ${hex(iova)}`);
    const entry = { iova, size, addr: vaddr, prot, kind: 'dma' as const };
    const done: SmmuDomain[] = [];
    try {
      for (const d of this.#domains) {
        d.map(entry);
        done.push(d);
      }
    } catch (e) {
      for (const d of done) d.unmap(iova);
      mm.uncharge(pages);
      throw e;
    }
    this.#dmaAvail--;
    this.#insertDma({ iova, size, vaddr, prot, mm, lockedPages: pages, vaddrInvalid: false });
  }

  /**
   * VFIO_IOMMU_UNMAP_DMA (vfio_iommu_type1_unmap_dma + vfio_dma_do_unmap). Returns the bytes
   * unmapped (or invalidated, with FLAG_VADDR). EINVAL unknown flags, GET_DIRTY_BITMAP with ALL or
   * VADDR or without dirty tracking, unaligned iova/size, zero size, ALL with iova/size, wrap,
   * and (v2) a range bisecting a mapping. v1 rounds instead: a mapping starting before `iova`
   * stops the walk, one starting inside the range goes whole.
   */
  unmap(req: Type1UnmapRequest): { size: bigint; bitmap?: Uint8Array } {
    const known = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;
    if ((req.flags & ~known) !== 0) throw fail('EINVAL', `flags ${hex(req.flags)}: unknown bits ${hex(req.flags & ~known)}`);
    const getDirty = (req.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) !== 0;
    const all = (req.flags & VFIO_DMA_UNMAP_FLAG_ALL) !== 0;
    const invalidateVaddr = (req.flags & VFIO_DMA_UNMAP_FLAG_VADDR) !== 0;
    if (getDirty && (all || invalidateVaddr)) throw fail('EINVAL', 'flags: GET_DIRTY_BITMAP cannot be combined with ALL or VADDR');
    if (getDirty) {
      if (req.bitmapPgsize === undefined || req.bitmapSize === undefined) {
        throw fail('EINVAL', 'GET_DIRTY_BITMAP needs bitmap_pgsize and bitmap_size');
      }
      verifyBitmapSize(req.size >> trailingZeros(req.bitmapPgsize), req.bitmapSize);
    }
    const pgsize = this.minPageSize;
    let { iova, size } = req;
    if ((iova & (pgsize - 1n)) !== 0n) throw fail('EINVAL', `iova ${hex(iova)} is not aligned to the smallest IOMMU page size ${hex(pgsize)}`);
    if (all) {
      if (iova !== 0n || size !== 0n) throw fail('EINVAL', 'UNMAP_ALL needs iova 0 and size 0');
      size = U64_MAX;
    } else if (size === 0n || (size & (pgsize - 1n)) !== 0n || iova + size - 1n > U64_MAX) {
      throw fail('EINVAL', `size ${hex(size)}: must be a non-zero multiple of ${hex(pgsize)} not wrapping past 2^64`);
    }
    if (getDirty && (!this.#dirtyTracking || req.bitmapPgsize !== pgsize)) {
      throw fail('EINVAL', this.#dirtyTracking ? `bitmap_pgsize must be ${hex(pgsize)}` : 'GET_DIRTY_BITMAP: dirty page tracking is not started');
    }
    if (this.v2 && !all) {
      const first = this.#findDma(iova, 1n);
      if (first !== undefined && first.iova !== iova) throw fail('EINVAL', `iova ${hex(iova)} bisects the mapping at ${hex(first.iova)} size ${hex(first.size)}`);
      const last = this.#findDmaStrict(iova + size - 1n);
      if (last !== undefined && last.iova + last.size !== iova + size) {
        throw fail('EINVAL', `iova ${hex(iova)} + size ${hex(size)} bisects the mapping at ${hex(last.iova)} size ${hex(last.size)}`);
      }
    }
    const end = iova + size; // may be 2^64 for ALL
    const victims: Type1Dma[] = [];
    for (const d of this.#dmas) {
      if (d.iova + d.size <= iova) continue;
      if (d.iova >= end) break;
      if (!this.v2 && iova > d.iova) break;
      victims.push(d);
    }
    let bitmap: Uint8Array | undefined;
    if (getDirty) bitmap = dirtyBitmapOf(victims, iova, size, pgsize, req.bitmapSize!);
    if (invalidateVaddr) {
      const already = victims.find((d) => d.vaddrInvalid);
      if (already !== undefined) throw fail('EINVAL', `VADDR: the mapping at ${hex(already.iova)} already has an invalidated vaddr`);
      for (const d of victims) d.vaddrInvalid = true;
      this.#vaddrInvalidCount += victims.length;
      return { size: victims.reduce((s, d) => s + d.size, 0n) };
    }
    let unmapped = 0n;
    for (const d of victims) {
      unmapped += d.size;
      this.#removeDma(d);
    }
    return bitmap === undefined ? { size: unmapped } : { size: unmapped, bitmap };
  }

  /** VFIO_IOMMU_DIRTY_PAGES START: tracking on (idempotent). v1: EACCES. */
  dirtyStart(): void {
    if (!this.v2) throw fail('EACCES', 'dirty page tracking needs a TYPE1v2 container');
    this.#dirtyTracking = true;
  }

  /** VFIO_IOMMU_DIRTY_PAGES STOP: tracking off (idempotent). v1: EACCES. */
  dirtyStop(): void {
    if (!this.v2) throw fail('EACCES', 'dirty page tracking needs a TYPE1v2 container');
    this.#dirtyTracking = false;
  }

  /**
   * VFIO_IOMMU_DIRTY_PAGES GET_BITMAP: one bit per `pgsize` page of [iova, iova+size). Every page
   * of a mapping is reported dirty: an IOMMU-backed group can write anywhere it is mapped.
   */
  dirtyBitmap(req: DirtyBitmapRequest): Uint8Array {
    if (!this.v2) throw fail('EACCES', 'dirty page tracking needs a TYPE1v2 container');
    if (req.iova + req.size > U64_MAX) throw fail('EINVAL', `iova ${hex(req.iova)} + size ${hex(req.size)} wraps around 2^64`);
    verifyBitmapSize(req.size >> trailingZeros(req.pgsize), req.bitmapSize);
    const pgsize = this.minPageSize;
    if (req.pgsize !== pgsize) throw fail('EINVAL', `pgsize ${hex(req.pgsize)}: only the smallest IOMMU page size ${hex(pgsize)} is supported`);
    if ((req.iova & (pgsize - 1n)) !== 0n) throw fail('EINVAL', `iova ${hex(req.iova)} is not aligned to ${hex(pgsize)}`);
    if (req.size === 0n || (req.size & (pgsize - 1n)) !== 0n) throw fail('EINVAL', `size ${hex(req.size)} must be a non-zero multiple of ${hex(pgsize)}`);
    if (!this.#dirtyTracking) throw fail('EINVAL', 'GET_BITMAP: dirty page tracking is not started');
    const first = this.#findDma(req.iova, 1n);
    if (first !== undefined && first.iova !== req.iova) throw fail('EINVAL', `iova ${hex(req.iova)} bisects the mapping at ${hex(first.iova)}`);
    const last = this.#findDmaStrict(req.iova + req.size - 1n);
    if (last !== undefined && last.iova + last.size !== req.iova + req.size) throw fail('EINVAL', `iova ${hex(req.iova)} + size ${hex(req.size)} bisects the mapping at ${hex(last.iova)}`);
    const inRange = this.#dmas.filter((d) => d.iova >= req.iova && d.iova <= req.iova + req.size - 1n);
    return dirtyBitmapOf(inRange, req.iova, req.size, pgsize, req.bitmapSize);
  }

  // ---- transparent MSI -----------------------------------------------------------------------

  /**
   * iommu_dma_prepare_msi for a device of `pe` whose MSIs target `doorbell`: the doorbell page is
   * mapped in the PE's domain (once; later vectors and devices share it) and the IOVA the device
   * must write is returned. Undefined when the domain has no MSI cookie (MSIs need no mapping).
   * ENOSPC (what the PCI MSI layer makes of the failure) when the next page cannot be mapped.
   */
  prepareMsi(pe: Pe, doorbell: bigint): { iova: bigint; page: MsiPage; created: boolean } | undefined {
    const domain = pe.smmuDomain;
    if (domain?.cookie === undefined) return undefined;
    const got = domain.msiPage(doorbell);
    if (got === undefined) {
      throw fail('ENOSPC', `group ${pe.group}: cannot map the doorbell ${hex(doorbell)} at ${hex(domain.cookie.next)} (the MSI window at ${hex(domain.cookie.base)} is used up and the next page is taken)`);
    }
    return { iova: domain.msiIova(got.page, doorbell), ...got };
  }

  // ---- internals -----------------------------------------------------------------------------

  /** vfio_find_dma: a mapping overlapping [start, start+size). */
  #findDma(start: bigint, size: bigint): Type1Dma | undefined {
    return this.#dmas.find((d) => start < d.iova + d.size && d.iova < start + size);
  }

  /** vfio_find_dma(iommu, addr, 0): a mapping containing addr that starts strictly before it. */
  #findDmaStrict(addr: bigint): Type1Dma | undefined {
    return this.#dmas.find((d) => d.iova < addr && addr < d.iova + d.size);
  }

  #insertDma(dma: Type1Dma): void {
    let i = this.#dmas.findIndex((d) => d.iova > dma.iova);
    if (i < 0) i = this.#dmas.length;
    this.#dmas.splice(i, 0, dma);
  }

  /** vfio_remove_dma: out of every page table, pages unpinned and unaccounted, entry returned. */
  #removeDma(dma: Type1Dma): void {
    for (const d of this.#domains) d.unmap(dma.iova);
    dma.mm.uncharge(dma.lockedPages);
    if (dma.vaddrInvalid) this.#vaddrInvalidCount--;
    this.#dmas.splice(this.#dmas.indexOf(dma), 1);
    this.#dmaAvail++;
  }

  #unmapAll(): void {
    for (const d of [...this.#dmas]) this.#removeDma(d);
  }

  /** vfio_change_dma_owner: the pinned pages move to `mm`'s account (ENOMEM over its limit). */
  #changeOwner(dma: Type1Dma, mm: Mm): void {
    if (dma.mm === mm) return;
    mm.charge(dma.lockedPages, `VADDR update of iova ${hex(dma.iova)}`);
    dma.mm.uncharge(dma.lockedPages);
    dma.mm = mm;
  }

  /** vfio_iommu_aper_conflict. */
  #aperConflict(start: bigint, end: bigint): boolean {
    if (this.#iovas.length === 0) return false;
    const first = this.#iovas[0]!;
    const last = this.#iovas.at(-1)!;
    if (start > last.end || end < first.start) return true;
    if (start > first.start && this.#findDma(first.start, start - first.start) !== undefined) return true;
    if (end < last.end && this.#findDma(end + 1n, last.end - end) !== undefined) return true;
    return false;
  }

  /** vfio_iommu_resv_conflict: the first non-relaxable region over a mapping. */
  #resvConflict(regions: readonly ResvRegion[]): ResvRegion | undefined {
    return regions.find((r) => r.type !== 'direct-relaxable' && this.#findDma(r.start, r.size) !== undefined);
  }

  /** vfio_update_pgsize_bitmap: AND of the domains, sub-PAGE_SIZE sizes folded into PAGE_SIZE. */
  #updatePgsizeBitmap(): void {
    let b = U64_MAX;
    for (const d of this.#domains) b &= d.pgsizeBitmap;
    if ((b & ~this.#pageMask) !== 0n) b = (b & this.#pageMask) | this.#pageSize;
    this.#pgsizeBitmap = b;
  }

}

