/**
 * The emulated hardware as data: PHBs, their DMA-window geometry and reserved ranges, and their
 * PEs (IOMMU groups) with devices. `DEFAULT_TOPOLOGY` is what `vphb serve` boots without
 * `--config`; `parseTopology` validates a JSON config and names the first bad key it finds.
 */
import { VphbError } from '../wire/errno.js';
import { parseSmmuPhb, smmuPhb, type SmmuSpec } from './smmu-spec.js';
import { parseDeviceEntry } from './pci/device-config.js';
import type { PciFunctionSpec } from './pci/spec.js';

/** Table programming family: groups of different families cannot share a container (EPERM). */
export type TableOps = 'ioda2' | 'ioda1';

export interface BusRange {
  start: bigint;
  size: bigint;
}

export interface PeSpec {
  /** PE number on its PHB. */
  pe: number;
  /** IOMMU group number, unique on the host: what a client opens like /dev/vfio/N. */
  group: number;
  /** PCI addresses `dddd:bb:dd.f`. */
  devices: string[];
  /** The PCI function of each device, same order; absent entries get the default model (nvme). */
  functions?: PciFunctionSpec[];
}

export interface PhbSpec {
  index: number;
  name: string;
  /** `spapr`: TCE windows (the fields below); `smmu`: a type1 IOVA space described by `smmu`. */
  kind: 'spapr' | 'smmu';
  model: string;
  tableOps: TableOps;
  /** IOMMU page shifts the PHB supports (VFIO ddw.pgsizes is the bitmap of 1<<shift). */
  pageShifts: number[];
  /** Most TCE table levels a window may have. */
  maxLevels: number;
  /** Bus start of each DMA window slot; its length is the number of slots. */
  windowStarts: bigint[];
  /** VFIO ddw.max_dynamic_windows_supported: windows a client may have at once; 0 = no DDW. */
  maxDynamicWindows: number;
  /** The default 32-bit DMA window (slot 0, 4K pages, one level). */
  dma32: BusRange;
  /** Inbound addresses the PHB decodes as MMIO (peer to peer), never as DMA. */
  mmio32: BusRange;
  /** Inbound addresses the PHB decodes as MSI writes, never as DMA. */
  msi: BusRange;
  /** Largest single level a TCE table may allocate (bigger levels fail with ENOMEM, as alloc_pages does). */
  maxLevelBytes: number;
  pes: PeSpec[];
  /** Kind `smmu` only: the SMMU's page sizes, IOVA width, reserved regions and ITS doorbells. */
  smmu?: SmmuSpec;
}

export interface TopologySpec {
  /** Host PAGE_SIZE shift: 16 (64 KiB) as on ppc64 Linux. */
  hostPageShift: number;
  phbs: PhbSpec[];
}

const GiB = 1n << 30n;

interface ModelPreset {
  tableOps: TableOps;
  pageShifts: number[];
  maxLevels: number;
  windowStarts: bigint[];
  maxDynamicWindows: number;
}

/** PHB generations: POWER9 PHB4 and POWER8 PHB3 (IODA2, DDW) and POWER7 P7IOC (IODA1, one window). */
export const PHB_MODELS: Readonly<Record<string, ModelPreset>> = {
  POWER9: { tableOps: 'ioda2', pageShifts: [12, 16, 21, 30], maxLevels: 5, windowStarts: [0n, 1n << 59n], maxDynamicWindows: 2 },
  POWER8: { tableOps: 'ioda2', pageShifts: [12, 16, 24, 28], maxLevels: 5, windowStarts: [0n, 1n << 59n], maxDynamicWindows: 2 },
  POWER7: { tableOps: 'ioda1', pageShifts: [12], maxLevels: 1, windowStarts: [0n], maxDynamicWindows: 0 },
};

