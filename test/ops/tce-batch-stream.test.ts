/**
 * The streamed TCE_PUT_BATCH (Dispatcher.stream, fed the payload in pieces) against its
 * specification, Dispatcher.execute on the whole payload: random batches, well-formed or not
 * (bad fd, fd of another kind, flags, reserved, count mismatch, unknown LIOBN, bad ioba, bad or
 * repeated entries), into an unlinked and a linked table. Same reply bytes or same errno and
 * message, same guest table afterwards; and the linked table's preregistered-memory references
 * come back to zero after identical rewrites (UNREGISTER_MEMORY succeeds once cleared).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY } from '../../src/hw/topology.js';
import { createOpContext, createSystem, destroyOpContext, type OpContext } from '../../src/ops/context.js';
import { Dispatcher, PendingReply } from '../../src/ops/dispatch.js';
import { HANDLERS } from '../../src/ops/index.js';
import { isVphbError } from '../../src/wire/errno.js';
import { OP_CODES } from '../../src/wire/ops.generated.js';
import { errno } from '../helpers/errors.js';
import { call } from '../helpers/handlers.js';
import { rng } from '../helpers/rng.js';

const MiB = 1n << 20n;
const UA = 0x7fff_0000_0000n;
const LIOBN = 0x8000_0001n;
const ENTRIES = 0x1000;
const CODE = OP_CODES.TCE_PUT_BATCH;
const dispatcher = new Dispatcher(HANDLERS);

const contexts: OpContext[] = [];
afterEach(() => {
  for (const c of contexts.splice(0)) destroyOpContext(c);
});

/** A VM with 64 MiB of RAM and a 64K-page table, linked to a window of group 1 when `linked`. */
function world(linked: boolean, profile: 'linux' | 'strict' = 'linux') {
  const system = createSystem({ topology: DEFAULT_TOPOLOGY, profile });
  const ctx = createOpContext(system, 1, { memlockLimit: null });
  contexts.push(ctx);
  let bus = 0n;
  let container = -1;
  let group = -1;
  if (linked) {
    container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
    group = call(ctx, 'VFIO_GROUP_OPEN', { group: 1 }).fd;
    call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: group, container });
    call(ctx, 'VFIO_SET_IOMMU', { fd: container, type: 7 });
    call(ctx, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: 32n * MiB });
    call(ctx, 'VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n });
    bus = call(ctx, 'VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: 1n << 30n, levels: 2 }).start_addr;
  }
  const vm = call(ctx, 'KVM_CREATE_VM', {}).fd;
  call(ctx, 'KVM_SET_USER_MEMORY_REGION', { fd: vm, slot: 0, guest_phys_addr: 0n, memory_size: 64n * MiB, userspace_addr: UA });
  const table = call(ctx, 'KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: LIOBN, page_shift: 16, offset: bus >> 16n, size: BigInt(ENTRIES) }).fd;
  if (linked) {
    const device = call(ctx, 'KVM_CREATE_DEVICE', { fd: vm, type: 4 }).fd!;
    call(ctx, 'KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 1n, groupfd: group });
    call(ctx, 'KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 3n, groupfd: group, tablefd: table });
  }
  const guest = () => Buffer.from(call(ctx, 'TCE_TABLE_READ', { fd: table, index: 0n, count: ENTRIES }).data).toString('hex');
  return { ctx, vm, table, bus, container, guest };
}

/** What a command produced: the reply bytes, or the errno and message. */
function outcome(run: () => Buffer): string {
  try {
    return `ok ${run().toString('hex')}`;
  } catch (e) {
    if (!isVphbError(e)) throw e;
    return `error ${e.code} ${e.message}`;
  }
}

function randomBatch(r: () => number, w: ReturnType<typeof world>, current: (i: number) => bigint): Uint8Array {
  const n = 1 + Math.floor(r() * (r() < 0.3 ? 40 : 3000));
  const start = Math.floor(r() * (ENTRIES - n));
  const defect = r() < 0.45 ? Math.floor(r() * 10) : -1;
  const extra = defect === 0 ? 8 : defect === 1 ? -8 : 0; // count mismatch
  const p = new Uint8Array(Math.max(0, 32 + n * 8 + extra));
  const dv = new DataView(p.buffer);
  if (p.length < 32) return p;
  dv.setUint32(0, defect === 2 ? 77 : defect === 3 ? w.table : w.vm, true);
  dv.setUint32(4, defect === 4 ? 1 : 0, true);
  dv.setBigUint64(8, defect === 5 ? LIOBN + 1n : LIOBN, true);
  const ioba = w.bus + (BigInt(start) << 16n);
  dv.setBigUint64(16, defect === 6 ? ioba + 0x1000n : defect === 7 ? w.bus + (BigInt(ENTRIES) << 16n) : ioba, true);
  dv.setUint32(24, n, true);
  dv.setUint32(28, defect === 8 ? 1 : 0, true);
  const poison = defect === 9 ? Math.floor(r() * n) : -1;
  for (let i = 0; i < n && 32 + i * 8 + 8 <= p.length; i++) {
    let t: bigint;
    if (i === poison) t = r() < 0.5 ? (64n * MiB) | 1n : 0x12345n; // outside RAM / misaligned
    else if (r() < 0.4) t = current(start + i); // unchanged
    else t = r() < 0.2 ? 0n : (BigInt(Math.floor(r() * 512)) << 16n) | BigInt(1 + Math.floor(r() * 3));
    dv.setBigUint64(32 + i * 8, t, true);
  }
  return p;
}

function piecesOf(r: () => number, p: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < p.length;) {
    const n = Math.min(p.length - at, 1 + Math.floor(r() * (r() < 0.3 ? 20 : 9000)));
    const pad = Math.floor(r() * 8);
    const buf = new Uint8Array(pad + n);
    buf.set(p.subarray(at, at + n), pad);
    out.push(buf.subarray(pad));
    at += n;
  }
  return out;
}

describe('streamed TCE_PUT_BATCH = execute on the assembled payload', () => {
  for (const linked of [false, true]) {
    it(linked ? 'linked to one hardware window' : 'unlinked', () => {
      const r = rng(linked ? 11 : 7);
      const a = world(linked);
      const b = world(linked);
      const seen = new Set<string>();
      for (let k = 0; k < 60; k++) {
        const table = new DataView(Buffer.from(a.guest(), 'hex').buffer);
        const current = (i: number) => table.getBigUint64(i * 8, true);
        const payload = randomBatch(r, a, current);
        const want = outcome(() => {
          const out = dispatcher.execute(a.ctx, CODE, payload);
          return out instanceof PendingReply ? out.finish() : out;
        });
        const s = dispatcher.stream(b.ctx, CODE, payload.length)!;
        for (const piece of piecesOf(r, payload)) s.data(piece);
        const got = outcome(() => s.end());
        expect(got).toBe(want);
        expect(b.guest()).toBe(a.guest());
        seen.add(want.slice(0, 12));
      }
      expect(seen.size).toBeGreaterThan(2); // successes, H_ errors and errnos all occurred
    });
  }

  it('identical rewrites through the stream keep the reference counts exact', () => {
    // strict: an UNREGISTER while mapped is EBUSY (under linux it succeeds and leaves the region pinned).
    const w = world(true, 'strict');
    const p = new Uint8Array(32 + 2048 * 8);
    const dv = new DataView(p.buffer);
    dv.setUint32(0, w.vm, true);
    dv.setBigUint64(8, LIOBN, true);
    dv.setBigUint64(16, w.bus, true);
    dv.setUint32(24, 2048, true);
    for (let i = 0; i < 2048; i++) dv.setBigUint64(32 + i * 8, (BigInt(i % 512) << 16n) | 3n, true); // inside the 32 MiB preregistered
    for (let round = 0; round < 3; round++) {
      const s = dispatcher.stream(w.ctx, CODE, p.length)!;
      s.data(p.subarray(0, 5000));
      s.data(p.subarray(5000));
      const reply = s.end().toString('hex');
      expect(reply).toBe(dispatcher.execute(w.ctx, CODE, p).toString('hex'));
      expect(reply).toBe(Buffer.from([0x82, 0xa3, 0x72, 0x65, 0x74, 0x00, 0xa7, ...Buffer.from('written'), 0xcd, 0x08, 0x00]).toString('hex')); // {ret: 0, written: 2048}
    }
    expect(errno(() => call(w.ctx, 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: w.container, vaddr: UA, size: 32n * MiB }))).toBe('EBUSY');
    p.fill(0, 32);
    const clear = dispatcher.stream(w.ctx, CODE, p.length)!;
    clear.data(p.subarray(0, 7));
    clear.data(p.subarray(7));
    clear.end();
    call(w.ctx, 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: w.container, vaddr: UA, size: 32n * MiB }); // all references gone
  });

  it('only TCE_PUT_BATCH streams', () => {
    const w = world(false);
    expect(dispatcher.stream(w.ctx, OP_CODES.PING, 100)).toBeUndefined();
    expect(dispatcher.stream(w.ctx, 9999, 100)).toBeUndefined();
  });
});
