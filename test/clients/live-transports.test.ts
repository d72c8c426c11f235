/** The TypeScript client against a live server on each transport. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { VPHB_VERSION } from '../../src/server/version.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ tcp: true, ws: true });
});
afterAll(() => ts.close());

const targets = (): [string, string][] => [
  ['unix', ts.socketPath],
  ['tcp', `tcp://${ts.tcp!.host}:${ts.tcp!.port}`],
  ['ws', `ws://${ts.ws!.host}:${ts.ws!.port}`],
];

describe.each(['unix', 'tcp', 'ws'])('client over %s', (kind) => {
  const target = (): string => targets().find(([k]) => k === kind)![1];

  it('handshakes, pings, reads the topology and gets errnos', async () => {
    const c = await ts.connect(target(), { token: ts.token });
    expect(c.serverInfo).toMatchObject({ major: 1, minor: 0, server: `vphb ${VPHB_VERSION}` });
    expect(c.transport).toBe(kind);
    expect(Buffer.from((await c.ping(Buffer.from('x'))).data!).toString()).toBe('x');
    const topo = await c.topology();
    expect(topo.phbs[0]!.window_starts).toEqual([0n, 1n << 59n]);
    expect(topo.phbs[0]!.groups[0]).toMatchObject({ group: 1, pe: 1, devices: ['0000:01:00.0', '0000:01:00.1'] });
    expect(topo.phbs[0]!.groups[0]!.functions[0]).toEqual({
      address: '0000:01:00.0', model: 'nvme', vendor_id: 0x1b36, device_id: 0x0010, class_code: 0x010802, config_size: 4096,
      bars: [{ index: 0, kind: 'mem64', size: 0x4000n, prefetchable: false }],
    });
    await expect(c.close(77)).rejects.toMatchObject({ code: 'EBADF', errno: 9 });
    // 2,000 pipelined calls, ids wrapping is covered elsewhere; here every reply must match its call.
    const replies = await Promise.all(Array.from({ length: 2000 }, (_, i) => c.ping(Buffer.from(String(i)))));
    expect(replies.every((r, i) => Buffer.from(r.data!).toString() === String(i))).toBe(true);
    await c.end();
  });

  it('large replies (a 1 MiB table read) arrive whole, between small ones, in order', async () => {
    const c = await ts.connect(target(), { token: ts.token });
    const vm = (await c.kvmCreateVm()).fd;
    await c.kvmSetUserMemoryRegion({ fd: vm, slot: 0, guest_phys_addr: 0n, memory_size: 1n << 30n, userspace_addr: 1n << 40n });
    const table = (await c.kvmCreateSpaprTce64({ fd: vm, liobn: 7n, page_shift: 12, offset: 0n, size: 1n << 17n })).fd;
    const tces = new BigUint64Array(1 << 17).map((_, i) => (BigInt(i) << 12n) | 3n);
    expect(await c.tcePutBatch(vm, 7n, 0n, tces)).toEqual({ ret: 0, written: 1 << 17 });
    const [before, read, after] = await Promise.all([
      c.ping(Buffer.from('a')),
      c.tceTableRead({ fd: table, index: 0n, count: 1 << 17 }),
      c.ping(Buffer.from('b')),
    ]);
    expect(Buffer.from(before.data!).toString() + Buffer.from(after.data!).toString()).toBe('ab');
    expect(read.data.byteLength).toBe(8 << 17);
    expect(Buffer.from(read.data).equals(Buffer.from(tces.buffer))).toBe(true);
    await c.end();
  });
});

describe.each(['tcp', 'ws'])('token over %s', (kind) => {
  it('a wrong token is EACCES', async () => {
    const target = targets().find(([k]) => k === kind)![1];
    await expect(ts.connect(target, { token: 'wrong' })).rejects.toMatchObject({ code: 'EACCES' });
  });
});
