/**
 * The canonical MessagePack encoder of the interoperable subset (see PROTOCOL.md §2.1):
 * nil, bool, integers, float64, str, bin, array, and maps with string keys.
 *
 * Canonical integers: a non-negative integer takes the smallest unsigned encoding that holds it
 * (positive fixint, uint8/16/32, uint64 0xcf); a negative one the smallest signed encoding
 * (negative fixint, int8/16/32, int64 0xd3). This is what the msgpack libraries of Python and C
 * produce, so vectors encoded by vphb can be reproduced byte for byte outside Node. A JS number
 * that is an integer is written as an integer (never as a float), whatever its size; any other
 * number is a float64.
 *
 * Anything outside the subset is mapped into it rather than refused: undefined → nil (dropped as
 * a map value), a non-plain object → the map of its own enumerable members.
 */
import { VphbError } from './errno.js';

const U64_LIMIT = 1n << 64n;
const S64_MIN = -(1n << 63n);

// Encoder state: one growing scratch buffer, reused across calls (encoding is synchronous).
let buf = Buffer.allocUnsafe(8192);
let pos = 0;

function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, pos);
  buf = next;
}

function head(n: number, small: number, tiny: number, b8: number | undefined, b16: number, b32: number): void {
  ensure(5);
  if (n < small) buf[pos++] = tiny | n;
  else if (b8 !== undefined && n <= 0xff) {
    buf[pos++] = b8;
    buf[pos++] = n;
  } else if (n <= 0xffff) {
    buf[pos++] = b16;
    buf.writeUInt16BE(n, pos);
    pos += 2;
  } else {
    buf[pos++] = b32;
    buf.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function uint(n: number): void {
  ensure(9);
  if (n <= 0x7f) buf[pos++] = n;
  else if (n <= 0xff) {
    buf[pos++] = 0xcc;
    buf[pos++] = n;
  } else if (n <= 0xffff) {
    buf[pos++] = 0xcd;
    buf.writeUInt16BE(n, pos);
    pos += 2;
  } else if (n <= 0xffff_ffff) {
    buf[pos++] = 0xce;
    buf.writeUInt32BE(n, pos);
    pos += 4;
  } else {
    buf[pos++] = 0xcf;
    buf.writeBigUInt64BE(BigInt(n), pos);
    pos += 8;
  }
}

function sint(n: number): void {
  ensure(9);
  if (n >= -32) buf[pos++] = n & 0xff;
  else if (n >= -0x80) {
    buf[pos++] = 0xd0;
    buf.writeInt8(n, pos++);
  } else if (n >= -0x8000) {
    buf[pos++] = 0xd1;
    buf.writeInt16BE(n, pos);
    pos += 2;
  } else if (n >= -0x8000_0000) {
    buf[pos++] = 0xd2;
    buf.writeInt32BE(n, pos);
    pos += 4;
  } else {
    buf[pos++] = 0xd3;
    buf.writeBigInt64BE(BigInt(n), pos);
    pos += 8;
  }
}

function bigint(v: bigint): void {
  if (v >= U64_LIMIT || v < S64_MIN) throw new VphbError('EOVERFLOW', `integer ${v} does not fit 64 bits`);
  if (v >= 0n) {
    if (v <= 0xffff_ffffn) return uint(Number(v));
    ensure(9);
    buf[pos++] = 0xcf;
    buf.writeBigUInt64BE(v, pos);
    pos += 8;
    return;
  }
  if (v >= -0x8000_0000n) return sint(Number(v));
  ensure(9);
  buf[pos++] = 0xd3;
  buf.writeBigInt64BE(v, pos);
  pos += 8;
}

function number(v: number): void {
  if (Number.isInteger(v)) {
    if (v >= 0) {
      if (v <= 0xffff_ffff) return uint(v);
      return bigint(BigInt(v));
    }
    if (v >= -0x8000_0000) return sint(v);
    return bigint(BigInt(v));
  }
  ensure(9);
  buf[pos++] = 0xcb;
  buf.writeDoubleBE(v, pos);
  pos += 8;
}

function string(s: string): void {
  const len = s.length;
  if (len < 32) {
    // Short strings (every map key) are nearly always ASCII: write them byte by byte.
    ensure(1 + len);
    const start = pos;
    buf[pos++] = 0xa0 | len;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos++] = c;
    }
    if (i === len) return;
    pos = start; // not ASCII: the general path below
  }
  const n = Buffer.byteLength(s, 'utf8');
  head(n, 32, 0xa0, 0xd9, 0xda, 0xdb);
  ensure(n);
  pos += buf.write(s, pos, 'utf8');
}

function bytes(b: Uint8Array): void {
  const n = b.byteLength;
  ensure(5 + n);
  head(n, 0, 0, 0xc4, 0xc5, 0xc6);
  buf.set(b, pos);
  pos += n;
}

function value(v: unknown, depth: number): void {
  if (depth > 64) throw new VphbError('EINVAL', 'value nested deeper than 64 levels');
  switch (typeof v) {
    case 'number': return number(v);
    case 'bigint': return bigint(v);
    case 'string': return string(v);
    case 'boolean':
      ensure(1);
      buf[pos++] = v ? 0xc3 : 0xc2;
      return;
    case 'object': {
      if (v === null) break;
      if (v instanceof Uint8Array) return bytes(v);
      if (Array.isArray(v)) {
        head(v.length, 16, 0x90, undefined, 0xdc, 0xdd);
        for (const x of v) value(x, depth + 1);
        return;
      }
      const obj = v as Record<string, unknown>;
      let n = 0;
      for (const k in obj) if (obj[k] !== undefined) n++;
      head(n, 16, 0x80, undefined, 0xde, 0xdf);
      for (const k in obj) {
        const x = obj[k];
        if (x === undefined) continue;
        string(k);
        value(x, depth + 1);
      }
      return;
    }
    default:
      break; // undefined, functions and symbols go out as nil
  }
  ensure(1);
  buf[pos++] = 0xc0;
}

/** Encodes one value canonically; the result is a fresh Buffer the caller owns. */
export function encodeCanonical(v: unknown): Buffer {
  pos = 0;
  try {
    value(v, 0);
    const out = Buffer.allocUnsafe(pos);
    buf.copy(out, 0, 0, pos);
    return out;
  } finally {
    pos = 0;
  }
}
