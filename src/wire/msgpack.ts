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
import { decodeSubset } from './msgpack-decode.js';

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

function normaliseInteger(value: bigint | number): bigint | number {
  if (typeof value === 'bigint') {
    if (value >= U64_LIMIT || value < S64_MIN) {
      throw new VphbError('EOVERFLOW', `integer ${value} does not fit 64 bits`);
    }
    return value >= -0x8000_0000n && value <= BigInt(U32_MAX) ? Number(value) : value;
  }
  return Number.isInteger(value) && (value > U32_MAX || value < -0x8000_0000) ? BigInt(value) : value;
}

/**
 * Recursively rewrites integers so msgpackr picks a MessagePack integer encoding for each.
 * Returns its argument itself when nothing needs rewriting (the common case of small replies),
 * and copies only the containers on the path to a value that changes.
 */
export function normaliseForWire(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
    case 'number':
      return normaliseInteger(value);
    case 'object': {
      if (value === null || value instanceof Uint8Array) return value;
      if (Array.isArray(value)) {
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          const n = normaliseForWire(v);
          if (n !== v && out === undefined) out = value.slice(0, i);
          if (out !== undefined) out.push(n);
        }
        return out ?? value;
      }
      const obj = value as Record<string, unknown>;
      // Anything but a plain object (Date, Map, Set, class instances) goes out as the plain map of
      // its own enumerable members, never as one of msgpackr's ext types.
      let out: Record<string, unknown> | undefined = Object.getPrototypeOf(obj) === Object.prototype ? undefined : {};
      for (const k in obj) {
        const v = obj[k];
        const n = v === undefined ? undefined : normaliseForWire(v);
        // An undefined member is dropped, so it also forces a copy.
        if ((n !== v || v === undefined) && out === undefined) {
          out = {};
          for (const k2 in obj) {
            if (k2 === k) break;
            if (obj[k2] !== undefined) out[k2] = obj[k2];
          }
        }
        if (out !== undefined && n !== undefined) out[k] = n;
      }
      return out ?? value;
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
 * subset (see msgpack-decode.ts): maps come back as plain objects with string keys, `bin` values
 * as views into `bytes` (no copy). Malformed input is an EINVAL VphbError, never a crash.
 */
export function decodePayload(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) return {};
  try {
    return decodeSubset(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VphbError('EINVAL', `malformed MessagePack payload: ${why}`);
  }
}
