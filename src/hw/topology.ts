/**
 * The emulated hardware as data: PHBs, their DMA-window geometry and reserved ranges, and their
 * PEs (IOMMU groups) with devices. `DEFAULT_TOPOLOGY` is what `vphb serve` boots without
 * `--config`; `parseTopology` validates a JSON config and reports every bad key at once, each with
 * its JSON path.
 */
import { AlreadyReported, ConfigErrors, bad, int, obj, onlyKeys, u64 } from './config-values.js';
import { parseSmmuPhb, smmuPhb, type SmmuSpec } from './smmu-spec.js';
import { parseDeviceEntry } from './pci/device-config.js';
import type { PciFunctionSpec } from './pci/spec.js';
import { TCE_BUS_BITS_LIMIT } from './tce-table.js';

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
  /** Behaviour profile named by the config (`profile`: linux | strict); the CLI flag overrides it. */
  profile?: 'linux' | 'strict';
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
// Config parsing: JSON in, TopologySpec out, or one VphbError(EINVAL) listing every bad key with its
// JSON path. Validators throw a ConfigIssue for the key they check; `ConfigErrors.collect` records
// it and parsing goes on with the next key, so a config with several mistakes is fixed in one go.
// A new key is one more `errs.collect(() => ...)` line in parsePhb (or parsePe).

type Json = unknown;

export { ConfigErrors, ConfigIssue, TopologyConfigError, type ConfigIssueInfo } from './config-values.js';

function range(errs: ConfigErrors, v: Json, path: string): BusRange {
  const o = obj(v, path);
  onlyKeys(o, path, ['start', 'size'], errs);
  const start = errs.collect(() => u64(o.start, `${path}.start`));
  const size = errs.collect(() => u64(o.size, `${path}.size`));
  if (start === undefined || size === undefined) throw new AlreadyReported();
  return { start, size };
}

/** Every element through `each`, collecting the bad ones; undefined if any was bad. */
function arrayOf<T>(errs: ConfigErrors, v: Json, path: string, each: (x: Json, p: string) => T): T[] | undefined {
  if (!Array.isArray(v) || v.length === 0) bad(path, 'must be a non-empty array');
  const before = errs.issues.length;
  const out = v.map((x, i) => errs.collect(() => each(x, `${path}[${i}]`)));
  return errs.issues.length === before ? (out as T[]) : undefined;
}

const PHB_KEYS = [
  'name', 'kind', 'model', 'page_shifts', 'max_levels', 'window_starts', 'max_dynamic_windows',
  'dma32_window', 'mmio32', 'msi', 'max_level_bytes', 'pes',
] as const;

/** The PHB, with defaults in place of bad values (the issues are in `errs`), so later checks still see it. */
function parsePhb(errs: ConfigErrors, v: Json, index: number, path: string): PhbSpec {
  const o = obj(v, path);
  if (o.kind === 'smmu') return parseSmmuPhb(o, index, path);
  onlyKeys(o, path, PHB_KEYS, errs);
  const kind = o.kind ?? 'spapr';
  if (kind !== 'spapr') errs.add(`${path}.kind`, `unsupported PHB kind ${JSON.stringify(kind)} (supported: "spapr", "smmu")`);
  let model = o.model ?? 'POWER9';
  if (typeof model !== 'string' || !(model in PHB_MODELS)) {
    errs.add(`${path}.model`, `must be one of ${Object.keys(PHB_MODELS).join(', ')}`);
    model = 'POWER9'; // go on checking the other keys against the default preset
  }
  let name = o.name ?? `phb${index}`;
  if (typeof name !== 'string' || name.length === 0) {
    errs.add(`${path}.name`, 'must be a non-empty string');
    name = `phb${index}`;
  }
  const pes = errs.collect(() => arrayOf(errs, o.pes, `${path}.pes`, (p, at) => parsePe(errs, p, at)));
  const spec = phb(index, name as string, model as string, pes ?? []);
  if (o.page_shifts !== undefined) {
    const shifts = errs.collect(() => arrayOf(errs, o.page_shifts, `${path}.page_shifts`, (s, at) => int(s, at, 12, 40)));
    if (shifts !== undefined) spec.pageShifts = shifts;
  }
  errs.collect(() => {
    if (o.max_levels !== undefined) spec.maxLevels = int(o.max_levels, `${path}.max_levels`, 1, 5);
  });
  errs.collect(() => {
    if (o.window_starts === undefined) return;
    if (!Array.isArray(o.window_starts) || o.window_starts.length < 1 || o.window_starts.length > 2) {
      bad(`${path}.window_starts`, 'must be an array of 1 or 2 bus addresses');
    }
    const starts = arrayOf(errs, o.window_starts, `${path}.window_starts`, (s, at) => windowStart(u64(s, at), at));
    if (starts === undefined) return;
    if (starts.length === 2 && starts[1]! <= starts[0]!) {
      bad(`${path}.window_starts`, 'must be in increasing order (one window slot after the other)');
    }
    spec.windowStarts = starts;
    spec.maxDynamicWindows = spec.windowStarts.length > 1 ? spec.windowStarts.length : 0;
  });
  errs.collect(() => {
    if (o.max_dynamic_windows !== undefined) {
      spec.maxDynamicWindows = int(o.max_dynamic_windows, `${path}.max_dynamic_windows`, 0, spec.windowStarts.length);
    }
  });
  errs.collect(() => {
    if (o.dma32_window !== undefined) spec.dma32 = range(errs, o.dma32_window, `${path}.dma32_window`);
    if (spec.dma32.start + spec.dma32.size > 1n << 32n) bad(`${path}.dma32_window`, 'must end at or below 4 GiB');
  });
  errs.collect(() => {
    if (o.mmio32 !== undefined) spec.mmio32 = range(errs, o.mmio32, `${path}.mmio32`);
  });
  errs.collect(() => {
    if (o.msi !== undefined) spec.msi = range(errs, o.msi, `${path}.msi`);
  });
  errs.collect(() => {
    if (o.max_level_bytes !== undefined) spec.maxLevelBytes = int(o.max_level_bytes, `${path}.max_level_bytes`, 4096, 2 ** 31);
  });
  return spec;
}

