import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/ops/validate.js';
import { OPS, type OpSpec } from '../../src/wire/ops.generated.js';
import { VphbError } from '../../src/wire/errno.js';
import { decodePayload } from '../../src/wire/msgpack.js';

const spec = (name: string): OpSpec => OPS.find((o) => o.name === name)!;

function einval(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VphbError);
    expect((e as VphbError).code).toBe('EINVAL');
    return (e as VphbError).message;
  }
  throw new Error('expected EINVAL');
}

describe('decodeRequest', () => {
  const map = spec('VFIO_IOMMU_MAP_DMA');

  it('normalises u64 to bigint and narrow integers to number, whatever the encoding', () => {
    const r = decodeRequest(map, { fd: 3n, flags: 3, vaddr: 0x1000, iova: 2n ** 63n, size: 4096n });
    expect(r).toEqual({ fd: 3, flags: 3, vaddr: 0x1000n, iova: 2n ** 63n, size: 4096n });
  });

  it('treats nil as absent and leaves optional fields out', () => {
    expect(decodeRequest(map, { fd: 1, flags: null, vaddr: 0, iova: 0, size: 0 })).toEqual({ fd: 1, vaddr: 0n, iova: 0n, size: 0n });
  });

  it('names the missing field', () => {
    expect(einval(() => decodeRequest(map, { fd: 1, vaddr: 0, size: 0 }))).toMatch(/field 'iova': missing/);
  });

  it('names a field of the wrong type', () => {
    expect(einval(() => decodeRequest(map, { fd: 1, vaddr: '0x1000', iova: 0, size: 0 }))).toBe("field 'vaddr': expected u64, got string");
    expect(einval(() => decodeRequest(map, { fd: 1, vaddr: 1.5, iova: 0, size: 0 }))).toBe("field 'vaddr': expected u64, got float");
  });

  it('rejects an integral float for an integer field (group: 1.0 must not open group 1)', () => {
    // {group: 1.0} as float64 and as float32, from an encoder that keeps floats floats.
    const open = spec('VFIO_GROUP_OPEN');
    for (const h of ['81a567726f7570cb3ff0000000000000', '81a567726f7570ca3f800000']) {
      expect(einval(() => decodeRequest(open, decodePayload(Buffer.from(h, 'hex'))))).toBe("field 'group': expected u32, got float 1");
    }
    // The same value as an integer is fine.
    expect(decodeRequest(open, decodePayload(Buffer.from('81a567726f757001', 'hex')))).toEqual({ group: 1 });
    const u64Float = Buffer.from('85a2666401a5666c61677300a5766164647200a4696f7661cb40b0000000000000a473697a6500', 'hex');
    expect(einval(() => decodeRequest(map, decodePayload(u64Float)))).toBe("field 'iova': expected u64, got float 4096");
  });

  it('rejects out-of-range integers', () => {
    expect(einval(() => decodeRequest(map, { fd: 1, vaddr: -1, iova: 0, size: 0 }))).toMatch(/field 'vaddr'.*out of range/);
    expect(einval(() => decodeRequest(map, { fd: 1, vaddr: 2n ** 64n, iova: 0, size: 0 }))).toMatch(/field 'vaddr'/);
    expect(einval(() => decodeRequest(map, { fd: 1, flags: 2 ** 32, vaddr: 0, iova: 0, size: 0 }))).toMatch(/field 'flags'.*u32.*out of range/);
    expect(einval(() => decodeRequest(spec('VERSION'), { major: 65536, minor: 0, client: 'x' }))).toMatch(/field 'major'/);
  });

  it('rejects unknown fields (a typo must not silently become a default)', () => {
    expect(einval(() => decodeRequest(map, { fd: 1, flgas: 1, vaddr: 0, iova: 0, size: 0 }))).toMatch(/field 'flgas': unknown/);
  });

  it('rejects a payload that is not a map', () => {
    expect(einval(() => decodeRequest(map, [1, 2]))).toMatch(/payload must be a MessagePack map, got array/);
    expect(einval(() => decodeRequest(map, 7))).toMatch(/got integer 7/);
  });

  it('checks every element of a u64 array and names its index', () => {
    const ind = spec('H_PUT_TCE_INDIRECT');
    expect(decodeRequest(ind, { fd: 0, liobn: 1, ioba: 0, tce_list: 0, tces: [1, 2n] })).toMatchObject({ tces: [1n, 2n] });
    expect(einval(() => decodeRequest(ind, { fd: 0, liobn: 1, ioba: 0, tce_list: 0, tces: [1, 'x'] }))).toMatch(/field 'tces\[1\]'/);
  });

  it('accepts bin only as bytes', () => {
    expect(einval(() => decodeRequest(spec('PING'), { data: 'abc' }))).toBe("field 'data': expected bin, got string");
    expect(decodeRequest(spec('PING'), { data: new Uint8Array([1]) })).toEqual({ data: new Uint8Array([1]) });
  });
});
