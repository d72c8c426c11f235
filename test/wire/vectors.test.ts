/**
 * Conformance vectors (protocol/vectors/): every frame decodes, with FrameDecoder and
 * decodePayload, to its documented meaning; canonical MessagePack ones re-encode to the same bytes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/wire/frame-decoder.js';
import { FLAG_ERROR, encodeFrame, type FrameHeader } from '../../src/wire/header.js';
import { decodePayload, encodePayload } from '../../src/wire/msgpack.js';
import { OPS, OP_CODES, type FieldSpec, type OpName } from '../../src/wire/ops.generated.js';
import { assertInteropSubset } from './subset.js';

interface Vector {
  name: string;
  description: string;
  hex: string;
  header: { msg_id: number; command: number; size: number; flags: number; error: number };
  /** null for a server-initiated command whose op this registry may not define. */
  op: OpName | null;
  direction: 'command' | 'reply' | 'server-command';
  payload_kind: 'msgpack' | 'raw' | 'empty';
  payload?: Record<string, unknown>;
  canonical?: boolean;
}
interface Stream { name: string; description: string; frames: string[]; hex: string; chunks: string[] }

const dir = new URL('../../protocol/vectors/', import.meta.url);
const vectors = JSON.parse(readFileSync(new URL('vectors.json', dir), 'utf8')) as Vector[];
const streams = JSON.parse(readFileSync(new URL('streams.json', dir), 'utf8')) as Stream[];
const byName = new Map(vectors.map((v) => [v.name, v]));
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const MESSAGE_FIELDS: FieldSpec[] = [{ name: 'message', type: 'str' }];

function decodeAll(chunks: Uint8Array[]): { header: FrameHeader; payload: Uint8Array }[] {
  const frames: { header: FrameHeader; payload: Uint8Array }[] = [];
  const dec = new FrameDecoder(
    {
      frame: (header, payload) => frames.push({ header, payload }),
      oversize: (h) => { throw new Error(`oversize ${h.size}`); },
      fatal: (r) => { throw new Error(r); },
    },
    { maxFrameSize: 1 << 20 },
  );
  for (const c of chunks) dec.push(c);
  expect(dec.end()).toEqual({ truncated: false, pendingBytes: 0 });
  return frames;
}

function fieldsOf(v: Vector): readonly FieldSpec[] | undefined {
  if (v.header.flags & FLAG_ERROR) return MESSAGE_FIELDS;
  const spec = OPS.find((o) => o.name === v.op);
  if (spec === undefined) return undefined;
  return v.direction === 'reply' ? spec.reply : spec.request;
}

/** Members of nested structs (PhbInfo ranges and window starts, DdwInfo) that are u64. */
const NESTED_U64 = new Set(['start', 'size', 'window_starts', 'pgsizes']);

/** A nested struct with its u64 members as decimal strings and bin as hex, from either side. */
function deepCanon(x: unknown, key = ''): unknown {
  if (Array.isArray(x)) return x.map((e) => deepCanon(e, key));
  if (x instanceof Uint8Array) return toHex(x);
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, deepCanon(e, k)]));
  if (NESTED_U64.has(key) && (typeof x === 'string' || typeof x === 'number' || typeof x === 'bigint')) return BigInt(x).toString();
  return x;
}

/** The JSON form of a nested struct as an encoder is handed it (u64 members → bigint). */
function deepTyped(x: unknown, key = ''): unknown {
  if (Array.isArray(x)) return x.map((e) => deepTyped(e, key));
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, deepTyped(e, k)]));
  if (NESTED_U64.has(key) && typeof x === 'string') return BigInt(x);
  return x;
}

/** One comparable form for both the JSON meaning and a decoded payload: u64 → decimal, bin → hex. */
function canon(fields: readonly FieldSpec[] | undefined, obj: Record<string, unknown>): Record<string, unknown> {
  if (fields === undefined) return deepCanon(obj) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(obj)) {
    const type = fields.find((f) => f.name === k)?.type;
    if (type === undefined) throw new Error(`field ${k} is not in the spec`);
    if (type === 'u64') out[k] = BigInt(x as string | number | bigint).toString();
    else if (type === 'u64[]') out[k] = (x as (string | number | bigint)[]).map((e) => BigInt(e).toString());
    else if (type === 'bin') out[k] = typeof x === 'string' ? x : toHex(x as Uint8Array);
    else out[k] = deepCanon(x);
  }
  return out;
}

/** The JSON meaning as the TypeScript value an encoder is handed (u64 → bigint, bin → bytes). */
function typed(fields: readonly FieldSpec[] | undefined, obj: Record<string, unknown>): Record<string, unknown> {
  if (fields === undefined) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(obj)) {
    const type = fields.find((f) => f.name === k)?.type;
    if (type === 'u64') out[k] = BigInt(x as string);
    else if (type === 'u64[]') out[k] = (x as string[]).map((e) => BigInt(e));
    else if (type === 'bin') out[k] = new Uint8Array(Buffer.from(x as string, 'hex'));
    else out[k] = deepTyped(x);
  }
  return out;
}

function rawLayout(v: Vector): Uint8Array {
  const p = v.payload as { vm_fd: number; flags: number; liobn: string; ioba: string; count: number; reserved: number; tces: string[] };
  const b = Buffer.alloc(32 + 8 * p.tces.length);
  b.writeUInt32LE(p.vm_fd, 0);
  b.writeUInt32LE(p.flags, 4);
  b.writeBigUInt64LE(BigInt(p.liobn), 8);
  b.writeBigUInt64LE(BigInt(p.ioba), 16);
  b.writeUInt32LE(p.count, 24);
  b.writeUInt32LE(p.reserved, 28);
  p.tces.forEach((t, i) => b.writeBigUInt64LE(BigInt(t), 32 + 8 * i));
  return b;
}

