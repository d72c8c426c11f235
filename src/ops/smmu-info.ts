/** TOPOLOGY's `smmu` field of a PHB of kind "smmu". */
import { GITS_TRANSLATER, doorbellOfPe, groupRegionsOf, type ResvRegion } from '../hw/smmu-spec.js';
import type { PhbSpec } from '../hw/topology.js';
import type { ResvRegionInfo, SmmuInfo } from '../wire/structs.js';

const region = (r: ResvRegion): ResvRegionInfo => ({ start: r.start, size: r.size, type: r.type });

export function smmuInfo(phb: PhbSpec): SmmuInfo {
  const smmu = phb.smmu!;
  return {
    iova_bits: smmu.iovaBits,
    page_shifts: [...smmu.pageShifts],
    sw_msi: { ...smmu.swMsi },
    reserved_regions: smmu.reserved.map(region),
    doorbells: smmu.its.map((base) => base + GITS_TRANSLATER),
    dma_entry_limit: smmu.dmaEntryLimit,
    groups: phb.pes.map((pe) => ({
      group: pe.group,
      reserved_regions: groupRegionsOf(smmu, pe.pe).map(region),
      doorbell: doorbellOfPe(smmu, pe.pe),
    })),
  };
}
