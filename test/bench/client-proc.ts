/** Benchmark process: one client case (argv[2] = JSON ClientArgs); reports a CaseResult over IPC. */
import { connect } from 'node:net';
import { Client } from '../../clients/ts/index.js';
import { frameBytes, percentile, send, type CaseResult, type ClientArgs } from './common.js';

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

async function baseline(): Promise<CaseResult> {
  const frame = Buffer.alloc(frameBytes(args.entries));
  Buffer.from(tceArray(args.entries).buffer).copy(frame, 48);
  const sock = connect(args.socket);
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const acks: (() => void)[] = [];
  sock.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length; i++) acks.shift()?.();
  });
  const framesPerRound = Math.max(1, Math.floor((32 << 20) / frame.length));
  const round = async () => {
    const total = Buffer.alloc(8);
    total.writeBigUInt64LE(BigInt(framesPerRound * frame.length));
    const acked = new Promise<void>((r) => acks.push(r));
    sock.write(total);
    for (let i = 0; i < framesPerRound; i++) {
      if (!sock.write(frame)) await new Promise<void>((r) => sock.once('drain', () => r()));
    }
    await acked;
  };
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) await round();
  let frames = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < args.durationMs) {
    await round();
    frames += framesPerRound;
  }
  const secs = (performance.now() - t0) / 1000;
  sock.destroy();
  const bytesPerSec = (frames * frame.length) / secs;
  return { bytesPerSec, opsPerSec: frames / secs, entriesPerSec: (frames * args.entries) / secs };
}

async function setupVm(c: Client, linked: boolean): Promise<{ vm: number; bus: bigint }> {
  let bus = 0n;
  let group = -1;
  if (linked) {
    const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
    // The previous case's connection may still be closing on the server: retry EBUSY briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        group = (await c.call('VFIO_GROUP_OPEN', { group: 1 })).fd;
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EBUSY' || attempt > 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await c.call('VFIO_GROUP_SET_CONTAINER', { fd: group, container });
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
    await c.call('KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 1n, groupfd: group });
    await c.call('KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 3n, groupfd: group, tablefd: table });
  }
  return { vm, bus };
}

/** Keeps `window` calls in flight for the warm-up then the measured time; returns latencies (µs). */
async function pump(window: number, one: (i: number) => Promise<unknown>): Promise<{ count: number; secs: number; lat: Float64Array }> {
  let i = 0;
  let measuring = false;
  let count = 0;
  const lat: number[] = [];
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
      if (wasMeasuring) {
        count++;
        lat.push((performance.now() - started) * 1000);
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const secs = (performance.now() - t0) / 1000;
  return { count, secs, lat: Float64Array.from(lat).sort() };
}

async function batch(linked: boolean): Promise<CaseResult> {
  const c = await Client.connect(args.socket, { name: 'bench' });
  const { vm, bus } = await setupVm(c, linked);
  const tces = tceArray(args.entries);
  const slots = Math.max(1, Math.floor(TABLE_ENTRIES / args.entries));
  const r = await pump(args.window, async (i) => {
    const ioba = bus + (BigInt((i % slots) * args.entries) << 16n);
    const rep = await c.tcePutBatch(vm, LIOBN, ioba, tces);
    if (rep.ret !== 0 || rep.written !== args.entries) throw new Error(`batch ret ${rep.ret} written ${rep.written}`);
  });
  c.destroy();
  const entriesPerSec = (r.count * args.entries) / r.secs;
  return {
    bytesPerSec: (r.count * frameBytes(args.entries)) / r.secs,
    opsPerSec: r.count / r.secs,
    entriesPerSec,
    p50us: percentile(r.lat, 0.5),
    p99us: percentile(r.lat, 0.99),
  };
}

async function hput(): Promise<CaseResult> {
  const c = await Client.connect(args.socket, { name: 'bench' });
  const { vm, bus } = await setupVm(c, false);
  const r = await pump(args.window, async (i) => {
    const k = i % 65536;
    const rep = await c.call('H_PUT_TCE', { fd: vm, liobn: LIOBN, ioba: bus + (BigInt(k) << 16n), tce: (BigInt(k) << 16n) | 3n });
    if (rep.ret !== 0) throw new Error(`H_PUT_TCE ret ${rep.ret}`);
  });
  c.destroy();
  return { bytesPerSec: 0, opsPerSec: r.count / r.secs, p50us: percentile(r.lat, 0.5), p99us: percentile(r.lat, 0.99) };
}

const result =
  args.kind === 'baseline' ? await baseline()
  : args.kind === 'batch-unlinked' ? await batch(false)
  : args.kind === 'batch-linked' ? await batch(true)
  : await hput();
send({ result });
// Leave on our own once the report is out (an explicit exit could drop it, or a --cpu-prof file).
process.disconnect?.();
setTimeout(() => process.exit(0), 5000).unref();
