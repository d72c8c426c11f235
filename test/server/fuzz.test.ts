/**
 * Random commands, well framed but with random fields, against a live server: every reply is
 * either a success or a kernel errno — never EIO (an internal error, i.e. a vphb bug) — and the
 * server keeps serving. Deterministic (seeded) and bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRNO, errnoName } from '../../src/wire/errno.js';
import { OPS, type FieldSpec } from '../../src/wire/ops.generated.js';
import { RawConnection, frame, versionFrame } from '../helpers/raw.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ memlockLimit: 1n << 30n });
});
afterAll(() => ts.close());

/** xorshift32: reproducible randomness. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

const UA = 0x7fff_0000_0000n;
const BUS = 1n << 59n;
/** Addresses near the live objects the setup creates: guest RAM, its user address, the window. */
const NEAR = (r: () => number): bigint => {
  const page = BigInt(Math.floor(r() * 0x400)) << 16n;
  return pick(r, [UA + page, BUS + page, page | 3n, page | 1n, page | 2n, page, UA + page + 0x1000n]);
};
const INTERESTING_U64 = [0n, 1n, 0xfffn, 0x1000n, 0x10000n, 1n << 21n, 1n << 30n, 0x8000_0000n, 1n << 32n, 1n << 40n,
  1n << 52n, 1n << 59n, (1n << 63n) + 1n, (1n << 64n) - 1n, 0x7fff_0000_0000n, 0x7fff_0001_0003n];
const INTERESTING_U32 = [0, 1, 2, 3, 4, 7, 12, 16, 21, 24, 34, 35, 55, 63, 94, 104, 125, 142, 0x13c, 0x138, 0xffff_ffff];

function fieldValue(r: () => number, f: FieldSpec): unknown {
  if (r() < 0.04) return pick(r, ['x', -1, 1.5, null, [1], { a: 1 }, new Uint8Array(3)]);
  // Plausible values by field name, so that calls get past the first checks.
  if (r() < 0.7) {
    switch (f.name) {
      case 'flags': return Math.floor(r() * 4);
      case 'size': case 'window_size': return pick(r, [0x10000n, 0x20000n, 1n << 20n, 1n << 24n, 1n << 30n, 1n << 32n, 0x1000n]);
      case 'iova': case 'ioba': case 'start_addr': return BUS + (BigInt(Math.floor(r() * 0x400)) << 16n);
      case 'vaddr': case 'userspace_addr': return UA + (BigInt(Math.floor(r() * 0x400)) << 16n);
      case 'page_shift': return pick(r, [12, 16, 21, 24, 30]);
      case 'levels': return 1 + Math.floor(r() * 5);
      case 'count': return Math.floor(r() * 16);
      case 'index': return BigInt(Math.floor(r() * 0x2000));
      case 'npages': return BigInt(Math.floor(r() * 8));
      default: break;
    }
  }
  switch (f.type) {
    case 'fd': return Math.floor(r() * 10) - (r() < 0.05 ? 3 : 0);
    case 'u16': return Math.floor(r() * 3);
    case 'u32': case 's32': return pick(r, INTERESTING_U32);
    case 'u64': {
      const x = r();
      return x < 0.4 ? NEAR(r) : x < 0.8 ? pick(r, INTERESTING_U64) : BigInt(Math.floor(r() * 2 ** 48)) << BigInt(Math.floor(r() * 16));
    }
    case 'u64[]': return Array.from({ length: Math.floor(r() * 6) }, () => (r() < 0.6 ? NEAR(r) : pick(r, INTERESTING_U64)));
    case 'str': return pick(r, ['0000:01:00.0', '0000:02:00.0', 'read', 'write', 'bogus', '']);
    case 'bin': return new Uint8Array(Math.floor(r() * 64)).map(() => Math.floor(r() * 256));
    default: return null;
  }
}

const LIOBN = 0x8000_0001n;

/**
 * A valid VFIO + KVM setup, so that fds 0-4 are live objects (container, group, VM, table, KVM
 * VFIO device) and random commands reach the deep checks, not only the first ones.
 */
