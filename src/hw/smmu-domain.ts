/**
 * An IOMMU domain of an smmu PHB: one IO page table that the PEs attached to it translate
 * through, and (when the groups report a software MSI window) the MSI cookie that hands out
 * doorbell pages inside that window.
 *
 * The page table is kept as sorted, non-overlapping ranges keyed by IOVA (what a real table
 * holds, without the levels): a user DMA mapping is one range, a doorbell page is one range.
 * Mapping over a present entry fails EEXIST and outside the aperture ERANGE, as io-pgtable-arm
 * does. The MSI cookie allocates like iommu_dma_get_msi_page: one page of the host PAGE_SIZE per
 * doorbell page, at the next address after the previous one, never freed until the domain goes.
 */
import { fail } from '../wire/errno.js';
import type { DmaAccess, Translation } from './pe.js';
import type { Phb } from './phb.js';
import { doorbellOfPe, groupRegionsOf, type ResvRegion } from './smmu-spec.js';
import type { Pe } from './pe.js';

/** IOMMU_READ / IOMMU_WRITE. */
export const IOMMU_READ = 0x1;
export const IOMMU_WRITE = 0x2;

export interface IoMapping {
  iova: bigint;
  size: bigint;
  /** Address reached at `iova`: the user address for DMA mappings, the doorbell page for MSI. */
  addr: bigint;
  prot: number;
  kind: 'dma' | 'msi';
}

export interface MsiPage {
  /** Physical page of the doorbell (ITS translater page). */
  phys: bigint;
  iova: bigint;
  /** MSI writes that reached the doorbell through this page. */
  deliveries: number;
}

export interface MsiCookie {
  /** Start of the software MSI window (the reserved region's base). */
  base: bigint;
  /** Next IOVA handed out. Under the linux profile nothing bounds it by the window's length. */
  next: bigint;
  /** End (exclusive) of the window when pages must stay inside it (strict profile), else undefined. */
  end?: bigint;
  readonly pages: MsiPage[];
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** What iommu_get_group_resv_regions reports for a PE of an smmu PHB (see groupRegionsOf). */
export function groupResvRegions(pe: Pe): ResvRegion[] {
  const smmu = pe.phb.spec.smmu;
  return smmu === undefined ? [] : groupRegionsOf(smmu, pe.number);
}

/** The doorbell address a PE's devices write their MSIs to (their ITS's GITS_TRANSLATER). */
export function doorbellOf(pe: Pe): bigint {
  const smmu = pe.phb.spec.smmu;
  if (smmu === undefined) throw fail('ENODEV', `${pe.phb.name} has no ITS`);
  return doorbellOfPe(smmu, pe.number);
}

export class SmmuDomain {
  readonly phb: Phb;
  /** Inclusive aperture, as iommu_domain_geometry. */
  readonly apertureStart = 0n;
  readonly apertureEnd: bigint;
  /** Bitmap of supported page sizes. */
  readonly pgsizeBitmap: bigint;
  /** Granule of doorbell pages: the host PAGE_SIZE (cookie_msi_granule). */
  readonly msiGranule: bigint;
  readonly pes: Pe[] = [];
  readonly #table: IoMapping[] = [];
  #cookie: MsiCookie | undefined;

  constructor(phb: Phb) {
    const smmu = phb.spec.smmu;
    if (smmu === undefined) throw fail('EOPNOTSUPP', `${phb.name} cannot allocate a paging IOMMU domain`);
    this.phb = phb;
    this.apertureEnd = (1n << BigInt(smmu.iovaBits)) - 1n;
    this.pgsizeBitmap = smmu.pageShifts.reduce((m, s) => m | (1n << BigInt(s)), 0n);
    this.msiGranule = 1n << BigInt(phb.hostPageShift);
  }

  get mappings(): readonly IoMapping[] {
    return this.#table;
  }

  get cookie(): MsiCookie | undefined {
    return this.#cookie;
  }

  /** Index of the first entry ending after `iova`. */
  #lowerBound(iova: bigint): number {
    let lo = 0;
    let hi = this.#table.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.#table[mid]!;
      if (m.iova + m.size <= iova) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entry containing `iova`, if any. */
  find(iova: bigint): IoMapping | undefined {
    const m = this.#table[this.#lowerBound(iova)];
    return m !== undefined && m.iova <= iova ? m : undefined;
  }

  /** An entry overlapping [iova, iova+size), if any. */
  overlapping(iova: bigint, size: bigint): IoMapping | undefined {
    const m = this.#table[this.#lowerBound(iova)];
    return m !== undefined && m.iova < iova + size ? m : undefined;
  }

