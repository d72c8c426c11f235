import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MsgpackDecodeError, decodeSubset, MsgpackFloat } from '../../src/wire/msgpack-decode.js';

const hex = (h: string): Uint8Array => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const reference = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

describe('decodeSubset', () => {
  it.each([
    ['00', 0], ['7f', 127], ['e0', -32], ['ff', -1],
    ['cc ff', 255], ['cd 0100', 256], ['ce ffffffff', 0xffff_ffff],
    ['cf 0000000100000000', 2n ** 32n], ['cf ffffffffffffffff', 2n ** 64n - 1n],
    ['d0 80', -128], ['d1 8000', -32768], ['d2 80000000', -(2 ** 31)],
    ['d3 8000000000000000', -(2n ** 63n)], ['d3 0000000000000005', 5n],
    ['ca 3fc00000', new MsgpackFloat(1.5)], ['cb 3ff8000000000000', new MsgpackFloat(1.5)],
    ['cb 3ff0000000000000', new MsgpackFloat(1)],
    ['c0', null], ['c2', false], ['c3', true],
    ['a3 616263', 'abc'], ['d9 03 616263', 'abc'], ['da 0003 616263', 'abc'], ['db 00000003 616263', 'abc'],
    ['a2 c3a9', 'é'],
    ['92 01 a1 78', [1, 'x']], ['dc 0002 01 02', [1, 2]], ['dd 00000001 c0', [null]],
    ['81 a1 61 01', { a: 1 }], ['de 0001 a1 61 02', { a: 2 }], ['df 00000001 d9 01 62 03', { b: 3 }],
  ])('%s', (h, want) => {
    expect(decodeSubset(hex(h))).toEqual(want);
  });

  it('bin of every width comes back as a view of the input', () => {
    for (const h of ['c4 02 0102', 'c5 0002 0102', 'c6 00000002 0102']) {
      const input = hex(h);
      const v = decodeSubset(input) as Uint8Array;
      expect([...v]).toEqual([1, 2]);
      expect(v.buffer).toBe(input.buffer);
    }
  });

  it('agrees with msgpackr on a realistic request', () => {
    const bytes = reference.pack({ fd: 3, liobn: 0x8000_0000, ioba: 2n ** 40n, tces: [1, 2n ** 63n], name: 'dev', data: new Uint8Array([9]) });
    expect(decodeSubset(bytes)).toEqual(reference.unpack(bytes));
  });

  it('a message truncated at every offset is an error, never a partial value', () => {
    const bytes = hex('83 a2 6664 03 a4 696f6261 cf 0000010000000000 a4 64617461 c4 03 010203');
    expect(decodeSubset(bytes)).toMatchObject({ fd: 3 });
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeSubset(bytes.subarray(0, n)), `cut at ${n}`).toThrow(MsgpackDecodeError);
    }
  });

  it.each([
    ['c1', /reserved byte 0xc1/],
    ['d4 00 00', /ext type 0xd4/],
    ['c7 01 05 00', /ext type 0xc7/],
    ['d6 ff 00000000', /ext type 0xd6/],
    ['81 01 02', /map key at byte 1 is not a string/],
    ['81 c0 02', /not a string/],
    [`81 a9 ${Buffer.from('__proto__').toString('hex')} 01`, /__proto__/],
    ['01 02', /1 bytes after the value/],
    ['a2 ff fe', /invalid UTF-8/],
    ['dd ffffffff', /truncated/],
  ])('%s is refused', (h, why) => {
    expect(() => decodeSubset(hex(h))).toThrow(why);
  });

  it('refuses nesting deeper than 64 without exhausting the stack', () => {
    expect(() => decodeSubset(new Uint8Array(100_000).fill(0x91))).toThrow(/nesting deeper than 64/);
    expect(decodeSubset(new Uint8Array([...new Array(64).fill(0x91), 0x01]))).toBeDefined();
  });

  it('the key cache never confuses two keys (10,000 distinct keys, twice)', () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10_000; i++) {
        const key = `k${i.toString(36)}`;
        expect(Object.keys(decodeSubset(reference.pack({ [key]: i })) as object)).toEqual([key]);
      }
    }
  });
});
