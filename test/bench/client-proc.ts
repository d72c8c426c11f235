/** Benchmark process: one client case (argv[2] = JSON ClientArgs); reports a CaseResult over IPC. */
import { connect, type Socket } from 'node:net';
import { Client } from '../../clients/ts/index.js';
import { HIST_BUCKETS, frameBytes, histAdd, send, type CaseResult, type ClientArgs } from './common.js';

const args = JSON.parse(process.argv[2]!) as ClientArgs;
const WARMUP_MS = 300;
const TABLE_ENTRIES = 1 << 20;
const UA = 0x7fff_0000_0000n;
const RAM = 4n << 30n;
const LIOBN = 0x8000_0001n;

function tceArray(n: number): BigUint64Array {
  const a = new BigUint64Array(n);
  for (let i = 0; i < n; i++) a[i] = (BigInt(i % 65536) << 16n) | 3n;
  return a;
}

async function open(path: string): Promise<Socket> {
  const sock = connect(path);
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return sock;
}

/** Rounds of 32 MiB in `writeSize` writes to a bulk peer (round protocol: see peer-server.ts). */
async function bulk(): Promise<CaseResult> {
  const chunk = Buffer.alloc(args.writeSize, 0x5a);
  const sock = await open(args.socket);
  const acks: (() => void)[] = [];
  sock.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length; i++) acks.shift()?.();
  });
  const writes = Math.max(1, Math.floor((32 << 20) / chunk.length));
  const roundBytes = writes * chunk.length;
  const round = async () => {
    const total = Buffer.alloc(8);
    total.writeBigUInt64LE(BigInt(roundBytes));
    const acked = new Promise<void>((r) => acks.push(r));
    sock.write(total);
    for (let i = 0; i < writes; i++) {
      if (!sock.write(chunk)) await new Promise<void>((r) => sock.once('drain', () => r()));
    }
    await acked;
  };
  const warmEnd = performance.now() + WARMUP_MS;
  let all = 0;
  while (performance.now() < warmEnd) {
    await round();
    all++;
  }
  let rounds = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < args.durationMs) {
    await round();
    rounds++;
  }
  const secs = (performance.now() - t0) / 1000;
  sock.destroy();
  all += rounds;
  return { bytesPerSec: (rounds * roundBytes) / secs, opsPerSec: (rounds * writes) / secs, totalBytes: all * roundBytes, totalOps: all * writes };
}

/** Node's echo floor: `window` messages of `msgBytes` in flight, the next sent as one comes back. */
async function echo(): Promise<CaseResult> {
  const size = args.msgBytes;
  const sock = await open(args.socket);
  const msgs = Buffer.alloc(size * args.window, 0x33);
  const sentAt = new Float64Array(args.window);
  const hist = new Float64Array(HIST_BUCKETS);
  let received = 0; // bytes
  let next = 0; // message sequence
  let measuring = false;
  let count = 0;
  let all = 0;
  let t0 = 0;
  let end = performance.now() + WARMUP_MS;
  return new Promise((resolve) => {
    sock.on('data', (d: Buffer) => {
      received += d.length;
      const now = performance.now();
      let n = 0;
      while (received >= size) {
        received -= size;
        all++;
        const slot = (next - args.window + n) % args.window;
        if (measuring) {
          count++;
          histAdd(hist, (now - sentAt[slot < 0 ? slot + args.window : slot]!) * 1000);
        }
        n++;
      }
      if (now >= end) {
        if (measuring) {
          const secs = (now - t0) / 1000;
          sock.destroy();
          resolve({ bytesPerSec: (count * size) / secs, opsPerSec: count / secs, totalBytes: all * size, totalOps: all, hist: Array.from(hist) });
          return;
        }
        measuring = true;
        t0 = now;
        end = now + args.durationMs;
      }
      for (let k = 0; k < n; k++) sentAt[(next + k) % args.window] = now;
      next += n;
      if (n > 0) sock.write(msgs.subarray(0, n * size));
    });
    for (let k = 0; k < args.window; k++) sentAt[k] = performance.now();
    next = args.window;
    sock.write(msgs);
  });
}

