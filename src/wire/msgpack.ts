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
 * Decodes one MessagePack value that must fill `bytes` exactly. `bin` values come back as views
 * into `bytes` (no copy). Malformed input is an EINVAL VphbError, never a crash.
 */
export function decodePayload(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return {};
  try {
    return packr.unpack(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VphbError('EINVAL', `malformed MessagePack payload: ${why}`);
  }
}
