/**
 * The TypeScript client: one connection to a vphb server, any number of calls in flight.
 *
 * - Every call gets a u16 msg_id from a wrapping counter that skips ids still in flight; replies
 *   are matched by msg_id, in whatever order they come.
 * - Outgoing frames are queued and flushed once per microtask checkpoint: a burst of calls made in
 *   the same tick (or resumed by the same batch of replies) leaves in one socket write.
 * - Replies are normalised by the op's reply spec (u64 → bigint, 32-bit → number); an error reply
 *   rejects with a VphbError carrying the server's errno and message.
 */
import { endianness } from 'node:os';
import { VphbError, errnoName } from '../../src/wire/errno.js';
import {
  FLAG_ERROR, FLAG_NO_REPLY, HEADER_SIZE, TYPE_MASK, TYPE_REPLY, writeHeader, type FrameHeader,
} from '../../src/wire/header.js';
import { fixedLayout, isU64, writeU64, type FixedLayout } from '../../src/wire/fixed-layout.js';
import { decodePayload, encodePayload } from '../../src/wire/msgpack.js';
import {
  OPS, PROTOCOL_VERSION, type Events, type MsgpackOpName, type OpName, type OpSpec, type Replies, type Requests,
} from '../../src/wire/ops.generated.js';
import { OpMethods, type CallOptions } from './methods.generated.js';
import { normaliseReply } from './normalise.js';
import { openTransport, type ClientTransport, type OutFrame, type TransportKind } from './transport.js';

export type { CallOptions } from './methods.generated.js';

export interface ConnectOptions {
  /** Client name sent in VERSION (default `vphb-ts`). */
  name?: string | undefined;
  /** Access token (required by the server on TCP and WebSocket). */
  token?: string | undefined;
  /** Limit for connecting plus the VERSION handshake, in ms (default 10000). */
  timeoutMs?: number | undefined;
  /** Largest reply frame accepted; larger replies reject their call with EMSGSIZE (default 256 MiB). */
  maxFrameSize?: number | undefined;
}

/** The VERSION reply: server version and capabilities. */
export type ServerInfo = Replies['VERSION'];

/** `call` options: `noReply` sends the command with the no_reply flag and expects nothing back. */
export interface CallOptionsWithNoReply extends CallOptions {
  noReply?: boolean;
}

interface Pending {
  readonly spec: OpSpec;
  resolve(value: unknown): void;
  reject(err: VphbError): void;
  timer: NodeJS.Timeout | undefined;
}

const SPECS = new Map<OpName, OpSpec>(OPS.map((o) => [o.name, o]));
/** Frames the server sends on its own (events), by command code. */
const EVENT_SPECS = new Map<number, OpSpec>(OPS.filter((o) => o.direction === 'server').map((o) => [o.code, o]));

/** A device interrupt (VFIO_DEVICE_IRQ): the eventfd `token` armed for index/vector of device fd. */
export type IrqEvent = Events['VFIO_DEVICE_IRQ'];

/** Events a client emits: server-initiated frames. */
export interface ClientEvents {
  irq: IrqEvent;
}
const DEFAULT_MAX_FRAME = 256 * 1024 * 1024;
const U64_LIMIT = 1n << 64n;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';
/** Header plus TCE_PUT_BATCH's fixed part. */
const BATCH_HEAD = HEADER_SIZE + 32;

function spec(op: OpName): OpSpec {
  return SPECS.get(op)!;
}

function asVphbError(e: unknown, fallback: 'EINVAL' | 'EPROTO'): VphbError {
  return e instanceof VphbError ? e : new VphbError(fallback, e instanceof Error ? e.message : String(e));
}

/** The VphbError an error reply stands for: its errno, and the `{message}` of its payload if any. */
function errorFromReply(op: string, h: FrameHeader, payload: Uint8Array): VphbError {
  const errno = h.error === 0 ? 5 /* EIO: error flag without an errno */ : h.error;
  let message = `${op}: ${errnoName(errno)}`;
  if (payload.byteLength > 0) {
    try {
      const m = decodePayload(payload);
      if (typeof m === 'object' && m !== null && 'message' in m && typeof m.message === 'string') message = m.message;
    } catch {
      /* keep the generic message: the errno is what counts */
    }
  }
  return new VphbError(errno, message);
}

