/**
 * Topology device entries: `"dddd:bb:dd.f"` (the default model, nvme) or an object
 * `{address, model, ...}`. A bad entry is EINVAL naming the key path.
 */
import { VphbError } from '../../wire/errno.js';
import { nvmeFunctionSpec, type BarKind, type BarSpec, type PciFunctionSpec } from './spec.js';

export const PCI_ADDR = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

export interface DeviceEntry {
  address: string;
  function: PciFunctionSpec;
}

function bad(path: string, why: string): never {
  throw new VphbError('EINVAL', `topology config: ${path}: ${why}`);
}

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, 'must be an object');
  return v as Obj;
}

function onlyKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${path}.${k}`, 'unknown key');
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(path, `must be an integer in [${min}, ${max}]`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') bad(path, 'must be true or false');
  return v;
}

function size(v: unknown, path: string, min: bigint, max: bigint): bigint {
  let n: bigint | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) n = BigInt(v);
  else if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) n = BigInt(v);
  if (n === undefined || n < min || n > max || (n & (n - 1n)) !== 0n) {
    bad(path, `must be a power of two in [${min}, ${max}] (number, or string in decimal or 0x hex)`);
  }
  return n;
}

const GENERIC_KEYS = [
  'address', 'model', 'vendor_id', 'device_id', 'class_code', 'revision', 'subsystem_vendor_id', 'subsystem_id',
  'interrupt_pin', 'pcie', 'flr', 'bars', 'rom_size', 'pm', 'msi', 'msix',
] as const;

function parseBars(v: unknown, path: string): BarSpec[] {
  if (!Array.isArray(v)) bad(path, 'must be an array');
  const used = new Map<number, string>();
  return v.map((b, i) => {
    const p = `${path}[${i}]`;
    const o = obj(b, p);
    onlyKeys(o, p, ['index', 'kind', 'size', 'prefetchable']);
    const index = int(o.index, `${p}.index`, 0, 5);
    const kind = o.kind ?? 'mem32';
    if (kind !== 'mem32' && kind !== 'mem64' && kind !== 'io') bad(`${p}.kind`, 'must be "mem32", "mem64" or "io"');
    const k = kind as BarKind;
    const sz = k === 'io' ? size(o.size, `${p}.size`, 4n, 256n) : size(o.size, `${p}.size`, 16n, k === 'mem32' ? 1n << 31n : 1n << 40n);
    const prefetchable = o.prefetchable === undefined ? false : bool(o.prefetchable, `${p}.prefetchable`);
    if (k === 'io' && prefetchable) bad(`${p}.prefetchable`, 'an I/O BAR cannot be prefetchable');
    const slots = k === 'mem64' ? [index, index + 1] : [index];
    if (k === 'mem64' && index === 5) bad(`${p}.index`, 'a mem64 BAR needs two BAR slots: index at most 4');
    for (const s of slots) {
      const other = used.get(s);
      if (other !== undefined) bad(`${p}.index`, `BAR slot ${s} is already taken by ${other}`);
      used.set(s, p);
    }
    return { index, kind: k, size: sz, prefetchable };
  });
}

function parseGeneric(o: Obj, path: string): PciFunctionSpec {
  onlyKeys(o, path, GENERIC_KEYS);
  const pcie = o.pcie === undefined ? false : bool(o.pcie, `${path}.pcie`);
  const bars = o.bars === undefined ? [] : parseBars(o.bars, `${path}.bars`);
  const spec: PciFunctionSpec = {
    model: 'generic',
    vendorId: int(o.vendor_id, `${path}.vendor_id`, 0, 0xfffe),
    deviceId: int(o.device_id, `${path}.device_id`, 0, 0xffff),
    classCode: int(o.class_code, `${path}.class_code`, 0, 0xff_ffff),
    revision: o.revision === undefined ? 0 : int(o.revision, `${path}.revision`, 0, 0xff),
    subsystemVendorId: o.subsystem_vendor_id === undefined ? 0 : int(o.subsystem_vendor_id, `${path}.subsystem_vendor_id`, 0, 0xffff),
    subsystemId: o.subsystem_id === undefined ? 0 : int(o.subsystem_id, `${path}.subsystem_id`, 0, 0xffff),
    interruptPin: o.interrupt_pin === undefined ? 1 : int(o.interrupt_pin, `${path}.interrupt_pin`, 0, 4),
    pcie,
    flr: o.flr === undefined ? false : bool(o.flr, `${path}.flr`),
    bars,
    romSize: o.rom_size === undefined ? 0n : size(o.rom_size, `${path}.rom_size`, 2048n, 16n << 20n),
    pm: null,
    msi: null,
    msix: null,
  };
  if (spec.flr && !pcie) bad(`${path}.flr`, 'FLR needs "pcie": true');
  if (o.pm !== undefined) {
    const p = obj(o.pm, `${path}.pm`);
    onlyKeys(p, `${path}.pm`, ['no_soft_reset']);
    spec.pm = { noSoftReset: p.no_soft_reset === undefined ? false : bool(p.no_soft_reset, `${path}.pm.no_soft_reset`) };
  }
  if (o.msi !== undefined) {
    const p = obj(o.msi, `${path}.msi`);
    onlyKeys(p, `${path}.msi`, ['vectors', 'per_vector_mask']);
    const vectors = p.vectors === undefined ? 1 : int(p.vectors, `${path}.msi.vectors`, 1, 32);
    if ((vectors & (vectors - 1)) !== 0) bad(`${path}.msi.vectors`, 'must be 1, 2, 4, 8, 16 or 32');
    spec.msi = { vectors, perVectorMask: p.per_vector_mask === undefined ? false : bool(p.per_vector_mask, `${path}.msi.per_vector_mask`) };
  }
  if (o.msix !== undefined) {
    const p = obj(o.msix, `${path}.msix`);
    onlyKeys(p, `${path}.msix`, ['vectors', 'bar', 'table_offset', 'pba_offset']);
    const vectors = int(p.vectors, `${path}.msix.vectors`, 1, 2048);
    const bar = int(p.bar, `${path}.msix.bar`, 0, 5);
    const barSpec = bars.find((b) => b.index === bar);
    if (barSpec === undefined || barSpec.kind === 'io') bad(`${path}.msix.bar`, `BAR ${bar} is not a memory BAR of this device`);
    const tableOffset = int(p.table_offset ?? 0, `${path}.msix.table_offset`, 0, 0x7fff_fff8);
    const pbaOffset = int(p.pba_offset, `${path}.msix.pba_offset`, 0, 0x7fff_fff8);
    if (tableOffset % 8 !== 0) bad(`${path}.msix.table_offset`, 'must be 8-byte aligned');
    if (pbaOffset % 8 !== 0) bad(`${path}.msix.pba_offset`, 'must be 8-byte aligned');
    const tableEnd = tableOffset + 16 * vectors;
    const pbaEnd = pbaOffset + 8 * Math.ceil(vectors / 64);
    if (BigInt(Math.max(tableEnd, pbaEnd)) > barSpec.size) bad(`${path}.msix`, `table or PBA does not fit BAR ${bar}`);
    if (tableOffset < pbaEnd && pbaOffset < tableEnd) bad(`${path}.msix.pba_offset`, 'PBA overlaps the table');
    spec.msix = { vectors, bar, tableOffset, pbaOffset };
  }
  return spec;
}

/** One `devices[]` entry. */
export function parseDeviceEntry(v: unknown, path: string): DeviceEntry {
  if (typeof v === 'string') {
    if (!PCI_ADDR.test(v)) bad(path, 'must be a PCI address like "0000:01:00.0" (lower-case hex) or a device object');
    return { address: v, function: nvmeFunctionSpec() };
  }
  const o = obj(v, path);
  if (typeof o.address !== 'string' || !PCI_ADDR.test(o.address)) {
    bad(`${path}.address`, 'must be a PCI address like "0000:01:00.0" (lower-case hex)');
  }
  const model = o.model ?? 'nvme';
  if (model === 'nvme') {
    onlyKeys(o, path, ['address', 'model']);
    return { address: o.address, function: nvmeFunctionSpec() };
  }
  if (model !== 'generic') bad(`${path}.model`, 'must be "nvme" or "generic"');
  return { address: o.address, function: parseGeneric(o, path) };
}
