/**
 * In-process micro benchmark of the server's work per TCE_PUT_BATCH (no socket, no scheduling):
 * the dispatcher on an assembled payload (plain path, plus the assembly copy a spanning frame
 * costs) against the streamed path fed 64 KiB pieces, unlinked and linked; and the pass-1
 * validation loop alone in JS against WebAssembly SIMD (see validate-wasm.ts). Reports CPU ns
 * per entry (min of several rounds: the least disturbed by other load on the machine).
 * Usage: node dist/test/bench/micro.js [--entries n]
 * Env (to profile one case with --cpu-prof): MICRO_ONLY=unlinked|linked|calls, MICRO_CASE=plain|assembled|streamed.
 */
import { DEFAULT_TOPOLOGY } from '../../src/hw/topology.js';
import { createOpContext, createSystem, type OpContext } from '../../src/ops/context.js';
import { Dispatcher, PendingReply } from '../../src/ops/dispatch.js';
import { HANDLERS } from '../../src/ops/index.js';
import { decodePayload, encodePayload } from '../../src/wire/msgpack.js';
import { fixedLayout, writeU64 } from '../../src/wire/fixed-layout.js';
import { OP_CODES, OPS, type MsgpackOpName, type Requests } from '../../src/wire/ops.generated.js';

const ei = process.argv.indexOf('--entries');
const ENTRIES = ei > 0 ? Number(process.argv[ei + 1]) : 65536;
const TABLE_ENTRIES = 1 << 20;
const UA = 0x7fff_0000_0000n;
const RAM = 4n << 30n;
const LIOBN = 0x8000_0001n;

const system = createSystem({ topology: DEFAULT_TOPOLOGY });
const dispatcher = new Dispatcher(HANDLERS);

function call<K extends MsgpackOpName>(ctx: OpContext, op: K, req: Requests[K]): Record<string, unknown> {
  const out = dispatcher.execute(ctx, OP_CODES[op], encodePayload(req));
  return decodePayload(out instanceof PendingReply ? out.finish() : out) as Record<string, unknown>;
}