function setupFrames(group: number): Buffer[] {
  let id = 60000;
  const f = (op: Parameters<typeof frame>[0], p: unknown): Buffer => frame(op, p, id++);
  return [
    f('VFIO_OPEN_CONTAINER', {}),
    f('VFIO_GROUP_OPEN', { group }),
    f('VFIO_GROUP_SET_CONTAINER', { fd: 1, container: 0 }),
    f('VFIO_SET_IOMMU', { fd: 0, type: 7 }),
    f('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: 0, vaddr: UA, size: 64n << 20n }),
    f('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: 0, page_shift: 16, window_size: 1n << 32n, levels: 2 }),
    f('KVM_CREATE_VM', {}),
    f('KVM_SET_USER_MEMORY_REGION', { fd: 2, slot: 0, guest_phys_addr: 0n, memory_size: 64n << 20n, userspace_addr: UA }),
    f('KVM_CREATE_SPAPR_TCE_64', { fd: 2, liobn: LIOBN, page_shift: 16, offset: BUS >> 16n, size: 1n << 16n }),
    f('KVM_CREATE_DEVICE', { fd: 2, type: 4 }),
    f('KVM_SET_DEVICE_ATTR', { fd: 4, group: 1, attr: 1n, groupfd: 1 }),
    f('KVM_SET_DEVICE_ATTR', { fd: 4, group: 1, attr: 3n, groupfd: 1, tablefd: 3 }),
    f('KVM_ENABLE_CAP', { fd: 2, cap: 104, args: [0x13cn, 1n, 0n, 0n] }),
  ];
}

function randomPayload(r: () => number, op: (typeof OPS)[number]): unknown {
  if (op.payload === 'raw') {
    const count = Math.floor(r() * 8);
    const b = Buffer.alloc(32 + 8 * count + (r() < 0.1 ? 3 : 0));
    b.writeUInt32LE(Math.floor(r() * 10), 0);
    b.writeUInt32LE(r() < 0.9 ? 0 : 1, 4);
    b.writeBigUInt64LE(r() < 0.7 ? LIOBN : pick(r, INTERESTING_U64), 8);
    b.writeBigUInt64LE(r() < 0.7 ? NEAR(r) : pick(r, INTERESTING_U64), 16);
    b.writeUInt32LE(r() < 0.9 ? count : count + 1, 24);
    for (let i = 0; i < count; i++) b.writeBigUInt64LE(r() < 0.7 ? NEAR(r) : pick(r, INTERESTING_U64), 32 + 8 * i);
    return b;
  }
  const out: Record<string, unknown> = {};
  for (const f of op.request) if (!(f.optional === true && r() < 0.3) && r() > 0.03) out[f.name] = fieldValue(r, f);
  if (r() < 0.03) out.bogus = 1;
  if (op.name.startsWith('H_') && r() < 0.7) out.liobn = LIOBN;
  return out;
}

describe('fuzz', () => {
  it.each([1, 2, 3, 4])('seed %i: 3,000 random commands, no internal error, server still serves', async (seed) => {
    const r = rng(seed * 7919);
    const ops = OPS.filter((o) => o.name !== 'VERSION');
    const c = await RawConnection.open(ts.socketPath);
    c.write(versionFrame(0));
    const setup = setupFrames(seed);
    c.write(Buffer.concat(setup));
    const ready = await c.waitFrames(1 + setup.length);
    expect(ready.map((f) => f.header.error)).toEqual(new Array(1 + setup.length).fill(0));
    c.frames.length = 0;
    const frames: Buffer[] = [];
    const sent: string[] = [];
    for (let i = 1; i <= 3000; i++) {
      // Bias towards ops that create handles, so later fds refer to real objects.
      let op = r() < 0.25 ? pick(r, ops.filter((o) => /OPEN|CREATE|SET_CONTAINER|SET_IOMMU|REGISTER|MEMORY_REGION/.test(o.name))) : pick(r, ops);
      // Teardown ops rarely, so the live objects of the setup are exercised before they go.
      if (/CLOSE|UNSET_CONTAINER|TCE_REMOVE|UNREGISTER/.test(op.name) && r() < 0.8) op = pick(r, ops.filter((o) => /H_|MAP_DMA|TRANSLATE|TCE_TABLE|BATCH/.test(o.name)));
      frames.push(frame(op.name, randomPayload(r, op), i & 0xffff));
      sent.push(op.name);
    }
    c.write(Buffer.concat(frames));
    const replies = await c.waitFrames(3000, 30_000);
    const internal = replies.filter((f) => f.header.error === ERRNO.EIO).map((f) => `${sent[f.header.msgId - 1]}: ${JSON.stringify(f.payload)}`);
    expect(internal).toEqual([]);
    // Every errno an op returns is in its ops.json list or one every op may return (PROTOCOL.md §4).
    const common = new Set(['EINVAL', 'EBADF', 'ENOTTY', 'EMSGSIZE']);
    const unlisted = new Set<string>();
    for (const f of replies) {
      if (f.header.error === 0) continue;
      const op = OPS.find((o) => o.code === f.header.command)!;
      const name = errnoName(f.header.error);
      if (!common.has(name) && !op.errors.includes(name)) unlisted.add(`${op.name}: ${name}`);
    }
    expect([...unlisted].sort()).toEqual([]);
    const errnos = new Set(replies.map((f) => f.header.error));
    expect(errnos.size).toBeGreaterThan(3); // the fuzz does reach many different checks
    c.destroy();
    // The server is unharmed and every group is free again once the fuzzing client is gone.
    const probe = await ts.connect();
    expect(await probe.ping(new Uint8Array([7]))).toMatchObject({ data: expect.anything() });
    await new Promise((res) => setTimeout(res, 50));
    for (const g of [1, 2, 3, 4, 5, 6]) await probe.close((await probe.vfioGroupOpen(g)).fd);
    await probe.end();
  }, 60_000);
});
