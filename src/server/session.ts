/**
 * One connection: VERSION handshake, in-order execution of commands through the dispatcher,
 * replies coalesced per batch of received data, and backpressure (the session stops reading from a
 * peer whose replies pile up unread). Everything the peer held is released when it goes away.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { createOpContext, destroyOpContext, type ConnectionOptions, type OpContext, type System } from '../ops/context.js';
import { InternalError, type Dispatcher } from '../ops/dispatch.js';
import { decodeRequest } from '../ops/validate.js';
import { VphbError, isVphbError } from '../wire/errno.js';
import {
  FLAG_ERROR, FLAG_NO_REPLY, HEADER_SIZE, TYPE_COMMAND, TYPE_MASK, TYPE_REPLY, type FrameHeader,
} from '../wire/header.js';
import { decodePayload, encodePayload } from '../wire/msgpack.js';
import { OP_CODES, OPS, PROTOCOL_VERSION, type EventName, type Events, type Requests } from '../wire/ops.generated.js';
import type { Capabilities } from '../wire/structs.js';
import type { BodySink } from '../wire/frame-decoder.js';
import type { FrameHandler, OutFrame, Transport } from './transport.js';

export interface SessionLimits {
  maxFrameSize: number;
  /** Replies the peer may leave unread before the session stops reading from it. */
  maxInflight: number;
  /** Unflushed reply bytes above which the session stops reading. */
  writeHighWater: number;
  /** Replies coalesced into one write at most, while a received chunk is still being executed. */
  replyBatch: number;
}

export interface SessionOptions extends ConnectionOptions {
  id: number;
  limits: SessionLimits;
  /** Token the peer must present in VERSION, or null when the transport needs none (UNIX). */
  token: string | null;
  serverName: string;
}

type State = 'handshake' | 'open' | 'closing' | 'closed';

const CODE_VERSION = OP_CODES.VERSION;
const VERSION_SPEC = OPS.find((o) => o.name === 'VERSION')!;

