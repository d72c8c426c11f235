/**
 * MessagePack restricted to the subset every language decodes without extensions:
 * nil, bool, integers, float64, str, bin, array, and maps with string keys.
 *
 * Encoding is canonical (msgpack-encode.ts): each integer in the smallest encoding that holds it,
 * unsigned for non-negative values (0xcf above 2^32 - 1, as Python's and C's msgpack write). On the
 * way in an integer arrives as `number` or `bigint` depending on the sender's encoding (any width
 * is accepted); the ops layer normalises per field. Floats arrive as `MsgpackFloat`, so that an
 * integral float is never mistaken for an integer.
 */
import { VphbError } from './errno.js';
import { decodeSubset } from './msgpack-decode.js';
import { encodeCanonical } from './msgpack-encode.js';

export { MsgpackFloat } from './msgpack-decode.js';

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
 * Recursively rewrites integers so that each is a number when it fits 32 bits and a bigint when
 * not (the form `decodePayload` returns). Returns its argument itself when nothing changes.
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
  return encodeCanonical(value);
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
