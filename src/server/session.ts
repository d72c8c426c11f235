/**
 * One connection: VERSION handshake, in-order execution of commands through the dispatcher,
 * backpressure, and release of everything the peer held when it goes away.
 *
 * Delivery is one path for every transport: a transport only queues what it received (onFrame,
 * onOversize, onFatal append to the inbox, in order); the commands are executed by the server's
 * Scheduler in slices (runSlice), and the replies of a turn leave in one write (flush). Nothing a
 * transport reports — a flush completing synchronously, a close delivering buffered messages —
 * can re-enter command execution.
 *
 * Bounds per connection: before VERSION the transport accepts one frame of at most
 * `preVersionFrameSize` bytes (anything larger is EPROTO and the connection closes, the body is
 * never buffered or decoded); the inbox stops the transport reading above `maxInflight` frames or
 * `inputHighWater` bytes; execution stops while `maxInflight` replies are unflushed or
 * `writeHighWater` bytes wait to be written (a peer that does not read stalls only itself); a
 * reply above `max_frame_size` is replaced by EMSGSIZE; the handshake must finish within
 * `handshakeTimeoutMs`.
 */
import { timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { createOpContext, destroyOpContext, releaseInSlices, type ConnectionOptions, type OpContext, type System } from '../ops/context.js';
import { InternalError, PendingReply, type Dispatcher } from '../ops/dispatch.js';
import { decodeRequest } from '../ops/validate.js';
import { VphbError, isVphbError } from '../wire/errno.js';
import {
  FLAG_ERROR, FLAG_NO_REPLY, HEADER_SIZE, TYPE_COMMAND, TYPE_MASK, TYPE_REPLY, type FrameHeader,
} from '../wire/header.js';
import { decodePayload, encodePayload } from '../wire/msgpack.js';
import { OP_CODES, OPS, PROTOCOL_VERSION, type EventName, type Events, type Requests } from '../wire/ops.generated.js';
import type { Capabilities } from '../wire/structs.js';
import type { BodySink } from '../wire/frame-decoder.js';
import type { Runnable, Scheduler } from './scheduler.js';
import type { FrameHandler, OutFrame, Transport } from './transport.js';

export interface SessionLimits {
  maxFrameSize: number;
  /** Replies the peer may leave unread before the session stops executing (and reading). */
  maxInflight: number;
  /** Unflushed reply bytes above which the session stops executing (and reading). */
  writeHighWater: number;
  /** Replies coalesced into one write at most within a turn (more are written in groups). */
  replyBatch: number;
  /** Largest frame accepted before VERSION has succeeded (VERSION itself is tiny). */
  preVersionFrameSize: number;
  /** Received bytes queued for execution above which the session stops reading. */
  inputHighWater: number;
  /** Time a connection has to complete VERSION before it is dropped, in ms. */
  handshakeTimeoutMs: number;
}

export interface SessionOptions extends ConnectionOptions {
  id: number;
  limits: SessionLimits;
  /** Token the peer must present in VERSION, or null when the transport needs none (UNIX). */
  token: string | null;
  serverName: string;
  scheduler: Scheduler;
  /** The connection completed VERSION (the server counts unauthenticated connections). */
  onOpen?: (s: Session) => void;
}

type State = 'handshake' | 'open' | 'closing' | 'closed';

/** One received item, in arrival order. */
type Inbound =
  | { kind: 'frame'; h: FrameHeader; payload: Uint8Array }
  /** A command whose body was streamed to its op as it arrived; `end` executes it. */
  | { kind: 'streamed'; h: FrameHeader; end: () => Buffer | PendingReply }
  | { kind: 'oversize'; h: FrameHeader }
  | { kind: 'fatal'; reason: string };

const CODE_VERSION = OP_CODES.VERSION;
const VERSION_SPEC = OPS.find((o) => o.name === 'VERSION')!;

export class Session implements FrameHandler, Runnable {
  readonly id: number;
  readonly ctx: OpContext;
  readonly log: Logger;
  #state: State = 'handshake';
  readonly #transport: Transport;
  readonly #dispatcher: Dispatcher;
  readonly #opts: SessionOptions;
  readonly #scheduler: Scheduler;
  #out: OutFrame[] = [];
  #outBytes = 0;
  /** Replies handed to the transport whose flush has not been confirmed. */
  #unflushed = 0;
  /** msg_id of the next server-initiated frame (the server's own counter). */
  #eventId = 0;
  #inbox: Inbound[] = [];
  #inHead = 0;
  #inBytes = 0;
  #inputPaused = false;
  /** The command whose op runs in slices, if any; later commands wait behind it. */
  #current: { h: FrameHeader; noReply: boolean; pending: PendingReply } | undefined;
  /** After the peer went away: the long part of releasing its state, in slices. */
  #releasing: Generator<void, void, void> | undefined;
  #peerEnded = false;
  #ended = false;
  #released = false;
  #handshakeTimer: NodeJS.Timeout | undefined;
  readonly #onClosed: (s: Session) => void;

  constructor(
    transport: Transport,
    system: System,
    dispatcher: Dispatcher,
    log: Logger,
    opts: SessionOptions,
    onClosed: (s: Session) => void,
  ) {
    this.id = opts.id;
    this.#transport = transport;
    this.#dispatcher = dispatcher;
    this.#opts = opts;
    this.#scheduler = opts.scheduler;
    this.#onClosed = onClosed;
    this.log = log;
    this.ctx = createOpContext(system, opts.id, {
      ...opts,
      maxReplyPayload: opts.maxReplyPayload ?? opts.limits.maxFrameSize - HEADER_SIZE,
    });
    this.#handshakeTimer = setTimeout(() => {
      if (this.#state !== 'handshake') return;
      this.log.info({ timeoutMs: opts.limits.handshakeTimeoutMs }, 'no VERSION in time: dropping connection');
      this.#transport.destroy();
    }, opts.limits.handshakeTimeoutMs);
    this.#handshakeTimer.unref();
    this.ctx.notify = (name, payload) => this.notify(name, payload);
  }

  /**
   * Sends a server-initiated command frame (no_reply) to the peer, after whatever is already
   * queued: an event raised while a command executes precedes that command's reply. It goes out
   * with the replies at the end of the scheduler turn.
   */
  notify<K extends EventName>(name: K, payload: Events[K]): void {
    if (this.#state !== 'open') return;
    const msgId = this.#eventId;
    this.#eventId = (this.#eventId + 1) & 0xffff;
    this.#queue({ msgId, command: OP_CODES[name], size: 0, flags: 0, error: 0 }, TYPE_COMMAND | FLAG_NO_REPLY, 0, encodePayload(payload));
    // Outside a turn (an event caused by another connection) nothing else would flush it.
    this.#scheduler.wake(this);
  }

  get state(): State {
    return this.#state;
  }

  /** True while the session has stopped reading from the peer (its commands pile up unexecuted). */
  get readPaused(): boolean {
    return this.#inputPaused;
  }

  /** Received items not yet executed. */
  get queued(): number {
    return this.#inbox.length - this.#inHead;
  }

  // ---- FrameHandler: the transports only queue ---------------------------------------------------

  onFrame(h: FrameHeader, payload: Uint8Array): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#push({ kind: 'frame', h, payload }, payload.byteLength);
    // Before VERSION has been answered, read nothing more: the next frame may only be as large
    // as the handshake allows (the transport's limit is raised when it succeeds).
    if (this.#state === 'handshake') this.#pauseInput();
  }

  /**
   * A command whose body spans chunks: streamed to its op when the op can take it in pieces
   * (Dispatcher.stream); the reply, errors and backpressure are then as in onFrame.
   */
  onBodyStream(h: FrameHeader): BodySink | undefined {
    if (this.#state !== 'open' || (h.flags & TYPE_MASK) !== TYPE_COMMAND || h.command === CODE_VERSION) return undefined;
    // Only when every earlier command has run: the op checks its pieces against the state they
    // left. It then executes in order, in a scheduler turn like any command.
    if (this.#inHead < this.#inbox.length || this.#current !== undefined) return undefined;
    const inner = this.#dispatcher.stream(this.ctx, h.command, h.size - HEADER_SIZE);
    if (inner === undefined) return undefined;
    return {
      data: (piece) => inner.data(piece),
      end: () => {
        if (this.#state === 'closing' || this.#state === 'closed') return;
        this.#push({ kind: 'streamed', h, end: () => inner.end() }, 0);
      },
    };
  }

  onOversize(h: FrameHeader): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#push({ kind: 'oversize', h }, 0);
    // Before VERSION this ends the connection: read (and discard) no more of its body.
    if (this.#state === 'handshake') this.#pauseInput();
  }

  onFatal(reason: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#push({ kind: 'fatal', reason }, 0);
    this.#pauseInput();
  }

  /** A batch of received data has been queued (the scheduler already knows). */
  onBatchEnd(): void {
    /* replies are written at the end of each scheduler turn */
  }

  /** The peer finished writing: answer what it sent, then close our side. */
  onPeerEnd(): void {
    this.#peerEnded = true;
    this.#scheduler.wake(this);
  }

  onClose(truncatedBytes: number): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#handshakeTimer);
    if (truncatedBytes > 0) this.log.debug({ truncatedBytes }, 'connection closed mid-frame');
    // The peer is gone: what it queued is not executed (a killed process runs no more ioctls). An
    // op already running in slices is finished first, so that it stays all-or-nothing.
    this.#dropInbox();
    this.#out = [];
    this.#outBytes = 0;
    // Clearing what its containers map can take long (millions of TCEs): in slices as well.
    this.#releasing = releaseInSlices(this.ctx);
    this.#scheduler.wake(this);
  }

  /** Drops the connection now (server shutdown); onClose releases the handles. */
  destroy(): void {
    this.#transport.destroy();
  }

  // ---- Runnable: execution in slices ---------------------------------------------------------------

  runSlice(deadline: number, maxCommands: number): boolean {
    let done = 0;
    for (;;) {
      if (this.#current !== undefined) {
        if (!this.#stepCurrent()) {
          if (performance.now() >= deadline) return true;
          continue;
        }
      } else {
        if (this.#state === 'closed') {
          if (this.#releasing !== undefined && !this.#stepReleasing()) {
            if (performance.now() >= deadline) return true;
            continue;
          }
          this.#release();
          return false;
        }
        if (this.#state === 'closing' || this.#inHead >= this.#inbox.length) return false;
        if (this.#outputBlocked()) return false;
        this.#take();
      }
      if (++done >= maxCommands || performance.now() >= deadline) return this.#hasWork();
    }
  }

  flush(): void {
    this.#flush();
    if (this.#peerEnded && !this.#ended && (this.#state === 'open' || this.#state === 'handshake') && !this.#hasWork() && this.#out.length === 0) {
      this.#ended = true;
      this.#transport.end();
    }
  }

  #hasWork(): boolean {
    if (this.#current !== undefined) return true;
    if (this.#state === 'closed') return !this.#released;
    return this.#state !== 'closing' && this.#inHead < this.#inbox.length && !this.#outputBlocked();
  }

  #outputBlocked(): boolean {
    const { maxInflight, writeHighWater } = this.#opts.limits;
    return this.#unflushed >= maxInflight || this.#transport.bufferedBytes + this.#outBytes >= writeHighWater;
  }

  #push(item: Inbound, bytes: number): void {
    this.#inbox.push(item);
    this.#inBytes += bytes;
    const { maxInflight, inputHighWater } = this.#opts.limits;
    if (this.queued >= maxInflight || this.#inBytes >= inputHighWater) this.#pauseInput();
    this.#scheduler.wake(this);
  }

  #pauseInput(): void {
    if (this.#inputPaused) return;
    this.#inputPaused = true;
    this.#transport.pause();
  }

  #maybeResumeInput(): void {
    if (!this.#inputPaused || this.#state !== 'open') return;
    const { maxInflight, inputHighWater } = this.#opts.limits;
    if (this.queued <= maxInflight / 2 && this.#inBytes <= inputHighWater / 2) {
      this.#inputPaused = false;
      this.#transport.resume(); // may queue more frames right away (never executes them)
    }
  }

  #dropInbox(): void {
    this.#inbox = [];
    this.#inHead = 0;
    this.#inBytes = 0;
  }

  /** Executes the next received item. */
  #take(): void {
    const item = this.#inbox[this.#inHead]!;
    this.#inbox[this.#inHead++] = undefined as unknown as Inbound;
    if (this.#inHead > 1024 && this.#inHead * 2 > this.#inbox.length) {
      this.#inbox = this.#inbox.slice(this.#inHead);
      this.#inHead = 0;
    }
    if (item.kind === 'frame') {
      this.#inBytes -= item.payload.byteLength;
      this.#frame(item.h, item.payload);
    } else if (item.kind === 'streamed') {
      this.#run(item.h, (item.h.flags & FLAG_NO_REPLY) !== 0, item.end);
    } else if (item.kind === 'oversize') {
      this.#oversize(item.h);
    } else {
      this.log.warn({ reason: item.reason }, 'framing error: closing connection');
      this.#close();
    }
    this.#maybeResumeInput();
  }

  // ---- commands --------------------------------------------------------------------------------

  #frame(h: FrameHeader, payload: Uint8Array): void {
    const noReply = (h.flags & FLAG_NO_REPLY) !== 0;
    if ((h.flags & TYPE_MASK) !== TYPE_COMMAND) {
      if (this.#state === 'handshake') {
        this.#fail(h, new VphbError('EPROTO', `the first frame must be a VERSION command; got frame type ${h.flags & TYPE_MASK}`));
      } else {
        this.#replyError(h, new VphbError('EINVAL', `frame type ${h.flags & TYPE_MASK} is not a command`), false);
      }
    } else if (this.#state === 'handshake') {
      this.#handshake(h, payload, noReply);
    } else if (h.command === CODE_VERSION) {
      this.#replyError(h, new VphbError('EINVAL', 'VERSION already negotiated on this connection'), noReply);
    } else {
      this.#execute(h, payload, noReply);
    }
  }

  #oversize(h: FrameHeader): void {
    if (this.#state === 'handshake') {
      // Not a VERSION we would read: whatever this peer speaks, it is not this protocol.
      this.#fail(h, new VphbError('EPROTO', `the first command must be VERSION; got a ${h.size}-byte frame (at most ${this.#opts.limits.preVersionFrameSize} before VERSION)`));
      return;
    }
    this.#replyError(
      h,
      new VphbError('EMSGSIZE', `frame size ${h.size} exceeds max_frame_size ${this.#opts.limits.maxFrameSize}`),
      (h.flags & FLAG_NO_REPLY) !== 0,
    );
  }

  #handshake(h: FrameHeader, payload: Uint8Array, noReply: boolean): void {
    if (h.command !== CODE_VERSION) {
      this.#fail(h, new VphbError('EPROTO', `the first command must be VERSION (${CODE_VERSION}), got ${h.command}`));
      return;
    }
    let req: Requests['VERSION'];
    try {
      req = decodeRequest(VERSION_SPEC, decodePayload(payload)) as Requests['VERSION'];
    } catch (e) {
      this.#fail(h, isVphbError(e) ? e : new VphbError('EINVAL', String(e)));
      return;
    }
    if (req.major !== PROTOCOL_VERSION[0]) {
      this.#fail(h, new VphbError('EPROTO', `protocol major ${req.major} not supported (server speaks ${PROTOCOL_VERSION[0]})`));
      return;
    }
    if (this.#opts.token !== null && !tokenMatches(this.#opts.token, req.token)) {
      this.#fail(h, new VphbError('EACCES', req.token === undefined ? 'token required on this transport' : 'bad token'));
      return;
    }
    this.#state = 'open';
    clearTimeout(this.#handshakeTimer);
    this.ctx.system.connections.set(this.id, {
      ctx: this.ctx, transport: this.#transport.kind, peer: this.#transport.peer, name: req.client,
    });
    this.#opts.onOpen?.(this);
    this.#transport.setMaxFrameSize(this.#opts.limits.maxFrameSize);
    this.log.info({ client: req.client, minor: req.minor }, 'handshake');
    const capabilities: Capabilities = {
      max_frame_size: this.#opts.limits.maxFrameSize,
      max_inflight: this.#opts.limits.maxInflight,
      host_page_size: 2 ** this.ctx.system.topology.hostPageShift,
      profile: this.ctx.system.profile,
      ops: this.#dispatcher.implemented().map((s) => ({ name: s.name, code: s.code, payload: s.payload })),
    };
    if (!noReply) {
      this.#reply(h, encodePayload({
        major: PROTOCOL_VERSION[0],
        minor: Math.min(req.minor, PROTOCOL_VERSION[1]),
        server: this.#opts.serverName,
        capabilities,
      }));
    }
  }

  #execute(h: FrameHeader, payload: Uint8Array, noReply: boolean): void {
    this.#run(h, noReply, () => this.#dispatcher.execute(this.ctx, h.command, payload));
  }

  #run(h: FrameHeader, noReply: boolean, op: () => Buffer | PendingReply): void {
    let reply: Buffer | PendingReply;
    try {
      reply = op();
    } catch (e) {
      this.#failed(h, e, noReply);
      return;
    }
    if (reply instanceof PendingReply) this.#current = { h, noReply, pending: reply };
    else if (!noReply) this.#reply(h, reply);
  }

  /** Advances the op running in slices by one slice; true once it has finished. */
  #stepCurrent(): boolean {
    const { h, noReply, pending } = this.#current!;
    let reply: Buffer | undefined;
    try {
      reply = pending.step();
    } catch (e) {
      this.#current = undefined;
      this.#failed(h, e, noReply);
      return true;
    }
    if (reply === undefined) return false;
    this.#current = undefined;
    if (!noReply) this.#reply(h, reply);
    return true;
  }

  /** One slice of the release pre-pass; true once it is over (or failed: the release does it all). */
  #stepReleasing(): boolean {
    try {
      if (this.#releasing!.next().done !== true) return false;
    } catch (e) {
      this.log.error({ err: e }, 'error while clearing the mappings of a closed connection');
    }
    this.#releasing = undefined;
    return true;
  }

  #failed(h: FrameHeader, e: unknown, noReply: boolean): void {
    const err = isVphbError(e) ? e : new InternalError(`command ${h.command}`, e);
    if (err instanceof InternalError) {
      this.log.error({ err: err.causeError, command: h.command }, 'internal error');
    } else if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ command: h.command, errno: err.code, msg: err.message }, 'command failed');
    }
    this.#replyError(h, err, noReply);
  }

  /** Error reply, then close: for failures that end the connection (handshake). */
  #fail(h: FrameHeader, err: VphbError): void {
    this.log.info({ errno: err.code, msg: err.message }, 'handshake refused');
    this.#replyError(h, err, false);
    this.#close();
  }

  /** Stops executing, writes what is queued, and closes. */
  #close(): void {
    this.#state = 'closing';
    clearTimeout(this.#handshakeTimer);
    this.#dropInbox();
    this.#pauseInput();
    this.#flush();
    this.#transport.end();
  }

  #reply(h: FrameHeader, payload: Buffer): void {
    if (HEADER_SIZE + payload.length > this.#opts.limits.maxFrameSize) {
      // A reply must fit the frame size the peer was promised: refuse the request instead.
      this.#replyError(h, new VphbError('EMSGSIZE', `reply of ${HEADER_SIZE + payload.length} bytes exceeds max_frame_size ${this.#opts.limits.maxFrameSize}`), false);
      return;
    }
    this.#queue(h, TYPE_REPLY, 0, payload);
  }

  #replyError(h: FrameHeader, err: VphbError, noReply: boolean): void {
    if (noReply) return;
    this.#queue(h, TYPE_REPLY | FLAG_ERROR, err.errno, encodePayload({ message: err.message }));
  }

  #queue(h: FrameHeader, flags: number, error: number, payload: Buffer): void {
    if (this.#state === 'closed') return;
    this.#out.push({ header: { msgId: h.msgId, command: h.command, size: HEADER_SIZE + payload.length, flags, error }, payload });
    this.#outBytes += HEADER_SIZE + payload.length;
    this.#unflushed++;
    // Hand replies over in groups while a long pipelined run is still being executed, so the
    // peer can work on the first replies while later commands run (both sides overlap).
    if (this.#out.length >= this.#opts.limits.replyBatch) this.#flush();
  }

  #flush(): void {
    if (this.#out.length === 0 || this.#state === 'closed') return;
    const frames = this.#out;
    const bytes = this.#outBytes;
    this.#out = [];
    this.#outBytes = 0;
    this.#transport.send(frames, bytes, () => {
      this.#unflushed -= frames.length;
      if (this.#hasWork() || this.#peerEnded) this.#scheduler.wake(this);
    });
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#scheduler.remove(this);
    const open = this.ctx.handles.size;
    const errors = destroyOpContext(this.ctx);
    for (const e of errors) this.log.error({ err: e }, 'error while releasing a handle');
    this.log.info({ handlesReleased: open }, 'disconnected');
    this.#onClosed(this);
  }
}

function tokenMatches(expected: string, got: string | undefined): boolean {
  if (got === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}
