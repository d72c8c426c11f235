/**
 * Generic request validation driven by protocol/ops.json: every MessagePack request is checked
 * against its op's field list before any handler (and so any state) is touched. Integer fields
 * are normalised: u64 → bigint, narrower ones → number. Errors are EINVAL naming the field; a
 * float is never an integer, even an integral one (`group: 1.0` is EINVAL, as any wrong type).
 */
import { VphbError } from '../wire/errno.js';
import { MsgpackFloat } from '../wire/msgpack.js';
import type { FieldSpec, FieldType, OpSpec } from '../wire/ops.generated.js';

const U64_LIMIT = 1n << 64n;

function invalid(field: string, why: string): VphbError {
  return new VphbError('EINVAL', `field '${field}': ${why}`);
}

function describe(v: unknown): string {
  if (v === null) return 'nil';
  if (v instanceof Uint8Array) return 'bin';
  if (v instanceof MsgpackFloat) return `float ${v.value}`;
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number' && !Number.isInteger(v)) return 'float';
  return typeof v === 'bigint' || typeof v === 'number' ? `integer ${v}` : typeof v;
}

function integer(v: unknown, field: string, type: string, min: number, max: number): number {
  let n: number;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'bigint' && v >= BigInt(min) && v <= BigInt(max)) n = Number(v);
  else throw invalid(field, `expected ${type}, got ${describe(v)}`);
  if (n < min || n > max) throw invalid(field, `expected ${type}, got ${describe(v)} (out of range)`);
  return n;
}

function u64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint' && v >= 0n && v < U64_LIMIT) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  const isInteger = typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
  throw invalid(field, `expected u64, got ${describe(v)}${isInteger ? ' (out of range)' : ''}`);
}

/** Validates and normalises one field value. */
export function decodeField(type: FieldType, v: unknown, field: string): unknown {
  switch (type) {
    case 'u16':
      return integer(v, field, 'u16', 0, 0xffff);
    case 'u32':
      return integer(v, field, 'u32', 0, 0xffff_ffff);
    case 's32':
    case 'fd':
      return integer(v, field, type === 'fd' ? 'fd (s32)' : 's32', -0x8000_0000, 0x7fff_ffff);
    case 'u64':
      return u64(v, field);
    case 'u64[]':
      if (!Array.isArray(v)) throw invalid(field, `expected array of u64, got ${describe(v)}`);
      return v.map((x, i) => u64(x, `${field}[${i}]`));
    case 's32[]':
      if (!Array.isArray(v)) throw invalid(field, `expected array of s32, got ${describe(v)}`);
      return v.map((x, i) => integer(x, `${field}[${i}]`, 's32', -0x8000_0000, 0x7fff_ffff));
    case 'str':
      if (typeof v !== 'string') throw invalid(field, `expected str, got ${describe(v)}`);
      return v;
    case 'bin':
      if (!(v instanceof Uint8Array)) throw invalid(field, `expected bin, got ${describe(v)}`);
      return v;
    default:
      throw invalid(field, `type ${type} cannot appear in a request`);
  }
}

const NAMES = new WeakMap<OpSpec, ReadonlySet<string>>();

function fieldNames(spec: OpSpec): ReadonlySet<string> {
  let names = NAMES.get(spec);
  if (names === undefined) {
    names = new Set(spec.request.map((f: FieldSpec) => f.name));
    NAMES.set(spec, names);
  }
  return names;
}

/**
 * Checks a decoded MessagePack payload against `spec.request`: a map with only known keys, every
 * required field present and every present field of its type. Nil counts as absent.
 */
export function decodeRequest(spec: OpSpec, payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || payload instanceof Uint8Array) {
    throw new VphbError('EINVAL', `${spec.name}: payload must be a MessagePack map, got ${describe(payload)}`);
  }
  const input = payload as Record<string, unknown>;
  const known = fieldNames(spec);
  for (const key in input) {
    if (!known.has(key)) throw invalid(key, `unknown field for ${spec.name}`);
  }
  const out: Record<string, unknown> = {};
  for (const f of spec.request) {
    const v = input[f.name];
    if (v === undefined || v === null) {
      if (!f.optional) throw invalid(f.name, `missing (required by ${spec.name})`);
      continue;
    }
    out[f.name] = decodeField(f.type, v, f.name);
  }
  return out;
}
