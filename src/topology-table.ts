/** Human-readable rendering of a TOPOLOGY reply (used by `vphb topology`). */
import type { Replies } from './wire/ops.generated.js';

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const size = (v: bigint): string => {
  for (const [unit, shift] of [['T', 40n], ['G', 30n], ['M', 20n], ['K', 10n]] as const) {
    if (v >= 1n << shift && v % (1n << shift) === 0n) return `${v >> shift}${unit}`;
  }
  return `${v}`;
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export function formatTopology(t: Replies['TOPOLOGY']): string {
  let out = `host page size ${2 ** t.host_page_shift} bytes\n`;
  for (const p of t.phbs) {
    out += `\nPHB ${p.index} ${p.name}: ${p.kind} ${p.model}, IOMMU pages ${p.page_shifts.map((s) => size(1n << BigInt(s))).join('/')}, ` +
      `levels <= ${p.max_levels}, windows at ${p.window_starts.map(hex).join(', ')} (DDW ${p.max_dynamic_windows})\n`;
    out += `  dma32 ${hex(p.dma32_window.start)}+${size(p.dma32_window.size)}  mmio32 ${hex(p.mmio32.start)}+${size(p.mmio32.size)}  msi ${hex(p.msi.start)}+${size(p.msi.size)}\n`;
    out += table([['  GROUP', 'PE', 'DEVICES'], ...p.groups.map((g) => [`  ${g.group}`, `${g.pe}`, g.devices.join(' ')])]);
  }
  return out;
}

/**
 * The TOPOLOGY reply as a `vphb serve --config` file: the same keys, except that a PHB's `index` is
 * implied by its position and its `groups` are the config's `pes`. Keys this module does not know
 * are carried over unchanged, so that fields added to PhbInfo round-trip as long as the config
 * accepts them under the same name. u64 values become 0x strings (JSON numbers lose bits past 2^53).
 */
type FunctionInfo = NonNullable<Replies['TOPOLOGY']['phbs'][number]['groups'][number]['functions']>[number];

/**
 * A device entry of the config format for a function TOPOLOGY reports: the address alone for the
 * default model (nvme), else the generic model's ids, class and BARs (capabilities other than
 * PCI Express are not in TOPOLOGY, so a generic function's PM/MSI/MSI-X do not round-trip).
 */
function deviceEntry(f: FunctionInfo): unknown {
  if (f.model === 'nvme') return f.address;
  const bars = f.bars.filter((b) => b.kind !== 'rom').map(({ index, kind, size, prefetchable }) => ({ index, kind, size, prefetchable }));
  const rom = f.bars.find((b) => b.kind === 'rom');
  return {
    address: f.address, model: f.model, vendor_id: f.vendor_id, device_id: f.device_id, class_code: f.class_code,
    pcie: f.config_size === 4096, bars, ...(rom === undefined ? {} : { rom_size: rom.size }),
  };
}

export function topologyToConfig(t: Replies['TOPOLOGY']): unknown {
  const phbs = t.phbs.map((p) => {
    const { index: _index, groups, ...rest } = p;
    const pes = groups.map(({ functions, devices, ...g }) => ({ ...g, devices: functions === undefined ? devices : functions.map(deviceEntry) }));
    return { ...rest, pes };
  });
  return JSON.parse(JSON.stringify({ ...t, phbs }, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
}
