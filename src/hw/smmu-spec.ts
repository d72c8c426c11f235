/**
 * The `smmu` kind of host bridge as data: an ARM SMMUv3-style IOMMU in front of the PHB's PEs.
 * Instead of DMA windows it has an IOVA address space of `iovaBits` bits translated by a page
 * table of `pageShifts` page sizes, reserved IOVA regions the IOMMU driver reports per group
 * (the software-managed MSI window arm-smmu-v3 reports at 0x8000000 + 1 MiB, plus configured
 * reserved / direct-relaxable ranges), and GICv3 ITS MSI controllers whose doorbell
 * (GITS_TRANSLATER) a device's MSI write must reach through that page table.
 *
 * `smmuPhb` builds a PhbSpec of kind `smmu`; `parseSmmuPhb` validates its JSON config.
 * This module imports only types from topology.ts so that topology.ts can call it while it is
 * being evaluated.
 */
import { bad, int, obj, onlyKeys, u64, type Json } from './config-values.js';
import { parseDeviceEntry } from './pci/device-config.js';
import type { PciFunctionSpec } from './pci/spec.js';
import type { BusRange, PeSpec, PhbSpec } from './topology.js';

/**
 * Reserved region types, as iommu_get_group_resv_regions reports them: the software MSI window
 * (IOMMU_RESV_SW_MSI), a plain hole (IOMMU_RESV_RESERVED) and a direct-mapped range that may
 * be given up for device assignment (IOMMU_RESV_DIRECT_RELAXABLE, which VFIO does not exclude).
 */
export type ResvType = 'sw-msi' | 'reserved' | 'direct-relaxable';

export interface ResvRegion {
  start: bigint;
  size: bigint;
  type: ResvType;
}

/** Per-PE extras of an smmu PHB: firmware-described reserved ranges and the ITS its MSIs target. */
export interface SmmuPeSpec {
  pe: number;
  reserved: ResvRegion[];
  /** Index into SmmuSpec.its. */
  its: number;
}

export interface SmmuSpec {
  /** IOMMU page shifts (the domain's pgsize_bitmap). */
  pageShifts: number[];
  /** Input address size: the domain aperture is [0, 2^iovaBits - 1]. */
  iovaBits: number;
  /** The software MSI window every group reports (MSI_IOVA_BASE / MSI_IOVA_LENGTH of arm-smmu-v3). */
  swMsi: BusRange;
  /** Reserved regions every group of this PHB reports besides the MSI window. */
  reserved: ResvRegion[];
  /** Physical base of each GICv3 ITS; the doorbell is base + GITS_TRANSLATER (0x10040). */
  its: bigint[];
  /** vfio_iommu_type1 dma_entry_limit: user mappings a type1 container may hold (module parameter). */
  dmaEntryLimit: number;
  pes: SmmuPeSpec[];
}

/** Offset of GITS_TRANSLATER, the ITS doorbell register, from the ITS base. */
export const GITS_TRANSLATER = 0x1_0040n;
/** arm-smmu-v3's MSI_IOVA_BASE and MSI_IOVA_LENGTH. */
export const MSI_IOVA_BASE = 0x800_0000n;
export const MSI_IOVA_LENGTH = 0x10_0000n;
/** vfio_iommu_type1's default dma_entry_limit (U16_MAX). */
export const DEFAULT_DMA_ENTRY_LIMIT = 65535;

export const SMMU_MODELS: Readonly<Record<string, { pageShifts: number[]; iovaBits: number }>> = {
  SMMUv3: { pageShifts: [12, 21, 30], iovaBits: 48 },
};

export interface SmmuPeInput {
  pe: number;
  group: number;
  devices: string[];
  functions?: PciFunctionSpec[];
  reserved?: ResvRegion[];
  its?: number;
}

