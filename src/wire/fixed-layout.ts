/**
 * Fixed-layout MessagePack for requests made only of integer fields (the hcall ops): the map of
 * all fields in registry order, each key a fixstr, `fd`/`s32` as int32, `u32` as uint32 and `u64`
 * as uint64 (big-endian, as MessagePack wants). It is ordinary MessagePack, so any decoder reads
 * it; its point is that every value sits at a known offset:
 *
 * - the TS client keeps one pre-encoded request per op and patches the values in place (no
 *   encoder, no normalisation pass, no allocation per call);
 * - the server recognises the layout by its constant bytes and reads the values straight from the
 *   offsets, falling back to the general decoder for any other encoding. The result is exactly
 *   what the general decoder plus field validation gives for the same bytes (a property test
 *   compares them).
 */
import type { FieldType, OpSpec } from './ops.generated.js';

export interface FixedSlot {
  readonly name: string;
  readonly type: 'fd' | 's32' | 'u32' | 'u64';
  /** Offset of the value (after its type byte) in the payload. */
  readonly offset: number;
}

export interface FixedLayout {
  /** The payload with every value 0: constant bytes plus zeroed value slots. */
  readonly template: Uint8Array;
  readonly slots: readonly FixedSlot[];
  /** [start, end) runs of constant bytes, for recognising the layout. */
  readonly constant: readonly (readonly [number, number])[];
}

const TYPE_BYTE: Record<FixedSlot['type'], number> = { fd: 0xd2, s32: 0xd2, u32: 0xce, u64: 0xcf };
const WIDTH: Record<FixedSlot['type'], number> = { fd: 4, s32: 4, u32: 4, u64: 8 };

function fixedType(t: FieldType): FixedSlot['type'] | undefined {
  return t === 'fd' || t === 's32' || t === 'u32' || t === 'u64' ? t : undefined;
}

/** The layout of `spec`'s request, or undefined when a field is not a fixed-width integer (or optional). */
export function fixedLayout(spec: OpSpec): FixedLayout | undefined {
  const fields = spec.request;
  if (fields.length === 0 || fields.length > 15) return undefined;
  const bytes: number[] = [0x80 | fields.length];
  const slots: FixedSlot[] = [];
  const constant: [number, number][] = [];
  let runStart = 0;
  for (const f of fields) {
    const type = fixedType(f.type);
    if (type === undefined || f.optional === true || f.name.length > 31 || !/^[\x20-\x7e]+$/.test(f.name)) return undefined;
    bytes.push(0xa0 | f.name.length, ...Array.from(f.name, (c) => c.charCodeAt(0)), TYPE_BYTE[type]);
    constant.push([runStart, bytes.length]);
    slots.push({ name: f.name, type, offset: bytes.length });
    for (let i = 0; i < WIDTH[type]; i++) bytes.push(0);
    runStart = bytes.length;
  }
  return { template: Uint8Array.from(bytes), slots, constant };
}

const TWO32 = 4294967296;

/**
 * Writes a u64 value at `offset` of `dv` (big-endian). Numbers must be safe non-negative integers
 * and bigints below 2^64 (the caller checks); numbers need no bigint.
 */
export function writeU64(dv: DataView, offset: number, v: number | bigint): void {
  if (typeof v === 'number') {
    const hi = Math.floor(v / TWO32);
    dv.setUint32(offset, hi);
    dv.setUint32(offset + 4, v - hi * TWO32);
  } else {
    dv.setBigUint64(offset, v);
  }
}

/** True when `v` can go into a u64 slot. */
export function isU64(v: number | bigint): boolean {
  return typeof v === 'number' ? Number.isSafeInteger(v) && v >= 0 : v >= 0n && v < 1n << 64n;
}

/**
 * Reads `payload` laid out as `layout`: the request object (u64 as bigint, the others as number),
 * or undefined when the bytes are not this layout (then the general decoder decides).
 */
export function readFixed(layout: FixedLayout, payload: Uint8Array): Record<string, number | bigint> | undefined {
  const t = layout.template;
  if (payload.byteLength !== t.byteLength) return undefined;
  for (const [s, e] of layout.constant) {
    for (let i = s; i < e; i++) if (payload[i] !== t[i]) return undefined;
  }
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: Record<string, number | bigint> = {};
  for (const slot of layout.slots) {
    out[slot.name] =
      slot.type === 'u64' ? dv.getBigUint64(slot.offset)
      : slot.type === 'u32' ? dv.getUint32(slot.offset)
      : dv.getInt32(slot.offset);
  }
  return out;
}