/** Largest window a table can resolve: a window start must leave room for it below 2^64. */
const WINDOW_ALIGN = 1n << BigInt(TCE_BUS_BITS_LIMIT);

/** A window slot's bus start: aligned to the largest window, so no window there can wrap past 2^64. */
function windowStart(start: bigint, path: string): bigint {
  if (start % WINDOW_ALIGN !== 0n) {
    bad(path, `0x${start.toString(16)} is not a multiple of 2^${TCE_BUS_BITS_LIMIT} (the largest window); a window there could be unaligned or wrap past 2^64`);
  }
  return start;
}

function parsePe(errs: ConfigErrors, v: Json, path: string): PeSpec {
  const o = obj(v, path);
  onlyKeys(o, path, ['pe', 'group', 'devices'], errs);
  const pe = errs.collect(() => int(o.pe, `${path}.pe`, 0, 0xffff));
  const group = errs.collect(() => int(o.group, `${path}.group`, 0, 0x7fff_ffff));
  const entries = errs.collect(() => arrayOf(errs, o.devices, `${path}.devices`, (d, at) => parseDeviceEntry(d, at)));
  if (pe === undefined || group === undefined || entries === undefined) throw new AlreadyReported();
  return { pe, group, devices: entries.map((e) => e.address), functions: entries.map((e) => e.function) };
}

/** Cross-PHB rules: unique PHB names, group numbers and device addresses; unique PEs per PHB. */
function checkUnique(errs: ConfigErrors, phbs: readonly PhbSpec[], at: readonly number[]): void {
  const names = new Map<string, number>();
  const groups = new Map<number, string>();
  const devices = new Map<string, string>();
  phbs.forEach((p, k) => {
    const i = at[k]!;
    const first = names.get(p.name);
    if (first !== undefined) errs.add(`$.phbs[${i}].name`, `PHB name ${JSON.stringify(p.name)} is already used by $.phbs[${first}]`);
    else names.set(p.name, i);
    const pes = new Set<number>();
    p.pes.forEach((pe, j) => {
      const where = `$.phbs[${i}].pes[${j}]`;
      if (pes.has(pe.pe)) errs.add(`${where}.pe`, `PE ${pe.pe} appears twice on this PHB`);
      const g = groups.get(pe.group);
      if (g !== undefined) errs.add(`${where}.group`, `group ${pe.group} appears twice (first at ${g})`);
      pes.add(pe.pe);
      if (g === undefined) groups.set(pe.group, where);
      for (const d of pe.devices) {
        const seen = devices.get(d);
        if (seen !== undefined) errs.add(`${where}.devices`, `device ${d} appears twice (first at ${seen})`);
        else devices.set(d, where);
      }
    });
  });
}

/**
 * Validates a parsed JSON topology config. Throws a TopologyConfigError (a VphbError, EINVAL)
 * listing every bad key with its JSON path.
 */
export function parseTopology(json: Json): TopologySpec {
  const errs = new ConfigErrors();
  const spec = errs.collect(() => {
    const o = obj(json, '$');
    onlyKeys(o, '$', ['host_page_shift', 'phbs', 'profile'], errs);
    if (o.profile !== undefined && o.profile !== 'linux' && o.profile !== 'strict') errs.add('$.profile', 'must be "linux" or "strict"');
    const hostPageShift = errs.collect(() => (o.host_page_shift === undefined ? 16 : int(o.host_page_shift, '$.host_page_shift', 12, 16)));
    if (!Array.isArray(o.phbs) || o.phbs.length === 0) bad('$.phbs', 'must be a non-empty array');
    const phbs: PhbSpec[] = [];
    const at: number[] = [];
    o.phbs.forEach((p, i) => {
      const phbSpec = errs.collect(() => parsePhb(errs, p, i, `$.phbs[${i}]`));
      if (phbSpec !== undefined) {
        phbs.push(phbSpec);
        at.push(i);
      }
    });
    checkUnique(errs, phbs, at);
    const spec: TopologySpec = { hostPageShift: hostPageShift ?? 16, phbs };
    const profile = o.profile;
    if (profile === 'linux' || profile === 'strict') spec.profile = profile;
    return spec;
  });
  errs.throwIfAny();
  return spec!;
}