async function setupVm(c: Client, linked: boolean, group = 1): Promise<{ vm: number; bus: bigint }> {
  let bus = 0n;
  let groupFd = -1;
  if (linked) {
    const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
    // The previous case's connection may still be closing on the server: retry EBUSY briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        groupFd = (await c.call('VFIO_GROUP_OPEN', { group })).fd;
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EBUSY' || attempt > 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await c.call('VFIO_GROUP_SET_CONTAINER', { fd: groupFd, container });
    await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
    await c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: RAM });
    await c.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n });
    bus = (await c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: BigInt(TABLE_ENTRIES) << 16n, levels: 2 })).start_addr;
  }
  const vm = (await c.call('KVM_CREATE_VM', {})).fd;
  await c.call('KVM_SET_USER_MEMORY_REGION', { fd: vm, slot: 0, guest_phys_addr: 0n, memory_size: RAM, userspace_addr: UA });
  const table = (await c.call('KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: LIOBN, page_shift: 16, offset: bus >> 16n, size: BigInt(TABLE_ENTRIES) })).fd;
  if (linked) {
    const device = (await c.call('KVM_CREATE_DEVICE', { fd: vm, type: 4 })).fd!;
    await c.call('KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 1n, groupfd: groupFd });
    await c.call('KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 3n, groupfd: groupFd, tablefd: table });
  }
  return { vm, bus };
}

/** Keeps `window` promise-returning calls in flight for the warm-up then the measured time. */
async function pump(window: number, one: (i: number) => Promise<unknown>, hist: Float64Array): Promise<{ count: number; secs: number; all: number }> {
  let i = 0;
  let measuring = false;
  let count = 0;
  let all = 0;
  const end = { at: performance.now() + WARMUP_MS };
  let t0 = 0;
  const worker = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= end.at) {
        if (measuring) return;
        measuring = true;
        t0 = now;
        end.at = now + args.durationMs;
      }
      const started = performance.now();
      const wasMeasuring = measuring;
      await one(i++);
      all++;
      if (wasMeasuring) {
        count++;
        histAdd(hist, (performance.now() - started) * 1000);
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return { count, secs: (performance.now() - t0) / 1000, all };
}

async function batch(linked: boolean): Promise<CaseResult> {
  const c = await Client.connect(args.socket, { name: 'bench' });
  const { vm, bus } = await setupVm(c, linked);
  const tces = tceArray(args.entries);
  const slots = Math.max(1, Math.floor(TABLE_ENTRIES / args.entries));
  const hist = new Float64Array(HIST_BUCKETS);
  const r = await pump(args.window, async (i) => {
    const ioba = bus + (BigInt((i % slots) * args.entries) << 16n);
    const rep = await c.tcePutBatch(vm, LIOBN, ioba, tces);
    if (rep.ret !== 0 || rep.written !== args.entries) throw new Error(`batch ret ${rep.ret} written ${rep.written}`);
  }, hist);
  c.destroy();
  return {
    bytesPerSec: (r.count * frameBytes(args.entries)) / r.secs,
    opsPerSec: r.count / r.secs,
    entriesPerSec: (r.count * args.entries) / r.secs,
    totalBytes: r.all * frameBytes(args.entries),
    totalOps: r.all,
    hist: Array.from(hist),
  };
}

/** One connection's H_PUT_TCE loop; resolves with its count once `state.end` has passed. */
async function hputConnection(state: { measuring: boolean; endAt: number; t0: number; all: number }, hist: Float64Array, setUp: () => Promise<void>): Promise<number> {
  const c = await Client.connect(args.socket, { name: 'bench' });
  const { vm, bus } = await setupVm(c, false);
  await setUp();
  const busPage = Number(bus >> 16n);
  let count = 0;
  if (args.api === 'promise') {
    let i = 0;
    const worker = async () => {
      while (performance.now() < state.endAt || !state.measuring) {
        const k = i++ % 65536;
        const started = performance.now();
        const was = state.measuring;
        const rep = await c.call('H_PUT_TCE', { fd: vm, liobn: LIOBN, ioba: bus + (BigInt(k) << 16n), tce: (BigInt(k) << 16n) | 3n });
        if (rep.ret !== 0) throw new Error(`H_PUT_TCE ret ${rep.ret}`);
        state.all++;
        if (was && state.measuring) {
          count++;
          histAdd(hist, (performance.now() - started) * 1000);
        }
      }
    };
    await Promise.all(Array.from({ length: args.window }, worker));
  } else {
    // The pipelined channel: no promise or closure per call, numbers that are already wire-safe.
    const sentAt = new Float64Array(args.window);
    let i = 0;
    await new Promise<void>((resolve, reject) => {
      let live = args.window;
      const ch = c.hcalls(vm, (tag, ret, err) => {
        if (err !== undefined || ret !== 0) return reject(err ?? new Error(`H_PUT_TCE ret ${ret}`));
        const now = performance.now();
        state.all++;
        if (state.measuring && sentAt[tag]! >= state.t0) {
          count++;
          histAdd(hist, (now - sentAt[tag]!) * 1000);
        }
        if (state.measuring && now >= state.endAt) {
          if (--live === 0) resolve();
          return;
        }
        issue(tag, now);
      });
      const issue = (tag: number, now: number) => {
        const k = i++ % 65536;
        sentAt[tag] = now;
        ch.putTce(LIOBN, (busPage + k) * 65536, k * 65536 + 3, tag);
      };
      for (let t = 0; t < args.window; t++) issue(t, performance.now());
    });
  }
  c.destroy();
  return count;
}

async function hput(): Promise<CaseResult> {
  const hist = new Float64Array(HIST_BUCKETS);
  const state = { measuring: false, endAt: Infinity, t0: Infinity, all: 0 };
  // Every connection (of every process of the case) is set up first; the runner then says `go`
  // to all processes at once: one shared warm-up and measuring window.
  let ready = 0;
  let allReady!: () => void;
  const readyAll = new Promise<void>((r) => (allReady = r));
  const go = readyAll.then(() => {
    send({ ready: true });
    return new Promise<void>((r) => process.once('message', () => r()));
  });
  const conns = Array.from({ length: args.connections }, () =>
    hputConnection(state, hist, () => {
      if (++ready === args.connections) allReady();
      return go;
    }));
  await go;
  state.endAt = performance.now() + WARMUP_MS;
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  state.t0 = performance.now();
  state.measuring = true;
  state.endAt = state.t0 + args.durationMs;
  const counts = await Promise.all(conns);
  const secs = (performance.now() - state.t0) / 1000;
  const total = counts.reduce((a, b) => a + b, 0);
  return { bytesPerSec: 0, opsPerSec: total / secs, totalOps: state.all, hist: Array.from(hist) };
}

const result =
  args.kind === 'bulk' ? await bulk()
  : args.kind === 'echo' ? await echo()
  : args.kind === 'batch-unlinked' ? await batch(false)
  : args.kind === 'batch-linked' ? await batch(true)
  : await hput();
send({ result });
// Leave on our own once the report is out (an explicit exit could drop it, or a --cpu-prof file).
process.disconnect?.();
setTimeout(() => process.exit(0), 5000).unref();