function setup(linked: boolean): { ctx: OpContext; vm: number; bus: bigint } {
  const ctx = createOpContext(system, linked ? 2 : 1, { memlockLimit: null });
  let bus = 0n;
  let group = -1;
  if (linked) {
    const container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd as number;
    group = call(ctx, 'VFIO_GROUP_OPEN', { group: 1 }).fd as number;
    call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: group, container });
    call(ctx, 'VFIO_SET_IOMMU', { fd: container, type: 7 });
    call(ctx, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: RAM });
    call(ctx, 'VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n });
    bus = BigInt(call(ctx, 'VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: BigInt(TABLE_ENTRIES) << 16n, levels: 2 }).start_addr as number | bigint);
  }
  const vm = call(ctx, 'KVM_CREATE_VM', {}).fd as number;
  call(ctx, 'KVM_SET_USER_MEMORY_REGION', { fd: vm, slot: 0, guest_phys_addr: 0n, memory_size: RAM, userspace_addr: UA });
  const table = call(ctx, 'KVM_CREATE_SPAPR_TCE_64', { fd: vm, liobn: LIOBN, page_shift: 16, offset: bus >> 16n, size: BigInt(TABLE_ENTRIES) }).fd as number;
  if (linked) {
    const device = call(ctx, 'KVM_CREATE_DEVICE', { fd: vm, type: 4 }).fd as number;
    call(ctx, 'KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 1n, groupfd: group });
    call(ctx, 'KVM_SET_DEVICE_ATTR', { fd: device, group: 1, attr: 3n, groupfd: group, tablefd: table });
  }
  return { ctx, vm, bus };
}

/** The payload of one batch (as the bench client sends it), and the same cut into 64 KiB pieces. */
function payloadOf(vm: number, ioba: bigint, entries: number): { payload: Uint8Array; pieces: Uint8Array[] } {
  const buf = Buffer.alloc(32 + entries * 8);
  buf.writeUInt32LE(vm, 0);
  buf.writeBigUInt64LE(LIOBN, 8);
  buf.writeBigUInt64LE(ioba, 16);
  buf.writeUInt32LE(entries, 24);
  for (let i = 0; i < entries; i++) buf.writeBigUInt64LE((BigInt(i % 65536) << 16n) | 3n, 32 + 8 * i);
  // As a socket delivers it: the first piece starts after the 16-byte header of a 64 KiB read.
  const pieces: Uint8Array[] = [];
  for (let at = 0, first = true; at < buf.length; first = false) {
    const n = Math.min(buf.length - at, first ? 65536 - 16 : 65536);
    pieces.push(Buffer.from(buf.subarray(at, at + n)));
    at += n;
  }
  return { payload: buf, pieces };
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Min over rounds of CPU ns per entry for `fn` run `reps` times. */
function measure(name: string, fn: () => void): number {
  for (let i = 0; i < 20; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const reps = Math.max(4, Math.floor(2e6 / ENTRIES));
    const t0 = cpuNs();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, (cpuNs() - t0) / (reps * ENTRIES));
  }
  console.log(`${name.padEnd(58)} ${best.toFixed(2).padStart(7)} ns/entry`);
  return best;
}

const code = OP_CODES.TCE_PUT_BATCH;
const results: Record<string, number> = {};
const ONLY = process.env.MICRO_ONLY;
const CASE = process.env.MICRO_CASE;
const want = (c: string) => CASE === undefined || CASE === c;
for (const linked of [false, true]) {
  if (ONLY !== undefined && ONLY !== (linked ? 'linked' : 'unlinked')) continue;
  const { ctx, vm, bus } = setup(linked);
  const { payload, pieces } = payloadOf(vm, bus, ENTRIES);
  const tag = linked ? 'linked' : 'unlinked';
  if (want('plain')) results[`plain-${tag}`] = measure(`${tag}: plain handler, payload already contiguous`, () => dispatcher.execute(ctx, code, payload));
  if (want('assembled')) results[`assembled-${tag}`] = measure(`${tag}: assembly copy + plain handler (today's spanning frame)`, () => {
    const buf = Buffer.allocUnsafeSlow(16 + payload.length);
    let off = 16;
    for (const p of pieces) {
      buf.set(p, off);
      off += p.length;
    }
    dispatcher.execute(ctx, code, buf.subarray(16));
  });
  if (want('streamed')) results[`streamed-${tag}`] = measure(`${tag}: streamed (validate per 64 KiB piece, store from pieces)`, () => {
    const s = dispatcher.stream(ctx, code, payload.length)!;
    for (const p of pieces) s.data(p);
    s.end();
  });
}

// ---- small calls: the dispatcher's work per H_PUT_TCE ---------------------------------------------

/** Min over rounds of CPU ns per call. */
function measureCall(name: string, fn: () => void): number {
  for (let i = 0; i < 20000; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const reps = 50000;
    const t0 = cpuNs();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, (cpuNs() - t0) / reps);
  }
  console.log(`${name.padEnd(58)} ${best.toFixed(0).padStart(7)} ns/call`);
  return best;
}

const calls: Record<string, number> = {};
if (ONLY === undefined || ONLY === 'calls') {
  const { ctx, vm } = setup(false);
  const req = { fd: vm, liobn: LIOBN, ioba: 0x10000n, tce: 0x20003n };
  const general = encodePayload(req);
  const layout = fixedLayout(OPS.find((o) => o.name === 'H_PUT_TCE')!)!;
  const fixed = Uint8Array.from(layout.template);
  const dv = new DataView(fixed.buffer);
  dv.setInt32(layout.slots[0]!.offset, vm);
  writeU64(dv, layout.slots[1]!.offset, LIOBN);
  writeU64(dv, layout.slots[2]!.offset, 0x10000n);
  writeU64(dv, layout.slots[3]!.offset, 0x20003n);
  const put = OP_CODES.H_PUT_TCE;
  calls.general = measureCall('H_PUT_TCE: dispatcher, general MessagePack request', () => dispatcher.execute(ctx, put, general));
  calls.fixed = measureCall('H_PUT_TCE: dispatcher, fixed-layout request', () => dispatcher.execute(ctx, put, fixed));
}
console.log(JSON.stringify({ micro: 'vphb', entries: ENTRIES, nsPerEntry: results, nsPerCall: calls }));