/** A PhbSpec of kind `smmu` with the preset's numbers; the sPAPR window fields are empty. */
export function smmuPhb(index: number, name: string, model: string, pes: SmmuPeInput[]): PhbSpec {
  const preset = SMMU_MODELS[model]!;
  const swMsi = { start: MSI_IOVA_BASE, size: MSI_IOVA_LENGTH };
  const peSpecs: PeSpec[] = pes.map((p) => ({
    pe: p.pe,
    group: p.group,
    devices: [...p.devices],
    ...(p.functions === undefined ? {} : { functions: p.functions }),
  }));
  return {
    index,
    name,
    kind: 'smmu',
    model,
    tableOps: 'ioda2',
    pageShifts: [...preset.pageShifts],
    maxLevels: 0,
    windowStarts: [],
    maxDynamicWindows: 0,
    dma32: { start: 0n, size: 0n },
    mmio32: { start: 0n, size: 0n },
    msi: { ...swMsi },
    maxLevelBytes: 0,
    pes: peSpecs,
    smmu: {
      pageShifts: [...preset.pageShifts],
      iovaBits: preset.iovaBits,
      swMsi,
      reserved: [],
      its: [0x800_0000_0000n + BigInt(index) * 0x2_0000n],
      dmaEntryLimit: DEFAULT_DMA_ENTRY_LIMIT,
      pes: pes.map((p) => ({ pe: p.pe, reserved: [...(p.reserved ?? [])], its: p.its ?? 0 })),
    },
  };
}

/**
 * The reserved regions a PE numbered `pe` reports (iommu_get_group_resv_regions): the software
 * MSI window, the PHB's and the PE's firmware regions, sorted by start, with overlapping regions
 * of the same type merged.
 */
export function groupRegionsOf(smmu: SmmuSpec, pe: number): ResvRegion[] {
  const own = smmu.pes.find((p) => p.pe === pe)?.reserved ?? [];
  const msi: ResvRegion = { ...smmu.swMsi, type: 'sw-msi' };
  const all = [msi, ...smmu.reserved, ...own].map((r) => ({ ...r }));
  all.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: ResvRegion[] = [];
  for (const r of all) {
    const same = out.find((o) => o.type === r.type && r.start < o.start + o.size && o.start < r.start + r.size);
    if (same === undefined) {
      out.push(r);
      continue;
    }
    const end = r.start + r.size > same.start + same.size ? r.start + r.size : same.start + same.size;
    same.size = end - same.start;
  }
  return out;
}

/** The doorbell (GITS_TRANSLATER address) the MSIs of PE `pe` target. */
export function doorbellOfPe(smmu: SmmuSpec, pe: number): bigint {
  const index = smmu.pes.find((p) => p.pe === pe)?.its ?? 0;
  return smmu.its[index]! + GITS_TRANSLATER;
}

// ---------------------------------------------------------------------------------------------
// Config parsing for `"kind": "smmu"` PHBs. Bad values are ConfigIssues naming the key path (config-values.ts).

function array(v: Json, path: string): Json[] {
  if (!Array.isArray(v)) bad(path, 'must be an array');
  return v;
}

function range(v: Json, path: string, iovaBits: number): BusRange {
  const o = obj(v, path);
  onlyKeys(o, path, ['start', 'size', 'type']);
  const start = u64(o.start, `${path}.start`);
  const size = u64(o.size, `${path}.size`);
  if (size === 0n) bad(`${path}.size`, 'must not be 0');
  if (start + size > 1n << BigInt(iovaBits)) bad(path, `must lie below 2^${iovaBits} (iova_bits)`);
  return { start, size };
}

function region(v: Json, path: string, iovaBits: number): ResvRegion {
  const r = range(v, path, iovaBits);
  const type = obj(v, path).type ?? 'reserved';
  if (type !== 'reserved' && type !== 'direct-relaxable') bad(`${path}.type`, 'must be "reserved" or "direct-relaxable"');
  return { ...r, type };
}