export class Client extends OpMethods {
  readonly #pending = new Map<number, Pending>();
  readonly #maxFrameSize: number;
  #transport: ClientTransport | undefined;
  #serverInfo: ServerInfo | undefined;
  #nextId = 0;
  #queue: OutFrame[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  /** noReply calls waiting for their frame to be handed to the transport. */
  #flushWaiters: { resolve(): void; reject(e: VphbError): void }[] = [];
  #state: 'connecting' | 'open' | 'ending' | 'closed' = 'connecting';
  /** Pipelined hcall channel calls in flight, by msg_id (no Pending, promise or closure each). */
  readonly #channelOf: (HcallChannel | undefined)[] = new Array<HcallChannel | undefined>(0x10000);
  readonly #channelTag = new Float64Array(0x10000);
  readonly #channelOp = new Uint16Array(0x10000);
  #channelInflight = 0;
  /** Fixed-layout frames of channel calls, appended in place until the next flush. */
  #small: Buffer = Buffer.allocUnsafe(SMALL_BUFFER);
  #smallStart = 0;
  #smallEnd = 0;
  #markClosed!: () => void;
  /** Resolves when the connection is closed, cleanly or not; pending calls are rejected by then. */
  readonly closed: Promise<void>;
  readonly #listeners: { [K in keyof ClientEvents]: Set<(e: ClientEvents[K]) => void> } = { irq: new Set() };

  private constructor(maxFrameSize: number) {
    super();
    this.#maxFrameSize = maxFrameSize;
    this.closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
  }