export class Session implements FrameHandler {
  readonly id: number;
  readonly ctx: OpContext;
  readonly log: Logger;
  #state: State = 'handshake';
  readonly #transport: Transport;
  readonly #dispatcher: Dispatcher;
  readonly #opts: SessionOptions;
  #out: OutFrame[] = [];
  #outBytes = 0;
  /** Replies handed to the transport whose flush has not been confirmed. */
  #unflushed = 0;
  #readPaused = false;
  /** msg_id of the next server-initiated frame (the server's own counter). */
  #eventId = 0;
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
    this.#onClosed = onClosed;
    this.log = log;
    this.ctx = createOpContext(system, opts.id, opts);
    this.ctx.notify = (name, payload) => this.notify(name, payload);
  }

  /**
   * Sends a server-initiated command frame (no_reply) to the peer, after whatever is already
   * queued: an event raised while a command executes precedes that command's reply.
   */
  notify<K extends EventName>(name: K, payload: Events[K]): void {
    if (this.#state !== 'open') return;
    const msgId = this.#eventId;
    this.#eventId = (this.#eventId + 1) & 0xffff;
    this.#queue({ msgId, command: OP_CODES[name], size: 0, flags: 0, error: 0 }, TYPE_COMMAND | FLAG_NO_REPLY, 0, encodePayload(payload));
    // Outside a batch of received data nothing else would flush it.
    queueMicrotask(() => this.#flush());
  }

  get state(): State {
    return this.#state;
  }

  /** True while the session has stopped reading because the peer leaves its replies unread. */
  get readPaused(): boolean {
    return this.#readPaused;
  }

  // ---- FrameHandler --------------------------------------------------------------------------

  onFrame(h: FrameHeader, payload: Uint8Array): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    const noReply = (h.flags & FLAG_NO_REPLY) !== 0;
    if ((h.flags & TYPE_MASK) !== TYPE_COMMAND) {
      this.#replyError(h, new VphbError('EINVAL', `frame type ${h.flags & TYPE_MASK} is not a command`), false);
    } else if (this.#state === 'handshake') {
      this.#handshake(h, payload, noReply);
    } else if (h.command === CODE_VERSION) {
      this.#replyError(h, new VphbError('EINVAL', 'VERSION already negotiated on this connection'), noReply);
    } else {
      this.#execute(h, payload, noReply);
    }
    this.#checkBackpressure();
  }

  /**
   * A command whose body spans chunks: streamed to its op when the op can take it in pieces
   * (Dispatcher.stream); the reply, errors and backpressure are then as in onFrame.
   */
  onBodyStream(h: FrameHeader): BodySink | undefined {
    if (this.#state !== 'open' || (h.flags & TYPE_MASK) !== TYPE_COMMAND || h.command === CODE_VERSION) return undefined;
    const inner = this.#dispatcher.stream(this.ctx, h.command, h.size - HEADER_SIZE);
    if (inner === undefined) return undefined;
    return {
      data: (piece) => inner.data(piece),
      end: () => {
        if (this.#state === 'closing' || this.#state === 'closed') return;
        this.#run(h, (h.flags & FLAG_NO_REPLY) !== 0, () => inner.end());
        this.#checkBackpressure();
      },
    };
  }

  onOversize(h: FrameHeader): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (this.#state === 'handshake') {
      // Not a VERSION we could read: whatever this peer speaks, it is not this protocol.
      this.#fail(h, new VphbError('EPROTO', `the first command must be VERSION; got a ${h.size}-byte frame`));
      return;
    }
    this.#replyError(
      h,
      new VphbError('EMSGSIZE', `frame size ${h.size} exceeds max_frame_size ${this.#opts.limits.maxFrameSize}`),
      (h.flags & FLAG_NO_REPLY) !== 0,
    );
    this.#checkBackpressure();
  }

  onFatal(reason: string): void {
    if (this.#state === 'closed') return;
    this.log.warn({ reason }, 'framing error: closing connection');
    this.#state = 'closing';
    this.#flush();
    this.#transport.end();
  }

  onBatchEnd(): void {
    this.#flush();
  }

  onClose(truncatedBytes: number): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (truncatedBytes > 0) this.log.debug({ truncatedBytes }, 'connection closed mid-frame');
    const open = this.ctx.handles.size;
    const errors = destroyOpContext(this.ctx);
    for (const e of errors) this.log.error({ err: e }, 'error while releasing a handle');
    this.log.info({ handlesReleased: open }, 'disconnected');
    this.#onClosed(this);
  }

  /** Drops the connection now (server shutdown); onClose releases the handles. */
  destroy(): void {
    this.#transport.destroy();
  }

  // ---- commands --------------------------------------------------------------------------------

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
    this.ctx.system.connections.set(this.id, {
      ctx: this.ctx, transport: this.#transport.kind, peer: this.#transport.peer, name: req.client,
    });
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

  #run(h: FrameHeader, noReply: boolean, op: () => Buffer): void {
    let reply: Buffer;
    try {
      reply = op();
    } catch (e) {
      const err = isVphbError(e) ? e : new InternalError(`command ${h.command}`, e);
      if (err instanceof InternalError) {
        this.log.error({ err: err.causeError, command: h.command }, 'internal error');
      } else if (this.log.isLevelEnabled('debug')) {
        this.log.debug({ command: h.command, errno: err.code, msg: err.message }, 'command failed');
      }
      this.#replyError(h, err, noReply);
      return;
    }
    if (!noReply) this.#reply(h, reply);
  }

  /** Error reply, then close: for failures that end the connection (handshake). */
  #fail(h: FrameHeader, err: VphbError): void {
    this.log.info({ errno: err.code, msg: err.message }, 'handshake refused');
    this.#replyError(h, err, false);
    this.#state = 'closing';
    this.#flush();
    this.#transport.end();
  }

  #reply(h: FrameHeader, payload: Buffer): void {
    this.#queue(h, TYPE_REPLY, 0, payload);
  }

  #replyError(h: FrameHeader, err: VphbError, noReply: boolean): void {
    if (noReply) return;
    this.#queue(h, TYPE_REPLY | FLAG_ERROR, err.errno, encodePayload({ message: err.message }));
  }

  #queue(h: FrameHeader, flags: number, error: number, payload: Buffer): void {
    this.#out.push({ header: { msgId: h.msgId, command: h.command, size: HEADER_SIZE + payload.length, flags, error }, payload });
    this.#outBytes += HEADER_SIZE + payload.length;
    this.#unflushed++;
    // Hand replies over in groups while a long pipelined chunk is still being executed, so the
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
      this.#checkBackpressure();
    });
  }

  #checkBackpressure(): void {
    const { maxInflight, writeHighWater } = this.#opts.limits;
    const pending = this.#transport.bufferedBytes + this.#outBytes;
    if (!this.#readPaused) {
      if (this.#unflushed >= maxInflight || pending >= writeHighWater) {
        // Pause first: the flush may be reported synchronously (the kernel took everything), and
        // that report is what resumes reading.
        this.#readPaused = true;
        this.#transport.pause();
        this.#flush();
      }
    } else if (this.#unflushed <= maxInflight / 2 && pending <= writeHighWater / 2) {
      this.#readPaused = false;
      this.#transport.resume();
    }
  }
}

function tokenMatches(expected: string, got: string | undefined): boolean {
  if (got === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}
