/**
 * Fuzz mode: connections that send valid frames mutated at random (bytes flipped, header fields
 * replaced, frames cut or glued together). Every reply must be a well-formed reply frame with a
 * MessagePack map payload and a known positive errno on error; none may be EIO (an internal error
 * of the server). After each connection the server must still answer a fresh client (else it
 * crashed or hangs).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { FrameDecoder } from '../wire/frame-decoder.js';
import { FLAG_ERROR, HEADER_SIZE, TYPE_MASK, TYPE_REPLY, encodeFrame } from '../wire/header.js';
import { decodePayload, encodePayload } from '../wire/msgpack.js';
import { ERRNO } from '../wire/errno.js';
import { OP_CODES, type OpName } from '../wire/ops.generated.js';
import { emptyReport, type StressReport } from './report.js';
import { prng } from './reference.js';

const KNOWN_ERRNOS = new Set<number>(Object.values(ERRNO));

export interface FuzzOptions {
  /** UNIX socket path, or TCP host:port. */
  target: string | { host: string; port: number };
  token?: string | undefined;
  seed: number;
  deadline: number;
  /** Frames per connection. */
  framesPerConnection: number;
}

function sample(rnd: () => number): [OpName, unknown][] {
  const u64 = (): bigint => BigInt(Math.floor(rnd() * 2 ** 32)) << BigInt(Math.floor(rnd() * 33));
  return [
    ['PING', { data: new Uint8Array(Math.floor(rnd() * 100)) }],
    ['TOPOLOGY', {}],
    ['CLOSE', { fd: Math.floor(rnd() * 8) }],
    ['VFIO_OPEN_CONTAINER', {}],
    ['VFIO_GROUP_OPEN', { group: Math.floor(rnd() * 8) }],
    ['VFIO_SET_IOMMU', { fd: 0, type: 7 }],
    ['VFIO_IOMMU_MAP_DMA', { fd: 0, flags: 3, vaddr: u64(), iova: u64(), size: u64() }],
    ['VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: 0, vaddr: u64(), size: u64() }],
    ['VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: 0, page_shift: 12, window_size: u64(), levels: 2 }],
    ['KVM_CREATE_VM', {}],
    ['KVM_CREATE_SPAPR_TCE_64', { fd: 1, liobn: u64(), page_shift: 12, offset: 0, size: u64() }],
    ['H_PUT_TCE', { fd: 1, liobn: u64(), ioba: u64(), tce: u64() }],
    ['H_STUFF_TCE', { fd: 1, liobn: u64(), ioba: u64(), tce_value: 0, npages: u64() }],
    ['TCE_TABLE_READ', { fd: 2, index: u64(), count: Math.floor(rnd() * 4096) }],
  ];
}

function mutate(f: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(f);
  switch (Math.floor(rnd() * 6)) {
    case 0: // flip bytes
      for (let k = 0; k < 1 + rnd() * 4; k++) {
        const at = Math.floor(rnd() * b.length);
        b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
      }
      return b;
    case 1: // another command code
      b.writeUInt16LE(Math.floor(rnd() * 1100), 2);
      return b;
    case 2: // flags
      b.writeUInt32LE(Math.floor(rnd() * 2 ** 32), 8);
      return b;
    case 3: // payload bytes at random
      for (let k = HEADER_SIZE; k < b.length; k++) if (rnd() < 0.2) b[k] = Math.floor(rnd() * 256);
      return b;
    case 4: // truncated payload, size kept consistent
      if (b.length > HEADER_SIZE + 1) {
        const cut = b.subarray(0, HEADER_SIZE + Math.floor(rnd() * (b.length - HEADER_SIZE)));
        cut.writeUInt32LE(cut.length, 4);
        return Buffer.from(cut);
      }
      return b;
    default: // size field lies (the stream may lose sync; the server must cope)
      b.writeUInt32LE(Math.floor(rnd() * 2 * b.length), 4);
      return b;
  }
}

function open(target: FuzzOptions['target']): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = typeof target === 'string' ? netConnect(target) : netConnect(target.port, target.host);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** One fuzz connection: VERSION, then mutated frames, then a PING; waits until replies stop. */
async function fuzzConnection(o: FuzzOptions, rnd: () => number, r: StressReport): Promise<void> {
  const s = await open(o.target);
  s.on('error', () => undefined);
  let last = Date.now();
  let closed = false;
  const dec = new FrameDecoder({
    frame: (h, p) => {
      last = Date.now();
      let payload: unknown;
      try {
        payload = p.byteLength === 0 ? {} : decodePayload(p);
      } catch {
        r.malformedReplies++;
        return;
      }
      const isMap = typeof payload === 'object' && payload !== null && !Array.isArray(payload) && !(payload instanceof Uint8Array);
      if ((h.flags & TYPE_MASK) !== TYPE_REPLY || !isMap) r.malformedReplies++;
      if ((h.flags & FLAG_ERROR) !== 0) {
        if (!KNOWN_ERRNOS.has(h.error) || h.error <= 0) r.malformedReplies++;
        if (h.error === ERRNO.EIO) r.internalErrors++;
      }
    },
    oversize: () => { r.malformedReplies++; },
    fatal: () => { r.malformedReplies++; },
  }, { maxFrameSize: 1 << 25 });
  s.on('data', (d: Buffer) => { last = Date.now(); dec.push(d); });
  s.on('close', () => { closed = true; });
  const frames: Buffer[] = [encodeFrame({ msgId: 1, command: OP_CODES.VERSION, flags: 0, error: 0 },
    encodePayload({ major: 1, minor: 0, client: 'vphb-stress-fuzz', ...(o.token === undefined ? {} : { token: o.token }) }))];
  const ops = sample(rnd);
  for (let i = 0; i < o.framesPerConnection; i++) {
    const [op, req] = ops[Math.floor(rnd() * ops.length)]!;
    const f = encodeFrame({ msgId: (i + 2) & 0xffff, command: OP_CODES[op], flags: 0, error: 0 }, encodePayload(req));
    frames.push(rnd() < 0.7 ? mutate(f, rnd) : f);
  }
  r.framesTried += frames.length;
  s.write(Buffer.concat(frames));
  // Replies stop coming (or the server closes): 150 ms of silence.
  while (!closed && Date.now() - last < 150) await new Promise((res) => setTimeout(res, 25));
  s.destroy();
}

/** A fresh client's PING within `ms`: the server is alive and not hung. */
export async function alive(target: FuzzOptions['target'], token: string | undefined, ms = 5000): Promise<boolean> {
  let s: Socket;
  try {
    s = await open(target);
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => { s.destroy(); resolve(false); }, ms);
    let got = 0;
    const dec = new FrameDecoder({
      frame: () => {
        if (++got === 2) { clearTimeout(timer); s.destroy(); resolve(true); }
      },
      oversize: () => undefined,
      fatal: () => undefined,
    }, { maxFrameSize: 1 << 25 });
    s.on('data', (d: Buffer) => dec.push(d));
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(timer); resolve(got >= 2); });
    s.write(Buffer.concat([
      encodeFrame({ msgId: 1, command: OP_CODES.VERSION, flags: 0, error: 0 }, encodePayload({ major: 1, minor: 0, client: 'vphb-stress', ...(token === undefined ? {} : { token }) })),
      encodeFrame({ msgId: 2, command: OP_CODES.PING, flags: 0, error: 0 }, encodePayload({})),
    ]));
  });
}

export async function runFuzzClient(o: FuzzOptions): Promise<StressReport> {
  const r = emptyReport('fuzz', 1);
  const rnd = prng(o.seed);
  while (Date.now() < o.deadline) {
    await fuzzConnection(o, rnd, r);
    if (!(await alive(o.target, o.token))) {
      r.hangs++;
      break;
    }
  }
  return r;
}
