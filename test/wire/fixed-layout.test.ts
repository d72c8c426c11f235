/**
 * The fixed-layout hcall encoding: it is plain MessagePack (the general decoder reads it), and
 * readFixed (the server's fast decode) gives exactly what the general decoder plus field
 * validation gives, on random values; any other encoding is left to the general decoder.
 */
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/ops/validate.js';
import { fixedLayout, isU64, readFixed, writeU64 } from '../../src/wire/fixed-layout.js';
import { decodePayload, encodePayload } from '../../src/wire/msgpack.js';
import { OPS, type OpName } from '../../src/wire/ops.generated.js';
import { rng } from '../helpers/rng.js';

const spec = (name: OpName) => OPS.find((o) => o.name === name)!;

function randomU64(r: () => number): number | bigint {
  const k = r();
  if (k < 0.3) return Math.floor(r() * 2 ** 32);
  if (k < 0.6) return Math.floor(r() * 2 ** 53);
  return (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
}

describe('fixed-layout hcall requests', () => {
  for (const name of ['H_PUT_TCE', 'H_STUFF_TCE', 'H_GET_TCE'] as const) {
    it(`${name}: readFixed = general decode + validation`, () => {
      const s = spec(name);
      const layout = fixedLayout(s)!;
      expect(layout.slots.map((x) => x.name)).toEqual(s.request.map((f) => f.name));
      const r = rng(name.length);
      let declined = 0;
      for (let k = 0; k < 300; k++) {
        const payload = Uint8Array.from(layout.template);
        const dv = new DataView(payload.buffer);
        for (const slot of layout.slots) {
          if (slot.type === 'u64') writeU64(dv, slot.offset, randomU64(r));
          else dv.setInt32(slot.offset, Math.floor(r() * 2 ** 32) - 2 ** 31);
        }
        const general = decodeRequest(s, decodePayload(payload));
        expect(readFixed(layout, payload)).toEqual(general);
        // Same values encoded the usual way (smallest integers): the fast decode either declines
        // or (when every value needs the full width, so the bytes are the same) agrees.
        const usual = encodePayload(general);
        const fast = readFixed(layout, usual);
        if (fast !== undefined) expect(Buffer.from(usual).equals(Buffer.from(payload))).toBe(true);
        else declined++;
        expect(decodeRequest(s, decodePayload(usual))).toEqual(general);
      }
      expect(declined).toBeGreaterThan(100);
    });
  }

  it('any other bytes are not taken for the layout', () => {
    const layout = fixedLayout(spec('H_PUT_TCE'))!;
    for (let i = 0; i < layout.template.length; i++) {
      const p = Uint8Array.from(layout.template);
      const isValue = layout.slots.some((s) => i >= s.offset && i < s.offset + (s.type === 'u64' ? 8 : 4));
      p[i] = p[i]! ^ 0x01;
      expect(readFixed(layout, p) === undefined).toBe(!isValue);
    }
    expect(readFixed(layout, layout.template.subarray(1))).toBeUndefined();
  });

  it('ops with non-integer or optional fields have no fixed layout; u64 range checks', () => {
    expect(fixedLayout(spec('H_PUT_TCE_INDIRECT'))).toBeUndefined(); // u64[]
    expect(fixedLayout(spec('VFIO_IOMMU_MAP_DMA'))).toBeUndefined(); // optional flags
    expect([isU64(0), isU64(2 ** 53 - 1), isU64(2 ** 53), isU64(-1), isU64(1.5), isU64((1n << 64n) - 1n), isU64(1n << 64n), isU64(-1n)])
      .toEqual([true, true, false, false, false, true, false, false]);
  });
});