const SMMU_KEYS = [
  'name', 'kind', 'model', 'page_shifts', 'iova_bits', 'sw_msi', 'reserved_regions', 'its', 'dma_entry_limit', 'pes',
] as const;

/** Validates one `"kind": "smmu"` PHB object of a topology config. */
export function parseSmmuPhb(o: Record<string, Json>, index: number, path: string): PhbSpec {
  onlyKeys(o, path, SMMU_KEYS);
  const model = o.model ?? 'SMMUv3';
  if (typeof model !== 'string' || !(model in SMMU_MODELS)) bad(`${path}.model`, `must be one of ${Object.keys(SMMU_MODELS).join(', ')}`);
  const name = o.name ?? `phb${index}`;
  if (typeof name !== 'string' || name.length === 0) bad(`${path}.name`, 'must be a non-empty string');
  const iovaBits = o.iova_bits === undefined ? SMMU_MODELS[model]!.iovaBits : int(o.iova_bits, `${path}.iova_bits`, 32, 64);
  const its = o.its === undefined ? undefined : array(o.its, `${path}.its`).map((a, i) => u64(a, `${path}.its[${i}]`));
  if (its !== undefined && its.length === 0) bad(`${path}.its`, 'must name at least one ITS');
  const pes = array(o.pes, `${path}.pes`).map((p, i) => parseSmmuPe(p, `${path}.pes[${i}]`, iovaBits, its?.length ?? 1));
  if (pes.length === 0) bad(`${path}.pes`, 'must be a non-empty array');
  const spec = smmuPhb(index, name, model, pes);
  const smmu = spec.smmu!;
  smmu.iovaBits = iovaBits;
  if (its !== undefined) smmu.its = its;
  if (o.page_shifts !== undefined) {
    const shifts = array(o.page_shifts, `${path}.page_shifts`).map((s, i) => int(s, `${path}.page_shifts[${i}]`, 12, 40));
    if (shifts.length === 0) bad(`${path}.page_shifts`, 'must be a non-empty array');
    smmu.pageShifts = [...new Set(shifts)].sort((a, b) => a - b);
    spec.pageShifts = [...smmu.pageShifts];
  }
  if (o.sw_msi !== undefined) {
    smmu.swMsi = range(o.sw_msi, `${path}.sw_msi`, iovaBits);
    spec.msi = { ...smmu.swMsi };
  }
  if (o.reserved_regions !== undefined) {
    smmu.reserved = array(o.reserved_regions, `${path}.reserved_regions`).map((r, i) => region(r, `${path}.reserved_regions[${i}]`, iovaBits));
  }
  if (o.dma_entry_limit !== undefined) smmu.dmaEntryLimit = int(o.dma_entry_limit, `${path}.dma_entry_limit`, 0, 0xffff_ffff);
  return spec;
}

function parseSmmuPe(v: Json, path: string, iovaBits: number, itsCount: number): SmmuPeInput {
  const o = obj(v, path);
  onlyKeys(o, path, ['pe', 'group', 'devices', 'reserved_regions', 'its']);
  const pe = int(o.pe, `${path}.pe`, 0, 0xffff);
  const group = int(o.group, `${path}.group`, 0, 0x7fff_ffff);
  const entries = array(o.devices, `${path}.devices`).map((d, i) => parseDeviceEntry(d, `${path}.devices[${i}]`));
  if (entries.length === 0) bad(`${path}.devices`, 'must be a non-empty array');
  const reserved = o.reserved_regions === undefined
    ? []
    : array(o.reserved_regions, `${path}.reserved_regions`).map((r, i) => region(r, `${path}.reserved_regions[${i}]`, iovaBits));
  const its = o.its === undefined ? 0 : int(o.its, `${path}.its`, 0, itsCount - 1);
  return { pe, group, devices: entries.map((e) => e.address), functions: entries.map((e) => e.function), reserved, its };
}
