/**
 * MessagePack restricted to the subset every language decodes without extensions:
 * nil, bool, integers, float64, str, bin, array, and maps with string keys.
 *
 * Integers: msgpackr writes a JS number at or above 2^32 as a float64 and a bigint always as
 * int64/uint64. `normaliseForWire` therefore turns every integer that does not fit 32 bits into a
 * bigint and every bigint that does into a number, so that each integer goes out in the smallest
 * MessagePack integer encoding that holds it. On the way in an integer arrives as `number` or
 * `bigint` depending on the sender's encoding; the ops layer normalises per field.
 */
import { Packr } from 'msgpackr';
import { VphbError } from './errno.js';

const packr = new Packr({
  useRecords: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  mapsAsObjects: true,
  int64AsType: 'bigint',
});

/** Decoding keeps maps as Map so that non-string keys can be refused rather than coerced. */
const unpackr = new Packr({
  useRecords: false,
  mapsAsObjects: false,
  int64AsType: 'bigint',
});

const U32_MAX = 0xffff_ffff;
const U64_LIMIT = 1n << 64n;
const S64_MIN = -(1n << 63n);

/** Recursively rewrites integers so msgpackr picks a MessagePack integer encoding for each. */
export function normaliseForWire(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      if (value >= U64_LIMIT || value < S64_MIN) {
        throw new VphbError('EOVERFLOW', `integer ${value} does not fit 64 bits`);
      }
      return value >= -0x8000_0000n && value <= BigInt(U32_MAX) ? Number(value) : value;
    case 'number':
      if (Number.isInteger(value) && (value > U32_MAX || value < -0x8000_0000)) return BigInt(value);
      return value;
    case 'object': {
      if (value === null || value instanceof Uint8Array) return value;
      if (Array.isArray(value)) return value.map(normaliseForWire);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = normaliseForWire(v);
      return out;
    }
    default:
      return value;
  }
}

/** Encodes a payload (normally a map); the result is a fresh Buffer slice. */
export function encodePayload(value: unknown): Buffer {
  return packr.pack(normaliseForWire(value));
}

/**
 * Decodes one MessagePack value that must fill `bytes` exactly, restricted to the interoperable
 * subset: maps become plain objects and must have string keys; ext types (timestamps, msgpackr's
 * undefined, records) and the never-used byte 0xc1 are refused. `bin` values come back as views
 * into `bytes` (no copy). Malformed input is an EINVAL VphbError, never a crash.
 */
export function decodePayload(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return {};
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VphbError('EINVAL', `malformed MessagePack payload: ${why}`);
  }
  return toSubset(value, '$');
}

function toSubset(v: unknown, path: string): unknown {
  switch (typeof v) {
    case 'boolean':
    case 'number':
    case 'bigint':
    case 'string':
      return v;
    case 'object':
      if (v === null || v instanceof Uint8Array) return v;
      if (Array.isArray(v)) return v.map((x, i) => toSubset(x, `${path}[${i}]`));
      if (v instanceof Map) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of v) {
          if (typeof k !== 'string') throw new VphbError('EINVAL', `MessagePack map at ${path} has a non-string key`);
          if (k === '__proto__') throw new VphbError('EINVAL', `MessagePack map at ${path} has the reserved key __proto__`);
          out[k] = toSubset(x, `${path}.${k}`);
        }
        return out;
      }
      break;
    default:
      break;
  }
  throw new VphbError('EINVAL', `MessagePack value at ${path} is outside the supported subset (ext type or reserved byte)`);
}