  /** iommu_map: ERANGE outside the aperture, EEXIST over a present entry; nothing changes on error. */
  map(entry: IoMapping): void {
    if (entry.iova < this.apertureStart || entry.iova + entry.size - 1n > this.apertureEnd) {
      throw fail('ERANGE', `iova ${hex(entry.iova)} size ${hex(entry.size)} lies outside the aperture of ${this.phb.name} (ends ${hex(this.apertureEnd)})`);
    }
    const at = this.#lowerBound(entry.iova);
    const next = this.#table[at];
    if (next !== undefined && next.iova < entry.iova + entry.size) {
      throw fail('EEXIST', `iova ${hex(entry.iova)} size ${hex(entry.size)} overlaps the ${next.kind} mapping at ${hex(next.iova)} in the page table of ${this.phb.name}`);
    }
    this.#table.splice(at, 0, { ...entry });
  }

  /** Removes the entry starting at `iova` (no-op when none does). */
  unmap(iova: bigint): void {
    const at = this.#lowerBound(iova);
    if (this.#table[at]?.iova === iova) this.#table.splice(at, 1);
  }

  /**
   * iommu_get_msi_cookie: MSI pages will be allocated from `base`; with `windowSize`, only inside
   * [base, base + windowSize).
   */
  getMsiCookie(base: bigint, windowSize?: bigint): void {
    if (this.#cookie !== undefined) throw fail('EEXIST', `${this.phb.name} domain already has an MSI cookie`);
    this.#cookie = windowSize === undefined ? { base, next: base, pages: [] } : { base, next: base, end: base + windowSize, pages: [] };
  }

  /**
   * iommu_dma_get_msi_page: the page mapping the doorbell at `doorbell`, mapped now if it was
   * not yet (one per doorbell page, shared by every vector and device of the domain). Undefined
   * when the domain has no cookie or the next page cannot be mapped (the caller's errno).
   */
  msiPage(doorbell: bigint): { page: MsiPage; created: boolean } | undefined {
    const cookie = this.#cookie;
    if (cookie === undefined) return undefined;
    const phys = doorbell & ~(this.msiGranule - 1n);
    const page = cookie.pages.find((p) => p.phys === phys);
    if (page !== undefined) return { page, created: false };
    const iova = cookie.next;
    if (cookie.end !== undefined && iova + this.msiGranule > cookie.end) return undefined;
    try {
      this.map({ iova, size: this.msiGranule, addr: phys, prot: IOMMU_WRITE, kind: 'msi' });
    } catch {
      return undefined;
    }
    cookie.next = iova + this.msiGranule;
    const created = { phys, iova, deliveries: 0 };
    cookie.pages.push(created);
    return { page: created, created: true };
  }

  /** The IOVA a device writes to reach `doorbell` (what the MSI message is composed with). */
  msiIova(page: MsiPage, doorbell: bigint): bigint {
    return page.iova + (doorbell & (this.msiGranule - 1n));
  }

  /** Drops every entry and the cookie (iommu_domain_free). */
  free(): void {
    this.#table.length = 0;
    this.#cookie = undefined;
  }

  /**
   * What a DMA by a device of this domain to `iova` reaches, or a message saying why it faults.
   * A write through a doorbell page counts as one MSI delivery.
   */
  translate(iova: bigint, access: DmaAccess): Translation | string {
    const m = this.find(iova);
    if (m === undefined) return `iova ${hex(iova)}: no mapping in the IOMMU domain of ${this.phb.name} (translation fault)`;
    const need = access === 'read' ? IOMMU_READ : IOMMU_WRITE;
    if ((m.prot & need) === 0) return `iova ${hex(iova)}: the ${m.kind} mapping at ${hex(m.iova)} does not permit ${access} (permission fault)`;
    if (m.kind === 'msi') {
      const page = this.#cookie?.pages.find((p) => p.iova === m.iova);
      if (page !== undefined) page.deliveries++;
    }
    return { addr: m.addr + (iova - m.iova), pageSize: this.#pageSizeOf(m) };
  }

  /** Largest supported page size that the entry's alignment and length allow at its start. */
  #pageSizeOf(m: IoMapping): bigint {
    let best = this.msiGranule;
    for (let s = 63n; s >= 0n; s--) {
      const size = 1n << s;
      if ((this.pgsizeBitmap & size) === 0n) continue;
      if (m.iova % size === 0n && m.addr % size === 0n && m.size >= size) return size;
      best = size;
    }
    return best;
  }
}