describe('protocol vectors', () => {
  it('cover the required cases', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(12);
    expect(new Set(vectors.map((v) => v.name)).size).toBe(vectors.length);
    const has = (f: (v: Vector) => boolean): boolean => vectors.some(f);
    expect(has((v) => v.op === 'VERSION' && v.direction === 'command')).toBe(true);
    expect(has((v) => v.op === 'VERSION' && v.direction === 'reply')).toBe(true);
    expect(has((v) => v.op === 'PING' && v.direction === 'reply' && !(v.header.flags & FLAG_ERROR))).toBe(true);
    for (const errno of [71, 25, 22]) expect(has((v) => (v.header.flags & FLAG_ERROR) !== 0 && v.header.error === errno)).toBe(true);
    expect(has((v) => v.payload_kind === 'raw')).toBe(true);
    expect(has((v) => (v.header.flags & 0x10) !== 0)).toBe(true);
    expect(has((v) => v.op === 'TOPOLOGY' && v.direction === 'reply')).toBe(true);
    // Every error shape: header only, empty map, {message}; on MessagePack and raw ops.
    expect(has((v) => (v.header.flags & FLAG_ERROR) !== 0 && v.payload_kind === 'empty')).toBe(true);
    expect(has((v) => (v.header.flags & FLAG_ERROR) !== 0 && v.payload !== undefined && Object.keys(v.payload).length === 0)).toBe(true);
    expect(has((v) => (v.header.flags & FLAG_ERROR) !== 0 && v.op === 'TCE_PUT_BATCH')).toBe(true);
    for (const errno of [13, 90, 9]) expect(has((v) => (v.header.flags & FLAG_ERROR) !== 0 && v.header.error === errno)).toBe(true);
    expect(has((v) => v.direction === 'server-command' && (v.header.flags & 0x1f) === 0x10)).toBe(true);
    // u64 edges, each in some vector: 2^32, 2^53 + 1, 2^63, 2^64 - 1.
    const u64s = vectors.flatMap((v) => Object.values(v.payload ?? {}).filter((x): x is string => typeof x === 'string' && /^(0x[0-9a-f]+|\d+)$/.test(x)).map((x) => BigInt(x)));
    for (const edge of [2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) expect(u64s).toContain(edge);
    expect(streams.length).toBeGreaterThanOrEqual(1);
  });

  for (const v of vectors) {
    it(`${v.name}: decodes to its meaning`, () => {
      const bytes = new Uint8Array(Buffer.from(v.hex, 'hex'));
      const frames = decodeAll([bytes]);
      expect(frames).toHaveLength(1);
      const { header, payload } = frames[0]!;
      expect(header).toEqual({ msgId: v.header.msg_id, command: v.header.command, size: v.header.size, flags: v.header.flags, error: v.header.error });
      expect(header.size).toBe(bytes.length);
      if (v.op !== null) expect(header.command).toBe(OP_CODES[v.op]);
      expect(header.flags & 0xf).toBe(v.direction === 'reply' ? 1 : 0);
      const fields = fieldsOf(v);
      if (v.payload_kind === 'empty') {
        expect(payload.byteLength).toBe(0);
        expect(decodePayload(payload)).toEqual(v.payload ?? {});
      } else if (v.payload_kind === 'msgpack') {
        assertInteropSubset(payload);
        const decoded = decodePayload(payload) as Record<string, unknown>;
        expect(canon(fields, decoded)).toEqual(canon(fields, v.payload!));
        // A u64 beyond 2^32 never comes back as a (possibly lossy) number.
        for (const f of fields ?? []) if (f.type === 'u64' && typeof decoded[f.name] === 'number') expect(decoded[f.name]).toBeLessThan(2 ** 32);
      } else {
        expect(v.op).toBe('TCE_PUT_BATCH');
        const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
        const got: Record<string, unknown> = {};
        for (const f of fields!) {
          const at = f.offset!;
          if (f.type === 'u32') got[f.name] = dv.getUint32(at, true);
          else if (f.type === 'u64') got[f.name] = dv.getBigUint64(at, true).toString();
          else got[f.name] = Array.from({ length: (payload.byteLength - at) / 8 }, (_, i) => dv.getBigUint64(at + 8 * i, true).toString());
        }
        expect(got).toEqual(canon(fields!, v.payload!));
        expect(payload.byteLength).toBe(32 + 8 * (v.payload!['count'] as number));
      }
    });

    if (v.canonical !== false && v.payload_kind !== 'empty') {
      it(`${v.name}: re-encodes to the same bytes`, () => {
        const body = v.payload_kind === 'raw' ? rawLayout(v) : encodePayload(typed(fieldsOf(v), v.payload!));
        const frame = encodeFrame({ msgId: v.header.msg_id, command: v.header.command, flags: v.header.flags, error: v.header.error }, body);
        expect(frame.toString('hex')).toBe(v.hex);
      });
    }
  }

  for (const s of streams) {
    it(`stream ${s.name}: decodes whole and in its chunks to the listed frames`, () => {
      expect(s.chunks.join('')).toBe(s.hex);
      const expected = s.frames.map((n) => byName.get(n)!.hex);
      expect(expected.join('')).toBe(s.hex);
      const whole = decodeAll([new Uint8Array(Buffer.from(s.hex, 'hex'))]);
      const split = decodeAll(s.chunks.map((c) => new Uint8Array(Buffer.from(c, 'hex'))));
      for (const frames of [whole, split]) {
        expect(frames.map((f) => encodeFrame(f.header, f.payload).toString('hex'))).toEqual(expected);
      }
    });
  }
});
