/**
 * Reply normalisation: a MessagePack integer arrives as `number` or `bigint` depending on the width
 * the server chose. Each reply is rewritten by the field types of its op in the registry: u64 →
 * bigint always, u16/u32/s32/fd → number, and the u64 members of nested structs (PhbInfo ranges
 * and window starts, DdwInfo.pgsizes) → bigint. A value of the wrong kind is an EPROTO error.
 */
import { VphbError } from '../../src/wire/errno.js';
import type { FieldSpec, FieldType } from '../../src/wire/ops.generated.js';

type Obj = Record<string, unknown>;

function bad(path: string, what: string, value: unknown): VphbError {
  const shown = typeof value === 'bigint' ? `${value}n` : typeof value === 'object' ? typeof value : String(value);
  return new VphbError('EPROTO', `reply field ${path}: expected ${what}, got ${shown}`);
}

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

export function toU64(x: unknown, path: string): bigint {
  if (typeof x === 'bigint') {
    if (x >= 0n && x < 1n << 64n) return x;
  } else if (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) {
    return BigInt(x);
  }
  throw bad(path, 'u64', x);
}

function toInt(x: unknown, path: string, min: number, max: number, what: string): number {
  const n = typeof x === 'bigint' ? Number(x) : x;
  if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
  throw bad(path, what, x);
}

function arrayOf<T>(x: unknown, path: string, each: (v: unknown, p: string) => T): T[] {
  if (!Array.isArray(x)) throw bad(path, 'array', x);
  return x.map((v, i) => each(v, `${path}[${i}]`));
}

function mapOf(x: unknown, path: string): Obj {
  if (!isObj(x)) throw bad(path, 'map', x);
  return x;
}

const u32 = (x: unknown, p: string): number => toInt(x, p, 0, 0xffff_ffff, 'u32');

function range(x: unknown, path: string): Obj {
  const m = mapOf(x, path);
  return { ...m, start: toU64(m['start'], `${path}.start`), size: toU64(m['size'], `${path}.size`) };
}

function phbInfo(x: unknown, path: string): Obj {
  const m = { ...mapOf(x, path) };
  if ('window_starts' in m) m['window_starts'] = arrayOf(m['window_starts'], `${path}.window_starts`, toU64);
  for (const k of ['dma32_window', 'mmio32', 'msi']) if (k in m) m[k] = range(m[k], `${path}.${k}`);
  for (const k of ['index', 'max_levels', 'max_dynamic_windows', 'max_level_bytes']) if (k in m) m[k] = u32(m[k], `${path}.${k}`);
  if ('groups' in m) m['groups'] = deepU64(m['groups'], `${path}.groups`);
  return m;
}

/** Keys whose values are u64 inside HOST_STATE structures and TOPOLOGY functions. */
const U64_KEYS = new Set(['size', 'addr', 'start_addr', 'window_size', 'table_bytes', 'liobn', 'offset', 'vaddr', 'locked_bytes', 'locked_limit']);

/** Rewrites every u64-keyed integer in a nested structure as bigint (nil stays null). */
function deepU64(x: unknown, path: string): unknown {
  if (Array.isArray(x)) return x.map((v, i) => deepU64(v, `${path}[${i}]`));
  if (!isObj(x)) return x;
  const out: Obj = {};
  for (const [k, v] of Object.entries(x)) {
    if (U64_KEYS.has(k) && v !== null && v !== undefined && (typeof v === 'number' || typeof v === 'bigint')) out[k] = toU64(v, `${path}.${k}`);
    else out[k] = deepU64(v, `${path}.${k}`);
  }
  return out;
}

function ddwInfo(x: unknown, path: string): Obj {
  const m = { ...mapOf(x, path) };
  if ('pgsizes' in m) m['pgsizes'] = toU64(m['pgsizes'], `${path}.pgsizes`);
  for (const k of ['max_dynamic_windows_supported', 'levels']) if (k in m) m[k] = u32(m[k], `${path}.${k}`);
  return m;
}

function capabilities(x: unknown, path: string): Obj {
  const m = { ...mapOf(x, path) };
  for (const k of ['max_frame_size', 'max_inflight', 'host_page_size']) if (k in m) m[k] = u32(m[k], `${path}.${k}`);
  return m;
}

function field(type: FieldType, x: unknown, path: string): unknown {
  switch (type) {
    case 'u64': return toU64(x, path);
    case 'u64[]': return arrayOf(x, path, toU64);
    case 'u16': return toInt(x, path, 0, 0xffff, 'u16');
    case 'u32': return u32(x, path);
    case 's32': return toInt(x, path, -0x8000_0000, 0x7fff_ffff, 's32');
    case 'fd': return toInt(x, path, 0, 0x7fff_ffff, 'fd');
    case 'str':
      if (typeof x !== 'string') throw bad(path, 'str', x);
      return x;
    case 'bin':
      if (!(x instanceof Uint8Array)) throw bad(path, 'bin', x);
      return x;
    case 'Capabilities': return capabilities(x, path);
    case 'DdwInfo': return ddwInfo(x, path);
    case 'PhbInfo[]': return arrayOf(x, path, phbInfo);
    case 's32[]': return arrayOf(x, path, (v, p) => toInt(v, p, -0x8000_0000, 0x7fff_ffff, 's32'));
    case 'HostPhb[]': case 'HostContainer[]': case 'HostVm[]': case 'HostConnection[]':
      return arrayOf(x, path, (v, p) => deepU64(v, p));
    default: throw bad(path, `a known type (${String(type)})`, x);
  }
}

/**
 * Normalises a decoded reply payload by the op's reply fields. Fields the spec does not name are
 * kept as they are (a newer server may add some); missing optional fields stay absent.
 */
export function normaliseReply(fields: readonly FieldSpec[], decoded: unknown, op: string): Obj {
  const m = mapOf(decoded, op);
  const out: Obj = { ...m };
  for (const f of fields) {
    const v = m[f.name];
    if (v === undefined || v === null) {
      if (!f.optional) throw new VphbError('EPROTO', `reply field ${op}.${f.name} is missing`);
      delete out[f.name];
      continue;
    }
    out[f.name] = field(f.type, v, `${op}.${f.name}`);
  }
  return out;
}
