/**
 * Large TCE_PUT_BATCH frames over a UNIX socket (they span socket chunks, so the server streams
 * them): contents, failures that change nothing, error frames, and ordering with the
 * commands around them. Also the TS client's pipelined hcall channel against the same server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../clients/ts/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MiB = 1n << 20n;
const UA = 0x7fff_0000_0000n;
const LIOBN = 0x8000_0001n;
const N = 65536; // 512 KiB of entries: many socket chunks

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ memlockLimit: null });
});
afterAll(async () => {
  await ts.close();
});

async function vmWithTable(c: Client, linkGroup?: number) {
  let bus = 0n;
  let group = -1;
  if (linkGroup !== undefined) {
    const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
    group = (await c.call('VFIO_GROUP_OPEN', { group: linkGroup })).fd;
    await c.call('VFIO_GROUP_SET_CONTAINER', { fd: group, container });
    await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
    await c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: 4096n * MiB });
    await c.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n });
    bus = (await c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: 1n << 34n, levels: 2 })).start_addr;
  }
  const vm = (await c.call('KVM_CREATE_VM', {})).fd;
  await c.call('KVM_SET_USER_MEMORY_REGION', { fd: vm, slot: 0, guest_phys_addr: 0n, memory_size: 4096n * MiB, userspace_addr: UA });
  const table = (await c.call('KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: LIOBN, page_shift: 16, offset: bus >> 16n, size: 1n << 18n })).fd;
  if (linkGroup !== undefined) {
    const device = (await c.call('KVM_CREATE_DEVICE', { fd: vm, type: 4 })).fd!;
    await c.call('KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 1n, groupfd: group });
    await c.call('KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 3n, groupfd: group, tablefd: table });
  }
  const read = async (index: number, count: number) => Buffer.from((await c.call('TCE_TABLE_READ', { fd: table, index: BigInt(index), count })).data);
  return { vm, table, bus, group, read };
}

function entries(n: number, seed: number): BigUint64Array {
  const t = new BigUint64Array(n);
  for (let i = 0; i < n; i++) t[i] = (BigInt((i * 7 + seed) % 65536) << 16n) | BigInt(1 + ((i + seed) % 3));
  return t;
}

describe('large TCE_PUT_BATCH over a socket', () => {
  for (const linked of [false, true]) {
    it(`${linked ? 'linked' : 'unlinked'}: stored exactly; a bad last entry changes nothing`, async () => {
      const c = await ts.connect();
      const s = await vmWithTable(c, linked ? 1 : undefined);
      const a = entries(N, 1);
      expect(await c.tcePutBatch(s.vm, LIOBN, s.bus + (5n << 16n), a)).toEqual({ ret: 0, written: N });
      const bytes = (t: BigUint64Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
      expect((await s.read(5, N)).equals(bytes(a))).toBe(true);
      expect((await s.read(0, 5)).equals(Buffer.alloc(40))).toBe(true);
      if (linked) {
        const at = await c.call('IOMMU_TRANSLATE', { fd: s.group, iova: s.bus + ((5n + BigInt(N) - 1n) << 16n), access: 'read' });
        expect(at.addr).toBe(UA + (a[N - 1]! & ~0xffffn));
      }
      const b = entries(N, 2);
      b[N - 1] = (8192n * MiB) | 1n; // outside guest RAM: pass 1 fails, nothing is written
      expect(await c.tcePutBatch(s.vm, LIOBN, s.bus + (5n << 16n), b)).toEqual({ ret: 9999, written: 0 });
      expect((await s.read(5, N)).equals(bytes(a))).toBe(true);
      await c.end();
    });
  }

  it('error frames and ordering around streamed frames', async () => {
    const c = await ts.connect();
    const s = await vmWithTable(c);
    const a = entries(N, 3);
    const results = await Promise.all([
      c.tcePutBatch(99, LIOBN, s.bus, a).catch((e: { code: string }) => e.code),
      c.tcePutBatch(s.vm, LIOBN, s.bus, a, 4).catch((e: { code: string }) => e.code),
      c.tcePutBatch(s.vm, LIOBN + 1n, s.bus, a),
      c.tcePutBatch(s.vm, LIOBN, s.bus + 0x100n, a),
      c.call('H_GET_TCE', { fd: s.vm, liobn: LIOBN, ioba: s.bus }), // table still empty
      c.tcePutBatch(s.vm, LIOBN, s.bus, a),
      c.call('H_GET_TCE', { fd: s.vm, liobn: LIOBN, ioba: s.bus + ((BigInt(N) - 1n) << 16n) }),
    ]);
    expect(results).toEqual(['EBADF', 'EINVAL', { ret: 9999, written: 0 }, { ret: -4 /* H_PARAMETER */, written: 0 }, { ret: 0, tce: 0n }, { ret: 0, written: N }, { ret: 0, tce: a[N - 1] }]);
    await c.end();
  });
});

