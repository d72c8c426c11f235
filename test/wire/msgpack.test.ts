import { describe, expect, it } from 'vitest';
import { VphbError } from '../../src/wire/errno.js';
import { decodePayload, encodePayload, normaliseForWire } from '../../src/wire/msgpack.js';
import { assertInteropSubset } from './subset.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const enc = (v: unknown): string => encodePayload(v).toString('hex');

describe('encodePayload', () => {
  it('writes maps with string keys as fixmaps, no records', () => {
    // {fd: 3}: fixmap(1) fixstr "fd" fixint 3
    expect(enc({ fd: 3 })).toBe('81a2666403');
    expect(enc({})).toBe('80');
    expect(enc({ a: 1, b: 'x' })).toBe('82a16101a162a178');
  });

  it('writes a small bigint in the smallest integer encoding', () => {
    expect(enc({ a: 5n })).toBe('81a16105');
    expect(enc({ a: 0n })).toBe('81a16100');
    expect(enc({ a: 0x80n })).toBe('81a161cc80');
    expect(enc({ a: 0x1234n })).toBe('81a161cd1234');
    expect(enc({ a: 0xffff_ffffn })).toBe('81a161ceffffffff');
  });

  it('writes non-negative integers above 2^32 - 1 as uint64 (cf), as Python and C msgpack do', () => {
    // 2^32 - 1 still fits uint32 (ce); 2^32 and up take 9 bytes, unsigned.
    expect(enc({ a: 2n ** 32n - 1n })).toBe('81a161ceffffffff');
    expect(enc({ a: 2n ** 32n })).toBe('81a161cf0000000100000000');
    expect(enc({ a: 2n ** 53n + 1n })).toBe('81a161cf0020000000000001');
    expect(enc({ a: 2n ** 63n - 1n })).toBe('81a161cf7fffffffffffffff');
    expect(enc({ a: 2n ** 63n })).toBe('81a161cf8000000000000000');
    expect(enc({ a: 2n ** 64n - 1n })).toBe('81a161cfffffffffffffffff');
  });

  it('writes negative integers in the smallest signed encoding', () => {
    expect(enc({ a: -1 })).toBe('81a161ff');
    expect(enc({ a: -33 })).toBe('81a161d0df');
    expect(enc({ a: -(2 ** 31) })).toBe('81a161d280000000');
    expect(enc({ a: -(2n ** 31n) - 1n })).toBe('81a161d3ffffffff7fffffff');
    expect(enc({ a: -(2n ** 63n) })).toBe('81a161d38000000000000000');
  });

  it('writes str and bin of every length class and long arrays and maps', () => {
    expect(enc('x'.repeat(31)).slice(0, 2)).toBe('bf');
    expect(enc('x'.repeat(32)).slice(0, 4)).toBe('d920');
    expect(enc('x'.repeat(256)).slice(0, 6)).toBe('da0100');
    expect(enc('é')).toBe('a2c3a9');
    expect(enc(new Uint8Array(256)).slice(0, 6)).toBe('c50100');
    expect(enc(new Array(16).fill(0)).slice(0, 6)).toBe('dc0010');
    expect(enc(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))).slice(0, 6)).toBe('de0010');
    expect(enc(new Uint8Array(70_000)).length).toBe(2 * (5 + 70_000));
  });

  it('never writes a number >= 2^32 as a float', () => {
    expect(enc({ a: 2 ** 32 })).toBe('81a161cf0000000100000000');
    expect(enc({ a: 2 ** 53 })).toBe('81a161cf0020000000000000');
    expect(enc({ a: 1.5 })).toBe('81a161cb3ff8000000000000'); // a real float stays a float
  });

  it('rejects bigints beyond 64 bits with EOVERFLOW', () => {
    const err = (() => {
      try {
        encodePayload({ a: 2n ** 64n });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(VphbError);
    expect((err as VphbError).errno).toBe(75);
    expect((err as VphbError).code).toBe('EOVERFLOW');
  });

  it('writes bin for a Uint8Array and nil for undefined array items, drops undefined map values', () => {
    expect(enc({ data: new Uint8Array([1, 2, 3]) })).toBe('81a464617461c403010203');
    expect(enc({ a: undefined, b: [undefined] })).toBe('81a16291c0');
  });

  it('produces no ext types for anything it is handed', () => {
    const values: unknown[] = [
      { d: new Date(0) },
      { m: new Map([['k', 1]]) },
      { s: new Set([1]) },
      { u: undefined },
      [undefined, null, true, -1, 2n ** 40n],
      { nested: { deep: { v: 2n ** 63n } } },
    ];
    for (const v of values) expect(() => assertInteropSubset(encodePayload(v))).not.toThrow();
    // The exact bytes for the two classic msgpackr traps: a Date and undefined.
    expect(enc({ d: new Date(0) })).toBe('81a16480');
    expect(enc([undefined])).toBe('91c0');
  });
});

describe('assertInteropSubset (test helper)', () => {
  it('catches what it must catch', () => {
    expect(() => assertInteropSubset(hex('81a16105'))).not.toThrow();
    expect(() => assertInteropSubset(hex('81a161d6ff00000000'))).toThrow(/0xd6/); // timestamp ext
    expect(() => assertInteropSubset(hex('d40000'))).toThrow(/0xd4/); // msgpackr undefined
    expect(() => assertInteropSubset(hex('d47240'))).toThrow(/0xd4/); // msgpackr record
    expect(() => assertInteropSubset(hex('810102'))).toThrow(/not a str/);
    expect(() => assertInteropSubset(hex('0102'))).toThrow(/trailing/);
  });
});

describe('normaliseForWire', () => {
  it('turns wide numbers into bigints and narrow bigints into numbers, recursively', () => {
    expect(normaliseForWire({ a: [2 ** 33, 7n], b: { c: -(2 ** 40) } })).toEqual({
      a: [2n ** 33n, 7],
      b: { c: -(2n ** 40n) },
    });
  });
});

describe('decodePayload', () => {
  it('round-trips u64 values across the boundaries as bigint or number', () => {
    for (const v of [0n, 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      const back = decodePayload(encodePayload({ v })) as { v: number | bigint };
      expect(BigInt(back.v)).toBe(v);
      // Values that need 9 bytes always come back as bigint, never as a (lossy) number.
      if (v >= 2n ** 32n) expect(typeof back.v).toBe('bigint');
    }
  });

  it('accepts every integer width a foreign encoder may use for a u64', () => {
    // 5 as uint8, uint16, uint32, uint64 and int64.
    for (const h of ['cc05', 'cd0005', 'ce00000005', 'cf0000000000000005', 'd30000000000000005']) {
      expect(BigInt((decodePayload(hex(`81a176${h}`)) as { v: number | bigint }).v)).toBe(5n);
    }
    expect((decodePayload(hex('81a176cf8000000000000001')) as { v: bigint }).v).toBe(2n ** 63n + 1n);
  });

  it('returns bin as a view of the input (no copy)', () => {
    const input = hex('81a464617461c403010203');
    const out = decodePayload(input) as { data: Uint8Array };
    expect([...out.data]).toEqual([1, 2, 3]);
    expect(out.data.buffer).toBe(input.buffer);
  });

  it('decodes an empty payload as an empty map', () => {
    expect(decodePayload(new Uint8Array(0))).toEqual({});
  });

  it.each([
    ['truncated map', '81'],
    ['truncated key', '82a161'],
    ['truncated uint64', '81a176cf0000'],
    ['trailing bytes', '0102'],
    ['str longer than the payload', 'a5616263'],
    ['unknown ext type', 'c7017201'],
  ])('rejects malformed input (%s) with EINVAL', (_name, h) => {
    let caught: unknown;
    try {
      decodePayload(hex(h));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(VphbError);
    expect((caught as VphbError).errno).toBe(22);
    expect((caught as VphbError).code).toBe('EINVAL');
    expect((caught as VphbError).message).toMatch(/^malformed MessagePack payload: /);
  });
});

describe('decodePayload enforces the interoperable subset', () => {
  it.each([
    ['c1', 'the reserved byte 0xc1'],
    ['d6ffffffffff', 'a timestamp ext'],
    ['d40000', "msgpackr's undefined ext"],
    ['810101', 'an integer map key'],
    ['81c001', 'a nil map key'],
    [`81a9${Buffer.from('__proto__').toString('hex')}01`, 'the key __proto__'],
    ['8191a161d40000', 'an ext nested in an array inside a map'],
  ])('%s (%s) → EINVAL', (hex) => {
    expect(() => decodePayload(Buffer.from(hex, 'hex'))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('maps come back as plain objects, bin as views', () => {
    const bytes = Buffer.from('82a161cf8000000000000000a162c4020102', 'hex');
    const v = decodePayload(bytes) as { a: bigint; b: Uint8Array };
    expect(v.a).toBe(2n ** 63n);
    expect([...v.b]).toEqual([1, 2]);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(v.b.buffer).toBe(bytes.buffer);
  });
});