  /**
   * Connects to `target` (`/path.sock`, `unix:/path.sock`, `tcp://host:port`, `ws://host:port/path`),
   * sends VERSION as the first command and resolves once the server has accepted it. An error
   * reply rejects with its VphbError (EPROTO, EACCES, ...); a connect failure with the socket error.
   */
  static async connect(target: string, opts: ConnectOptions = {}): Promise<Client> {
    const client = new Client(opts.maxFrameSize ?? DEFAULT_MAX_FRAME);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        client.destroy();
        reject(new VphbError('ETIMEDOUT', `connecting to ${target}: no VERSION reply within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      const opening = openTransport(target, {
        frame: (h, p) => client.#onFrame(h, p),
        oversize: (h) => client.#onOversize(h),
        close: (reason) => client.#onClose(reason),
      }, client.#maxFrameSize);
      // A transport that opens after the timeout fired is closed at once.
      opening.then((t) => { if (client.#state === 'closed') t.destroy(); }, () => {});
      client.#transport = await Promise.race([opening, timeout]);
      if (client.#state === 'closed') throw new VphbError('ECONNRESET', `connection to ${target} closed`);
      client.#state = 'open';
      const req: Requests['VERSION'] = { major: PROTOCOL_VERSION[0], minor: PROTOCOL_VERSION[1], client: opts.name ?? 'vphb-ts' };
      if (opts.token !== undefined) req.token = opts.token;
      const info = await Promise.race([client.call('VERSION', req), timeout]);
      if (info.major !== PROTOCOL_VERSION[0]) {
        throw new VphbError('EPROTO', `server speaks protocol ${info.major}.${info.minor}, this client ${PROTOCOL_VERSION.join('.')}`);
      }
      client.#serverInfo = info;
      return client;
    } catch (e) {
      client.destroy();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Subscribes to server-initiated frames: `irq` for every VFIO_DEVICE_IRQ (a signalled eventfd of
   * a device handle). Events come in the order the server sent them, interleaved with replies.
   */
  on<K extends keyof ClientEvents>(event: K, listener: (e: ClientEvents[K]) => void): this {
    this.#listeners[event].add(listener);
    return this;
  }

  off<K extends keyof ClientEvents>(event: K, listener: (e: ClientEvents[K]) => void): this {
    this.#listeners[event].delete(listener);
    return this;
  }

  #onEvent(h: FrameHeader, payload: Uint8Array): void {
    const s = EVENT_SPECS.get(h.command);
    if (s === undefined || (h.flags & FLAG_NO_REPLY) === 0) return; // unknown to this client: ignored
    let e: IrqEvent;
    try {
      e = normaliseReply(s.request, decodePayload(payload), s.name) as unknown as IrqEvent;
    } catch {
      return; // a malformed event is dropped; replies are unaffected
    }
    for (const l of this.#listeners.irq) l(e);
  }

  /** The server's VERSION reply (version, name, capabilities). */
  get serverInfo(): ServerInfo {
    if (this.#serverInfo === undefined) throw new VphbError('ENOTCONN', 'handshake not complete');
    return this.#serverInfo;
  }

  /** `unix`, `tcp` or `ws`. */
  get transport(): TransportKind {
    return this.#transport?.kind ?? 'unix';
  }

  /** Calls sent (or queued) whose reply has not arrived yet. */
  get inflight(): number {
    return this.#pending.size + this.#channelInflight;
  }

  /**
   * A pipelined hcall channel on VM `vmFd`: H_PUT_TCE / H_STUFF_TCE without a promise, closure or
   * MessagePack encoder per call. Each call takes a caller-chosen numeric `tag` and its reply
   * comes to `onReply(tag, ret)` (ret = the PAPR return code); an error reply or a lost
   * connection comes as `onReply(tag, -1, error)`. Requests go out in the fixed layout (see
   * src/wire/fixed-layout.ts), in call order with every other call on this client.
   */
  hcalls(vmFd: number, onReply: HcallReplyHandler): HcallChannel {
    return new HcallChannel(this, vmFd, onReply);
  }

  /** Queues one fixed-layout hcall: copies `template` with its values patched. @internal */
  _sendFixed(ch: HcallChannel, op: FixedOp, tag: number, a: number | bigint, b: number | bigint, c: number | bigint, d: number | bigint): void {
    const s = FIXED_OPS[op]!;
    if (this.#state !== 'open') throw new VphbError('ENOTCONN', `${s.spec.name}: the connection is ${this.#state === 'ending' ? 'closing' : this.#state}`);
    if (!isU64(a) || !isU64(b) || !isU64(c) || (op === STUFF && !isU64(d))) {
      throw new VphbError('EINVAL', `${s.spec.name}: liobn, ioba and the TCE values must be u64`);
    }
    if (this.#pending.size + this.#channelInflight >= 0x10000) throw new VphbError('EAGAIN', `${s.spec.name}: all 65536 msg_ids are in flight`);
    let id = this.#nextId;
    while (this.#pending.has(id) || this.#channelOf[id] !== undefined) id = (id + 1) & 0xffff;
    this.#nextId = (id + 1) & 0xffff;
    const size = HEADER_SIZE + s.layout.template.byteLength;
    if (this.#smallEnd + size > this.#small.byteLength) this.#sealSmall(true);
    const buf = this.#small;
    const at = this.#smallEnd;
    buf.set(s.frame, at);
    buf.writeUInt16LE(id, at); // header: msg_id at 0 (the rest of the header is in the template)
    const dv = s.view(buf);
    const o = at + HEADER_SIZE;
    dv.setInt32(o + s.offsets[0]!, ch.vmFd);
    writeU64(dv, o + s.offsets[1]!, a);
    writeU64(dv, o + s.offsets[2]!, b);
    writeU64(dv, o + s.offsets[3]!, c);
    if (op === STUFF) writeU64(dv, o + s.offsets[4]!, d);
    this.#smallEnd = at + size;
    this.#channelOf[id] = ch;
    this.#channelTag[id] = tag;
    this.#channelOp[id] = op;
    this.#channelInflight++;
    this.#queuedBytes += size;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Moves the channel frames appended so far into the send queue (keeping call order). */
  #sealSmall(fresh: boolean): void {
    if (this.#smallEnd > this.#smallStart) {
      this.#queue.push(this.#small.subarray(this.#smallStart, this.#smallEnd));
      this.#smallStart = this.#smallEnd;
    }
    if (fresh || this.#smallStart > 0) {
      // The queued views may still be referenced by the socket: never write over them.
      this.#small = Buffer.allocUnsafe(SMALL_BUFFER);
      this.#smallStart = 0;
      this.#smallEnd = 0;
    }
  }

  /**
   * Sends one MessagePack op. Any number of calls may be in flight. With `{noReply: true}` the
   * command carries the no_reply flag and the promise resolves once the frame is handed to the
   * socket (the server executes it in order but answers nothing, not even an error).
   */
  override call<K extends MsgpackOpName>(op: K, req: Requests[K], opts: CallOptionsWithNoReply & { noReply: true }): Promise<void>;
  override call<K extends MsgpackOpName>(op: K, req: Requests[K], opts?: CallOptionsWithNoReply & { noReply?: false }): Promise<Replies[K]>;
  override call<K extends MsgpackOpName>(op: K, req: Requests[K], opts?: CallOptionsWithNoReply): Promise<Replies[K] | void>;
  override call<K extends MsgpackOpName>(op: K, req: Requests[K], opts: CallOptionsWithNoReply = {}): Promise<Replies[K] | void> {
    const s = SPECS.get(op);
    if (s === undefined || s.payload !== 'msgpack') {
      return Promise.reject(new VphbError('EINVAL', `${String(op)} is not a MessagePack op`));
    }
    let payload: Uint8Array;
    try {
      payload = encodePayload(req);
    } catch (e) {
      return Promise.reject(asVphbError(e, 'EINVAL'));
    }
    const size = HEADER_SIZE + payload.byteLength;
    return this.#submit<Replies[K]>(s, size, opts, (header) => {
      const frame = Buffer.allocUnsafe(size);
      writeHeader(frame, 0, header);
      frame.set(payload, HEADER_SIZE);
      return frame;
    });
  }

  /**
   * TCE_PUT_BATCH, the raw fast path: H_PUT_TCE_INDIRECT semantics for any number of entries.
   * The frame is the header, the 32-byte fixed part (`u32 vm_fd, u32 flags, u64 liobn, u64 ioba,
   * u32 count, u32 reserved`) and the entries as little-endian u64. The entries are not copied:
   * the socket writes a view of `tces` right after the 48-byte head, so `tces` must not change
   * until the promise settles. (Over WebSocket the head and the entries go as two fragments of one
   * message, still without a copy. On a big-endian host the entries are byte-swapped into a copy.)
   */
  tcePutBatch(vmFd: number, liobn: bigint, ioba: bigint, tces: BigUint64Array | Uint8Array, flags = 0): Promise<Replies['TCE_PUT_BATCH']> {
    const s = spec('TCE_PUT_BATCH');
    if (tces.byteLength % 8 !== 0) {
      return Promise.reject(new VphbError('EINVAL', `tces: ${tces.byteLength} bytes is not a whole number of u64 entries`));
    }
    const count = tces.byteLength / 8;
    for (const [name, v] of [['vm_fd', vmFd], ['flags', flags], ['count', count]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) return Promise.reject(new VphbError('EINVAL', `${name} ${v} is not a u32`));
    }
    for (const [name, v] of [['liobn', liobn], ['ioba', ioba]] as const) {
      if (v < 0n || v >= U64_LIMIT) return Promise.reject(new VphbError('EINVAL', `${name} ${v} is not a u64`));
    }
    const body = entryBytes(tces);
    const reply = this.#submit<Replies['TCE_PUT_BATCH']>(s, BATCH_HEAD + body.byteLength, {}, (header) => {
      const head = Buffer.allocUnsafe(BATCH_HEAD);
      writeHeader(head, 0, header);
      head.writeUInt32LE(vmFd, 16);
      head.writeUInt32LE(flags, 20);
      head.writeBigUInt64LE(liobn, 24);
      head.writeBigUInt64LE(ioba, 32);
      head.writeUInt32LE(count, 40);
      head.writeUInt32LE(0, 44);
      return body.byteLength === 0 ? head : [head, body];
    });
    return reply as Promise<Replies['TCE_PUT_BATCH']>; // without noReply the promise carries the reply
  }

  /**
   * Closes cleanly: flushes queued frames and half-closes the connection. The server answers the
   * commands it has received before closing its side, so calls in flight still settle (any left
   * without a reply reject with ECONNRESET). Resolves when the connection is closed.
   */
  end(): Promise<void> {
    if (this.#state === 'open' || this.#state === 'connecting') {
      this.#state = 'ending';
      this.#flush();
      if (this.#transport === undefined) this.#onClose(undefined);
      else this.#transport.end();
    }
    return this.closed;
  }

  /** Drops the connection at once; calls in flight reject with ECONNRESET. */
  destroy(): void {
    if (this.#state === 'closed') return;
    if (this.#transport === undefined) this.#onClose('destroyed');
    else this.#transport.destroy();
  }

  #submit<R>(s: OpSpec, size: number, opts: CallOptionsWithNoReply, build: (h: FrameHeader) => OutFrame): Promise<R | void> {
    if (this.#state !== 'open') {
      return Promise.reject(new VphbError('ENOTCONN', `${s.name}: the connection is ${this.#state === 'ending' ? 'closing' : this.#state}`));
    }
    const max = this.#serverInfo?.capabilities.max_frame_size;
    if (size > 0xffff_ffff || (max !== undefined && size > max)) {
      return Promise.reject(new VphbError('EMSGSIZE', `${s.name}: frame of ${size} bytes exceeds the server's max_frame_size ${max ?? 0xffff_ffff}`));
    }
    if (this.#pending.size + this.#channelInflight >= 0x10000) {
      return Promise.reject(new VphbError('EAGAIN', `${s.name}: all 65536 msg_ids are in flight`));
    }
    let id = this.#nextId;
    while (this.#pending.has(id) || this.#channelOf[id] !== undefined) id = (id + 1) & 0xffff;
    this.#nextId = (id + 1) & 0xffff;
    const noReply = opts.noReply === true;
    const frame = build({ msgId: id, command: s.code, size, flags: noReply ? FLAG_NO_REPLY : 0, error: 0 });
    this.#enqueue(frame, size);
    if (noReply) return new Promise<void>((resolve, reject) => this.#flushWaiters.push({ resolve, reject }));
    return new Promise<R>((resolve, reject) => {
      const p: Pending = { spec: s, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      if (opts.timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          // Keep the id reserved until the late reply (if any) arrives, so it cannot be mistaken
          // for the reply to a newer call; the entry now just swallows it.
          p.resolve = () => {};
          p.reject = () => {};
          reject(new VphbError('ETIMEDOUT', `${s.name}: no reply within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      this.#pending.set(id, p);
    });
  }

  #enqueue(frame: OutFrame, size: number): void {
    if (this.#smallEnd > this.#smallStart) this.#sealSmall(false);
    this.#queue.push(frame);
    this.#queuedBytes += size;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#smallEnd > this.#smallStart) this.#sealSmall(false);
    if (this.#queue.length === 0) return;
    const frames = this.#queue;
    const bytes = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#transport?.send(frames, bytes);
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w.resolve();
  }

  #onFrame(h: FrameHeader, payload: Uint8Array): void {
    if ((h.flags & TYPE_MASK) !== TYPE_REPLY) {
      this.#onEvent(h, payload);
      return;
    }
    const ch = this.#channelOf[h.msgId];
    if (ch !== undefined) {
      this.#channelReply(ch, h, payload);
      return;
    }
    const p = this.#pending.get(h.msgId);
    if (p === undefined) return; // no call waits for this id (e.g. a reply to a no_reply command)
    this.#pending.delete(h.msgId);
    if (p.timer !== undefined) clearTimeout(p.timer);
    const op = p.spec.name;
    if (h.command !== p.spec.code) {
      p.reject(new VphbError('EPROTO', `${op}: the reply to msg_id ${h.msgId} carries command ${h.command}, expected ${p.spec.code}`));
    } else if (h.flags & FLAG_ERROR) {
      p.reject(errorFromReply(op, h, payload));
    } else {
      try {
        p.resolve(normaliseReply(p.spec.reply, decodePayload(payload), op));
      } catch (e) {
        p.reject(asVphbError(e, 'EPROTO'));
      }
    }
  }

  #channelReply(ch: HcallChannel, h: FrameHeader, payload: Uint8Array): void {
    const id = h.msgId;
    const tag = this.#channelTag[id]!;
    const s = FIXED_OPS[this.#channelOp[id]!]!;
    this.#channelOf[id] = undefined;
    this.#channelInflight--;
    const op = s.spec.name;
    if (h.command !== s.spec.code) {
      ch.onReply(tag, -1, new VphbError('EPROTO', `${op}: the reply to msg_id ${id} carries command ${h.command}, expected ${s.spec.code}`));
    } else if (h.flags & FLAG_ERROR) {
      ch.onReply(tag, -1, errorFromReply(op, h, payload));
    } else {
      const ret = readRet(payload);
      if (ret !== undefined) ch.onReply(tag, ret, undefined);
      else {
        try {
          ch.onReply(tag, (normaliseReply(s.spec.reply, decodePayload(payload), op) as { ret: number }).ret, undefined);
        } catch (e) {
          ch.onReply(tag, -1, asVphbError(e, 'EPROTO'));
        }
      }
    }
  }

  #onOversize(h: FrameHeader): void {
    if (this.#channelOf[h.msgId] !== undefined) {
      const ch = this.#channelOf[h.msgId]!;
      this.#channelOf[h.msgId] = undefined;
      this.#channelInflight--;
      ch.onReply(this.#channelTag[h.msgId]!, -1, new VphbError('EMSGSIZE', `reply of ${h.size} bytes exceeds maxFrameSize ${this.#maxFrameSize}`));
      return;
    }
    const p = this.#pending.get(h.msgId);
    if (p === undefined) return;
    this.#pending.delete(h.msgId);
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.reject(new VphbError('EMSGSIZE', `${p.spec.name}: reply of ${h.size} bytes exceeds maxFrameSize ${this.#maxFrameSize}`));
  }

  #onClose(reason: string | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const why = reason === undefined ? 'connection closed' : `connection closed: ${reason}`;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(new VphbError('ECONNRESET', `${p.spec.name}: ${why} before the reply`));
    }
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w.reject(new VphbError('ECONNRESET', `${why} before the frame was sent`));
    if (this.#channelInflight > 0) {
      for (let id = 0; id < 0x10000; id++) {
        const ch = this.#channelOf[id];
        if (ch === undefined) continue;
        this.#channelOf[id] = undefined;
        ch.onReply(this.#channelTag[id]!, -1, new VphbError('ECONNRESET', `${FIXED_OPS[this.#channelOp[id]!]!.spec.name}: ${why} before the reply`));
      }
      this.#channelInflight = 0;
    }
    this.#smallStart = this.#smallEnd = 0;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#markClosed();
  }
}

/** The entries as little-endian bytes: a view of the caller's memory on a little-endian host. */
function entryBytes(tces: BigUint64Array | Uint8Array): Uint8Array {
  if (tces instanceof Uint8Array) return tces;
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(tces.buffer, tces.byteOffset, tces.byteLength);
  const out = Buffer.allocUnsafe(tces.byteLength);
  tces.forEach((t, i) => out.writeBigUInt64LE(t, 8 * i));
  return out;
}

// ---- the pipelined hcall channel -----------------------------------------------------------------

/** `onReply(tag, ret)`; on an error reply or a lost connection `ret` is -1 and `error` is set. */
export type HcallReplyHandler = (tag: number, ret: number, error: VphbError | undefined) => void;

const PUT = 0;
const STUFF = 1;
type FixedOp = typeof PUT | typeof STUFF;
/** Channel frames are appended to buffers of this size (one allocation per flush at most). */
const SMALL_BUFFER = 16 * 1024;

interface FixedOpInfo {
  readonly spec: OpSpec;
  readonly layout: FixedLayout;
  /** Header (msg_id 0) + template payload. */
  readonly frame: Buffer;
  /** Value offsets in request field order. */
  readonly offsets: readonly number[];
  view(buf: Buffer): DataView;
}

function fixedOp(name: 'H_PUT_TCE' | 'H_STUFF_TCE'): FixedOpInfo {
  const s = spec(name);
  const layout = fixedLayout(s)!;
  const size = HEADER_SIZE + layout.template.byteLength;
  const frame = Buffer.alloc(size);
  writeHeader(frame, 0, { msgId: 0, command: s.code, size, flags: 0, error: 0 });
  frame.set(layout.template, HEADER_SIZE);
  let lastBuf: Buffer | undefined;
  let lastView: DataView | undefined;
  return {
    spec: s, layout, frame, offsets: layout.slots.map((x) => x.offset),
    view(buf) {
      if (buf !== lastBuf) {
        lastBuf = buf;
        lastView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      }
      return lastView!;
    },
  };
}

const FIXED_OPS: readonly FixedOpInfo[] = [fixedOp('H_PUT_TCE'), fixedOp('H_STUFF_TCE')];

/** The `{ret}` of a reply encoded the way the server does (fixmap 1, "ret", an integer), or undefined. */
function readRet(p: Uint8Array): number | undefined {
  if (p.byteLength < 6 || p[0] !== 0x81 || p[1] !== 0xa3 || p[2] !== 0x72 || p[3] !== 0x65 || p[4] !== 0x74) return undefined;
  const t = p[5]!;
  if (p.byteLength === 6 && (t < 0x80 || t >= 0xe0)) return t < 0x80 ? t : t - 0x100;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (t === 0xcd && p.byteLength === 8) return dv.getUint16(6);
  if (t === 0xd1 && p.byteLength === 8) return dv.getInt16(6);
  if (t === 0xd2 && p.byteLength === 10) return dv.getInt32(6);
  if (t === 0xcc && p.byteLength === 7) return p[6]!;
  if (t === 0xd0 && p.byteLength === 7) return dv.getInt8(6);
  return undefined;
}

/**
 * Pipelined hcalls on one VM fd (Client.hcalls). A call throws a VphbError at once when the
 * connection is not open (ENOTCONN), a value is not a u64 (EINVAL) or every msg_id is in flight
 * (EAGAIN); otherwise its reply arrives through the channel's handler.
 */
export class HcallChannel {
  readonly #client: Client;
  readonly vmFd: number;
  readonly onReply: HcallReplyHandler;

  /** @internal (Client.hcalls) */
  constructor(client: Client, vmFd: number, onReply: HcallReplyHandler) {
    if (!Number.isInteger(vmFd) || vmFd < -0x8000_0000 || vmFd > 0x7fff_ffff) throw new VphbError('EINVAL', `vm fd ${vmFd} is not an s32`);
    this.#client = client;
    this.vmFd = vmFd;
    this.onReply = onReply;
  }

  /** H_PUT_TCE(liobn, ioba, tce); numbers must be safe integers (then no bigint is made). */
  putTce(liobn: number | bigint, ioba: number | bigint, tce: number | bigint, tag: number): void {
    this.#client._sendFixed(this, PUT, tag, liobn, ioba, tce, 0);
  }

  /** H_STUFF_TCE(liobn, ioba, tce_value, npages). */
  stuffTce(liobn: number | bigint, ioba: number | bigint, tceValue: number | bigint, npages: number | bigint, tag: number): void {
    this.#client._sendFixed(this, STUFF, tag, liobn, ioba, tceValue, npages);
  }
}