function phb(index: number, name: string, model: string, pes: PeSpec[]): PhbSpec {
  const preset = PHB_MODELS[model]!;
  return {
    index,
    name,
    kind: 'spapr',
    model,
    ...preset,
    pageShifts: [...preset.pageShifts],
    windowStarts: [...preset.windowStarts],
    dma32: { start: 0n, size: 2n * GiB },
    mmio32: { start: 2n * GiB, size: 2n * GiB },
    msi: { start: 0x400_0000_0000n, size: 0x1_0000n },
    maxLevelBytes: 16 << 20,
    pes,
  };
}

export const DEFAULT_TOPOLOGY: TopologySpec = {
  hostPageShift: 16,
  phbs: [
    phb(0, 'phb0', 'POWER9', [
      { pe: 1, group: 1, devices: ['0000:01:00.0', '0000:01:00.1'] },
      { pe: 2, group: 2, devices: ['0000:02:00.0'] },
      { pe: 3, group: 3, devices: ['0000:03:00.0'] },
      { pe: 4, group: 4, devices: ['0000:04:00.0', '0000:04:00.1'] },
    ]),
    phb(1, 'phb1', 'POWER8', [
      { pe: 1, group: 5, devices: ['0001:01:00.0'] },
      { pe: 2, group: 6, devices: ['0001:02:00.0'] },
    ]),
    // An ARM SMMUv3-style bridge for VFIO type1: group 8 also reports a firmware reserved range.
    smmuPhb(2, 'smmu0', 'SMMUv3', [
      { pe: 1, group: 7, devices: ['0002:01:00.0'] },
      { pe: 2, group: 8, devices: ['0002:02:00.0'], reserved: [{ start: 0x4000_0000n, size: 0x10_0000n, type: 'reserved' }] },
    ]),
  ],
};

// ---------------------------------------------------------------------------------------------
// Config parsing: JSON in, TopologySpec out, or a VphbError(EINVAL) naming the key path.

type Json = unknown;

function bad(path: string, why: string): never {
  throw new VphbError('EINVAL', `topology config: ${path}: ${why}`);
}

function obj(v: Json, path: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, 'must be an object');
  return v as Record<string, Json>;
}

