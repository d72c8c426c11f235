/** `vphb inspect`: a running server's HOST_STATE as tables (or JSON). */
import type { Replies } from '../wire/ops.generated.js';

export type HostStateReply = Replies['HOST_STATE'];

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
const EEH_STATE: Record<number, string> = { 0: 'normal', 1: 'reset', 2: 'stopped', 4: 'dma-stopped', 5: 'unavailable' };

function size(v: bigint): string {
  for (const [unit, shift] of [['T', 40n], ['G', 30n], ['M', 20n], ['K', 10n]] as const) {
    if (v >= 1n << shift && v % (1n << shift) === 0n) return `${v >> shift}${unit}`;
  }
  return `${v}`;
}

function table(rows: string[][]): string {
  if (rows.length === 1) return `${rows[0]!.join('  ')}\n  (none)\n`;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

const orDash = (v: number | null): string => (v === null ? '-' : String(v));

export function formatHostState(s: HostStateReply): string {
  let out = 'CONNECTIONS\n';
  out += table([
    ['  ID', 'TRANSPORT', 'PEER', 'NAME', 'HANDLES', 'LOCKED', 'LIMIT', 'PREREG'],
    ...s.connections.map((c) => [
      `  ${c.id}`, c.transport, c.peer, c.name, String(c.handles), size(c.locked_bytes),
      c.locked_limit === null ? 'unlimited' : size(c.locked_limit),
      c.prereg.map((r) => `${hex(r.vaddr)}+${size(r.size)}`).join(' ') || '-',
    ]),
  ]);
  out += '\nPES\n';
  out += table([
    ['  PHB', 'PE', 'GROUP', 'HOLDER', 'CONTAINER', 'EEH', 'FAULTS', 'FREEZES'],
    ...s.phbs.flatMap((p) => p.pes.map((pe) => [
      `  ${p.name}`, String(pe.pe), String(pe.group), orDash(pe.holder), orDash(pe.container),
      `${EEH_STATE[pe.eeh.state] ?? pe.eeh.state}${pe.eeh.reset === '' ? '' : ` (${pe.eeh.reset} reset)`}`,
      String(pe.faults), String(pe.eeh.freezes),
    ])),
  ]);
  out += '\nDEVICES\n';
  out += table([
    ['  ADDRESS', 'MODEL', 'ID', 'CLASS', 'CMD', 'BARS', 'OPEN', 'IRQ', 'ARMED'],
    ...s.phbs.flatMap((p) => p.pes.flatMap((pe) => pe.devices.map((d) => [
      `  ${d.address}`, d.model,
      `${d.vendor_id.toString(16).padStart(4, '0')}:${d.device_id.toString(16).padStart(4, '0')}`,
      d.class_code.toString(16).padStart(6, '0'), hex(d.command),
      d.bars.map((b) => `${b.index}:${b.kind}@${hex(b.addr)}+${size(b.size)}`).join(' ') || '-',
      String(d.open), d.irq_type,
      d.armed.map((a) => `${a.index}.${a.vector}=${a.token}`).join(' ') || '-',
    ]))),
  ]);
  out += '\nCONTAINERS\n';
  out += table([
    ['  ID', 'CONN', 'FD', 'BACKEND', 'GROUPS', 'WINDOWS'],
    ...s.containers.map((c) => [
      `  ${c.id}`, orDash(c.connection), orDash(c.fd), c.backend, c.groups.join(',') || '-',
      c.windows.map((w) => `${hex(w.start_addr)}+${size(w.window_size)} p${w.page_shift} l${w.levels} mapped ${w.mapped} table ${size(w.table_bytes)}`).join('; ') || '-',
    ]),
  ]);
  out += '\nKVM VMS\n';
  out += table([
    ['  CONN', 'FD', 'TABLES'],
    ...s.vms.map((v) => [
      `  ${v.connection}`, orDash(v.fd),
      v.tables.map((t) => `liobn ${hex(t.liobn)} p${t.page_shift} @${hex(t.offset)} x${t.size}${t.linked_groups.length ? ` -> groups ${t.linked_groups.join(',')}` : ''}`).join('; ') || '-',
    ]),
  ]);
  return out;
}

/** JSON with 64-bit values as 0x-hex strings. */
export function hostStateJson(s: HostStateReply): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2) + '\n';
}
