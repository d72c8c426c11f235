/**
 * The usable-IOVA list of a type1 container: sorted, disjoint, inclusive [start, end] ranges.
 * It starts as the first domain's aperture, is clipped to every later domain's aperture and has
 * every attached group's reserved regions cut out (except direct-relaxable ones), as
 * vfio_iommu_aper_resize, vfio_iommu_resv_exclude, vfio_iommu_aper_expand and
 * vfio_iommu_resv_refresh maintain it. All functions are pure: they return a new list.
 */
import type { ResvRegion } from '../hw/smmu-spec.js';

export interface IovaRange {
  start: bigint;
  /** Inclusive. */
  end: bigint;
}

/** vfio_iommu_aper_resize: the list clipped to [start, end] (the aperture itself when empty). */
export function aperResize(list: readonly IovaRange[], start: bigint, end: bigint): IovaRange[] {
  if (list.length === 0) return [{ start, end }];
  const out: IovaRange[] = [];
  for (const n of list) {
    if (n.end < start || n.start > end) continue;
    out.push({ start: n.start > start ? n.start : start, end: n.end < end ? n.end : end });
  }
  return out;
}

/**
 * vfio_iommu_resv_exclude: the list minus every region that is not direct-relaxable; undefined
 * when nothing usable remains (the kernel's EINVAL).
 */
export function resvExclude(list: readonly IovaRange[], regions: readonly ResvRegion[]): IovaRange[] | undefined {
  let out = list.map((n) => ({ ...n }));
  for (const r of regions) {
    if (r.type === 'direct-relaxable') continue;
    const rs = r.start;
    const re = r.start + r.size - 1n;
    const next: IovaRange[] = [];
    for (const n of out) {
      if (rs > n.end || re < n.start) {
        next.push(n);
        continue;
      }
      if (rs > n.start) next.push({ start: n.start, end: rs - 1n });
      if (re < n.end) next.push({ start: re + 1n, end: n.end });
    }
    out = next;
  }
  return out.length === 0 ? undefined : out;
}

/** vfio_iommu_iova_dma_valid: [start, end] lies inside one usable range (or the list is empty). */
export function iovaValid(list: readonly IovaRange[], start: bigint, end: bigint): boolean {
  return list.length === 0 || list.some((n) => start >= n.start && end <= n.end);
}
