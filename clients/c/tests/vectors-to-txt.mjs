#!/usr/bin/env node
// Turns protocol/vectors/{vectors,streams}.json into a line format test_vectors.c reads without a
// JSON parser. Values are typed by the op's field types in protocol/ops.json (PROTOCOL.md §9):
//   V name / H hex / D msg_id command size flags error / P kind canonical(1|0|-1 absent) direction
//   payload tokens: M n (map), K hexkey, A n (array), U dec, I dec, S hex, B hex, T, F, N, R (raw)
//   E (end of vector); S-streams: X name / H hex / C hex (one per chunk) / L frame-name ... / E
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ops = JSON.parse(readFileSync(join(root, 'protocol', 'ops.json'), 'utf8')).ops;
const vectors = JSON.parse(readFileSync(join(root, 'protocol', 'vectors', 'vectors.json'), 'utf8'));
const streams = JSON.parse(readFileSync(join(root, 'protocol', 'vectors', 'streams.json'), 'utf8'));
const hex = (s) => Buffer.from(s, 'utf8').toString('hex');
const out = [];

// Nested maps (PhbInfo, capabilities, HOST_STATE) have no field list in ops.json: their u64
// quantities are known by key (PROTOCOL.md TOPOLOGY and section 15).
const NESTED_U64 = new Set(['start', 'size', 'window_starts', 'pgsizes', 'addr', 'start_addr', 'window_size',
  'table_bytes', 'liobn', 'offset', 'vaddr', 'locked_bytes', 'locked_limit']);

function value(v, type, key) {
  if (v === null) { out.push('N'); return; }
  if (type === undefined && NESTED_U64.has(key)) {
    if (typeof v === 'string') { out.push(`U ${BigInt(v).toString()}`); return; }
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) { out.push(`A ${v.length}`); for (const x of v) out.push(`U ${BigInt(x)}`); return; }
  }
  if (type === 'u64') { out.push(`U ${BigInt(v).toString()}`); return; }
  if (type === 'u64[]') { out.push(`A ${v.length}`); for (const x of v) out.push(`U ${BigInt(x).toString()}`); return; }
  if (type === 'bin') { out.push(`B ${v}`); return; }
  if (typeof v === 'boolean') { out.push(v ? 'T' : 'F'); return; }
  if (typeof v === 'number') { out.push(v < 0 ? `I ${v}` : `U ${v}`); return; }
  if (typeof v === 'string') { out.push(`S ${hex(v)}`); return; }
  if (Array.isArray(v)) { out.push(`A ${v.length}`); for (const x of v) value(x, undefined, key); return; }
  const keys = Object.keys(v);
  out.push(`M ${keys.length}`);
  for (const k of keys) { out.push(`K ${hex(k)}`); value(v[k], undefined, k); }
}

for (const v of vectors) {
  // a frame of an op this ops.json does not have (e.g. a server-initiated code) is typed by its JSON alone
  const op = ops.find((o) => o.name === v.op) ?? { request: [], reply: [] };
  const fields = v.header.flags & 0x20 ? [{ name: 'message', type: 'str' }] : ((v.direction === 'command' ? op.request : op.reply) ?? []);
  const h = v.header;
  out.push(`V ${v.name}`, `H ${v.hex}`, `D ${h.msg_id} ${h.command} ${h.size} ${h.flags} ${h.error}`);
  out.push(`P ${v.payload_kind} ${v.canonical === undefined ? -1 : v.canonical ? 1 : 0} ${v.direction}`);
  if (v.payload_kind === 'raw') {
    // the op's layout: u32/u64 fields in order, then the u64 array
    for (const f of op.request) {
      if (f.type === 'u64[]') { out.push(`R ${f.name} A ${v.payload[f.name].length}`); for (const x of v.payload[f.name]) out.push(`U ${BigInt(x)}`); }
      else out.push(`R ${f.name} ${f.type} ${BigInt(v.payload[f.name])}`);
    }
  } else if (v.payload_kind === 'msgpack') {
    const keys = Object.keys(v.payload);
    out.push(`M ${keys.length}`);
    for (const k of keys) { out.push(`K ${hex(k)}`); value(v.payload[k], fields.find((f) => f.name === k)?.type, k); }
  }
  out.push('E');
}
for (const s of streams) {
  out.push(`X ${s.name}`, `H ${s.hex}`);
  for (const c of s.chunks) out.push(`C ${c}`);
  for (const f of s.frames) out.push(`L ${f}`);
  out.push('E');
}
process.stdout.write(out.join('\n') + '\n');