describe('TS client hcall channel', () => {
  it('pipelines H_PUT_TCE / H_STUFF_TCE without promises; replies carry the tag; errors and close reach the handler', async () => {
    const c = await ts.connect();
    const s = await vmWithTable(c);
    await c.call('KVM_ENABLE_CAP', { fd: s.vm, cap: 104, args: [0x138n, 1n] }); // H_STUFF_TCE on
    const replies: [number, number, string | undefined][] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const ch = c.hcalls(s.vm, (tag, ret, err) => {
      replies.push([tag, ret, err?.code]);
      if (replies.length === 6) done();
    });
    const busPage = Number(s.bus >> 16n);
    ch.putTce(LIOBN, busPage * 65536, 0x30000 + 3, 1); // numbers
    ch.putTce(LIOBN, s.bus + (1n << 16n), (0x40000n << 4n) | 1n, 2); // bigints
    ch.putTce(LIOBN, s.bus + 0x100n, 3, 3); // unaligned ioba: H_PARAMETER
    ch.putTce(LIOBN + 7n, s.bus, 3, 4); // unknown LIOBN: H_TOO_HARD
    ch.stuffTce(LIOBN, s.bus + (1n << 16n), 0, 1, 5);
    c.hcalls(42, (tag, ret, err) => { replies.push([tag, ret, err?.code]); if (replies.length === 6) done(); }).putTce(LIOBN, 0, 0, 6); // EBADF
    expect(c.inflight).toBe(6);
    await all;
    expect(replies).toEqual([[1, 0, undefined], [2, 0, undefined], [3, -4, undefined], [4, 9999, undefined], [5, 0, undefined], [6, -1, 'EBADF']]);
    expect(await c.call('H_GET_TCE', { fd: s.vm, liobn: LIOBN, ioba: s.bus })).toEqual({ ret: 0, tce: 0x30003n });
    expect(await c.call('H_GET_TCE', { fd: s.vm, liobn: LIOBN, ioba: s.bus + (1n << 16n) })).toEqual({ ret: 0, tce: 0n });
    expect(() => ch.putTce(-1, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => ch.putTce(2 ** 53, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => ch.putTce(1n << 64n, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    // In flight at a drop: the handler hears ECONNRESET; afterwards calls throw ENOTCONN.
    const lost: (string | undefined)[] = [];
    const ch2 = c.hcalls(s.vm, (_tag, _ret, err) => lost.push(err?.code));
    ch2.putTce(LIOBN, s.bus, 0, 1);
    c.destroy();
    await c.closed;
    expect(lost).toEqual(['ECONNRESET']);
    expect(() => ch2.putTce(LIOBN, s.bus, 0, 1)).toThrow(expect.objectContaining({ code: 'ENOTCONN' }));
  });

  it('keeps call order with promise calls on the same connection', async () => {
    const c = await ts.connect();
    const s = await vmWithTable(c);
    const rets: number[] = [];
    const ch = c.hcalls(s.vm, (_tag, ret) => rets.push(ret));
    ch.putTce(LIOBN, s.bus, 0x10003, 1);
    const got = c.call('H_GET_TCE', { fd: s.vm, liobn: LIOBN, ioba: s.bus }).then((r) => r.tce);
    ch.putTce(LIOBN, s.bus, 0x20003, 2);
    const got2 = c.call('H_GET_TCE', { fd: s.vm, liobn: LIOBN, ioba: s.bus }).then((r) => r.tce);
    // The server ran them in call order: each get sees the put issued before it.
    expect([await got, await got2]).toEqual([0x10003n, 0x20003n]);
    expect(rets).toEqual([0, 0]);
    await c.end();
  });
});
