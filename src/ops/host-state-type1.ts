/** HOST_STATE's view of a type1 container: IOVA ranges, mappings, domains and their MSI pages. */
import type { Type1Backend } from '../vfio/type1.js';
import type { HostType1 } from '../wire/host-state.js';

export function type1State(b: Type1Backend): HostType1 {
  return {
    iova_ranges: b.iovaRanges.map((r) => ({ start: r.start, end: r.end })),
    dma_avail: b.dmaAvail,
    dirty_tracking: b.dirtyTracking,
    mappings: b.dmas.map((d) => ({
      iova: d.iova,
      size: d.size,
      vaddr: d.vaddrInvalid ? null : d.vaddr,
      prot: d.prot,
      locked_bytes: BigInt(d.lockedPages) << BigInt(b.hostPageShift),
    })),
    domains: b.domains.map((d) => ({
      phb: d.phb.name,
      groups: d.pes.map((pe) => pe.group),
      pgsize_bitmap: d.pgsizeBitmap,
      msi_base: d.cookie?.base ?? null,
      msi_pages: (d.cookie?.pages ?? []).map((p) => ({ doorbell: p.phys, iova: p.iova, deliveries: p.deliveries })),
    })),
  };
}
