/** TCE_TABLE_READ's in-place encoded reply decodes exactly as the generic encoder's would, at every bin width. */
import { describe, expect, it } from 'vitest';
import { createOpContext, createSystem, EncodedReply, Deferred, destroyOpContext } from '../../src/ops/context.js';
import { HANDLERS } from '../../src/ops/index.js';
import { DEFAULT_TOPOLOGY } from '../../src/hw/topology.js';
import { decodePayload, encodePayload } from '../../src/wire/msgpack.js';
import { call } from '../helpers/handlers.js';

describe('TCE_TABLE_READ reply', () => {
  it.each([1, 31, 32, 8191, 8192, 65536, 65537, 200_000])('%i entries: bytes equal the generic encoding', (count) => {
    const ctx = createOpContext(createSystem({ topology: DEFAULT_TOPOLOGY }), 1, { memlockLimit: null });
    const vm = call(ctx, 'KVM_CREATE_VM', {}).fd;
    const table = call(ctx, 'KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: 1n, page_shift: 12, offset: 0n, size: 1n << 18n }).fd;
    const tces = new BigUint64Array(count).map((_, i) => (BigInt(i) << 12n) | 3n);
    call(ctx, 'TCE_TABLE_WRITE', { fd: table, index: 7n, data: new Uint8Array(tces.buffer) });
    let r: unknown = HANDLERS.TCE_TABLE_READ!(ctx, { fd: table, index: 7n, count });
    if (r instanceof Deferred) for (let s = r.slices.next(); ; s = r.slices.next()) if (s.done === true) { r = s.value; break; }
    expect(r).toBeInstanceOf(EncodedReply);
    const bytes = (r as EncodedReply<unknown>).bytes;
    expect(Buffer.compare(bytes, encodePayload({ data: new Uint8Array(tces.buffer) }))).toBe(0);
    expect(Buffer.from((decodePayload(bytes) as { data: Uint8Array }).data).equals(Buffer.from(tces.buffer))).toBe(true);
    destroyOpContext(ctx);
  });
});
