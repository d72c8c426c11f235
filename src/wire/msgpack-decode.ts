/**
 * A strict MessagePack decoder for the interoperable subset vphb speaks: nil, bool, integers,
 * float32/64, str, bin, array, and maps with string keys. Anything else — ext types (timestamps,
 * msgpackr's records and undefined), the never-used byte 0xc1, non-string map keys — is refused
 * by construction rather than decoded and filtered afterwards.
 *
 * Integers in the 64-bit encodings (0xcf, 0xd3) come back as bigint, narrower ones as number,
 * as msgpackr does; floats as `MsgpackFloat`; `bin` values are views into the input (no copy).
 */
const MAX_DEPTH = 64;
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export class MsgpackDecodeError extends Error {
  override readonly name = 'MsgpackDecodeError';
}

/**
 * A decoded float32/float64. Floats are kept apart from integers so that `1.0` can never pass for
 * the integer 1 (a wrong type is EINVAL, PROTOCOL.md §2.1); no field of the protocol is a float.
 */
export class MsgpackFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

// Decoder state: the input and the cursor. Module-level rather than an object per call, since
// decoding is synchronous and never re-entered; it keeps small payloads allocation-free.
let b: Uint8Array = new Uint8Array(0);
let p = 0;

function need(n: number): void {
  if (p + n > b.byteLength) throw new MsgpackDecodeError(`truncated at byte ${p}: ${n} more bytes needed`);
}

function u8(): number {
  need(1);
  return b[p++]!;
}

function u16(): number {
  need(2);
  const x = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  return x;
}

function u32(): number {
  need(4);
  const x = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  p += 4;
  return x;
}

function u64(signed: boolean): bigint {
  const hi = u32();
  const lo = u32();
  const x = (BigInt(hi) << 32n) | BigInt(lo);
  return signed ? BigInt.asIntN(64, x) : x;
}

function float(size: 4 | 8): MsgpackFloat {
  need(size);
  const v = new DataView(b.buffer, b.byteOffset + p, size);
  p += size;
  return new MsgpackFloat(size === 4 ? v.getFloat32(0) : v.getFloat64(0));
}

function bytes(n: number): Uint8Array {
  need(n);
  p += n;
  return b.subarray(p - n, p);
}

function str(n: number): string {
  need(n);
  const start = p;
  p += n;
  if (n <= 24) {
    // Short keys and values are ASCII nearly always: skip the TextDecoder call.
    let s = '';
    for (let i = start; i < p; i++) {
      const c = b[i]!;
      if (c >= 0x80) return utf8At(start, n);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8At(start, n);
}

function utf8At(start: number, n: number): string {
  try {
    return utf8.decode(b.subarray(start, start + n));
  } catch {
    throw new MsgpackDecodeError(`invalid UTF-8 in str at byte ${start}`);
  }
}

// Map keys repeat in every message (field names): keep the strings for short ASCII keys, found
// by a hash of their bytes and confirmed byte by byte, so decoding builds no new key strings.
const KEY_SLOTS = 4096;
const keyBytes: (Uint8Array | undefined)[] = new Array(KEY_SLOTS);
const keyStrings: string[] = new Array(KEY_SLOTS);

function shortKey(n: number): string {
  need(n);
  let h = n;
  for (let i = p; i < p + n; i++) h = Math.imul(h ^ b[i]!, 0x9e3779b1);
  const slot = (h >>> 20) & (KEY_SLOTS - 1);
  const cached = keyBytes[slot];
  if (cached !== undefined && cached.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (cached[i] !== b[p + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      p += n;
      return keyStrings[slot]!;
    }
  }
  const start = p;
  const key = str(n);
  keyBytes[slot] = b.slice(start, start + n);
  keyStrings[slot] = key;
  return key;
}

function value(depth: number): unknown {
  const t = u8();
  if (t <= 0x7f) return t;
  if (t >= 0xe0) return t - 0x100;
  if (t >= 0xa0 && t <= 0xbf) return str(t & 0x1f);
  if (t >= 0x90 && t <= 0x9f) return array(t & 0x0f, depth);
  if (t >= 0x80 && t <= 0x8f) return map(t & 0x0f, depth);
  switch (t) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: return bytes(u8());
    case 0xc5: return bytes(u16());
    case 0xc6: return bytes(u32());
    case 0xca: return float(4);
    case 0xcb: return float(8);
    case 0xcc: return u8();
    case 0xcd: return u16();
    case 0xce: return u32();
    case 0xcf: return u64(false);
    case 0xd0: return (u8() << 24) >> 24;
    case 0xd1: return (u16() << 16) >> 16;
    case 0xd2: return u32() | 0;
    case 0xd3: return u64(true);
    case 0xd9: return str(u8());
    case 0xda: return str(u16());
    case 0xdb: return str(u32());
    case 0xdc: return array(u16(), depth);
    case 0xdd: return array(u32(), depth);
    case 0xde: return map(u16(), depth);
    case 0xdf: return map(u32(), depth);
    default:
      throw new MsgpackDecodeError(
        t === 0xc1 ? `reserved byte 0xc1 at byte ${p - 1}` : `ext type 0x${t.toString(16)} at byte ${p - 1} is not supported`,
      );
  }
}

function array(n: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH) throw new MsgpackDecodeError(`nesting deeper than ${MAX_DEPTH}`);
  // Every element takes at least one byte: refuse counts the input cannot hold before allocating.
  need(n);
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = value(depth + 1);
  return out;
}

function map(n: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_DEPTH) throw new MsgpackDecodeError(`nesting deeper than ${MAX_DEPTH}`);
  need(2 * n);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const at = p;
    const t = b[at]!;
    let key: string;
    if (t >= 0xa0 && t <= 0xbf) {
      p++;
      key = shortKey(t & 0x1f);
    } else if (t === 0xd9 || t === 0xda || t === 0xdb) {
      key = value(depth + 1) as string;
    } else {
      throw new MsgpackDecodeError(`map key at byte ${at} is not a string`);
    }
    if (key === '__proto__') throw new MsgpackDecodeError(`map key __proto__ at byte ${at} is reserved`);
    out[key] = value(depth + 1);
  }
  return out;
}

/** Decodes exactly one value filling `bytes`. Throws MsgpackDecodeError on anything else. */
export function decodeSubset(bytes: Uint8Array): unknown {
  b = bytes;
  p = 0;
  try {
    const v = value(0);
    if (p !== bytes.byteLength) throw new MsgpackDecodeError(`${bytes.byteLength - p} bytes after the value`);
    return v;
  } finally {
    b = EMPTY; // do not keep the caller's buffer alive
  }
}