function onlyKeys(o: Record<string, Json>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${path}.${k}`, 'unknown key');
}

function int(v: Json, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(path, `must be an integer in [${min}, ${max}]`);
  }
  return v;
}

/** A 64-bit quantity: a safe-integer number or a string in decimal or 0x-hex. */
function u64(v: Json, path: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) {
    const n = BigInt(v);
    if (n < 1n << 64n) return n;
  }
  return bad(path, 'must be a non-negative integer below 2^64 (number, or string in decimal or 0x hex)');
}

function range(v: Json, path: string): BusRange {
  const o = obj(v, path);
  onlyKeys(o, path, ['start', 'size']);
  return { start: u64(o.start, `${path}.start`), size: u64(o.size, `${path}.size`) };
}

const PHB_KEYS = [
  'name', 'kind', 'model', 'page_shifts', 'max_levels', 'window_starts', 'max_dynamic_windows',
  'dma32_window', 'mmio32', 'msi', 'max_level_bytes', 'pes',
] as const;

function parsePhb(v: Json, index: number, path: string): PhbSpec {
  const o = obj(v, path);
  if (o.kind === 'smmu') return parseSmmuPhb(o, index, path);
  onlyKeys(o, path, PHB_KEYS);
  const kind = o.kind ?? 'spapr';
  if (kind !== 'spapr') bad(`${path}.kind`, `unsupported PHB kind ${JSON.stringify(kind)} (supported: "spapr", "smmu")`);
  const model = o.model ?? 'POWER9';
  if (typeof model !== 'string' || !(model in PHB_MODELS)) {
    bad(`${path}.model`, `must be one of ${Object.keys(PHB_MODELS).join(', ')}`);
  }
  const name = o.name ?? `phb${index}`;
  if (typeof name !== 'string' || name.length === 0) bad(`${path}.name`, 'must be a non-empty string');
  if (!Array.isArray(o.pes) || o.pes.length === 0) bad(`${path}.pes`, 'must be a non-empty array');
  const pes = o.pes.map((p, i) => parsePe(p, `${path}.pes[${i}]`));
  const spec = phb(index, name, model, pes);
  if (o.page_shifts !== undefined) {
    if (!Array.isArray(o.page_shifts) || o.page_shifts.length === 0) bad(`${path}.page_shifts`, 'must be a non-empty array');
    spec.pageShifts = o.page_shifts.map((s, i) => int(s, `${path}.page_shifts[${i}]`, 12, 40));
  }
  if (o.max_levels !== undefined) spec.maxLevels = int(o.max_levels, `${path}.max_levels`, 1, 5);
  if (o.window_starts !== undefined) {
    if (!Array.isArray(o.window_starts) || o.window_starts.length < 1 || o.window_starts.length > 2) {
      bad(`${path}.window_starts`, 'must be an array of 1 or 2 bus addresses');
    }
    spec.windowStarts = o.window_starts.map((s, i) => u64(s, `${path}.window_starts[${i}]`));
    spec.maxDynamicWindows = spec.windowStarts.length > 1 ? spec.windowStarts.length : 0;
  }
  if (o.max_dynamic_windows !== undefined) {
    spec.maxDynamicWindows = int(o.max_dynamic_windows, `${path}.max_dynamic_windows`, 0, spec.windowStarts.length);
  }
  if (o.dma32_window !== undefined) spec.dma32 = range(o.dma32_window, `${path}.dma32_window`);
  if (o.mmio32 !== undefined) spec.mmio32 = range(o.mmio32, `${path}.mmio32`);
  if (o.msi !== undefined) spec.msi = range(o.msi, `${path}.msi`);
  if (o.max_level_bytes !== undefined) {
    spec.maxLevelBytes = int(o.max_level_bytes, `${path}.max_level_bytes`, 4096, 2 ** 31);
  }
  if (spec.dma32.start + spec.dma32.size > 1n << 32n) bad(`${path}.dma32_window`, 'must end at or below 4 GiB');
  return spec;
}

function parsePe(v: Json, path: string): PeSpec {
  const o = obj(v, path);
  onlyKeys(o, path, ['pe', 'group', 'devices']);
  const pe = int(o.pe, `${path}.pe`, 0, 0xffff);
  const group = int(o.group, `${path}.group`, 0, 0x7fff_ffff);
  if (!Array.isArray(o.devices) || o.devices.length === 0) bad(`${path}.devices`, 'must be a non-empty array');
  const entries = o.devices.map((d, i) => parseDeviceEntry(d, `${path}.devices[${i}]`));
  return { pe, group, devices: entries.map((e) => e.address), functions: entries.map((e) => e.function) };
}

/** Validates a parsed JSON topology config. Throws VphbError(EINVAL) naming the bad key. */
export function parseTopology(json: Json): TopologySpec {
  const o = obj(json, '$');
  onlyKeys(o, '$', ['host_page_shift', 'phbs']);
  const hostPageShift = o.host_page_shift === undefined ? 16 : int(o.host_page_shift, '$.host_page_shift', 12, 16);
  if (!Array.isArray(o.phbs) || o.phbs.length === 0) bad('$.phbs', 'must be a non-empty array');
  const phbs = o.phbs.map((p, i) => parsePhb(p, i, `$.phbs[${i}]`));
  const groups = new Set<number>();
  const devices = new Set<string>();
  phbs.forEach((p, i) => {
    const pes = new Set<number>();
    p.pes.forEach((pe, j) => {
      const at = `$.phbs[${i}].pes[${j}]`;
      if (pes.has(pe.pe)) bad(`${at}.pe`, `PE ${pe.pe} appears twice on this PHB`);
      if (groups.has(pe.group)) bad(`${at}.group`, `group ${pe.group} appears twice`);
      pes.add(pe.pe);
      groups.add(pe.group);
      for (const d of pe.devices) {
        if (devices.has(d)) bad(`${at}.devices`, `device ${d} appears twice`);
        devices.add(d);
      }
    });
  });
  return { hostPageShift, phbs };
}
