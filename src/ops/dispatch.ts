/**
 * Op dispatch: command code → registry entry → validated request → handler → encoded reply.
 * The only place that knows both the wire and the model; the session hands it frames and gets
 * back reply payloads or a VphbError.
 */
import { VphbError, isVphbError } from '../wire/errno.js';
import { fixedLayout, readFixed, type FixedLayout } from '../wire/fixed-layout.js';
import { decodePayload, encodePayload } from '../wire/msgpack.js';
import { OPS, type MsgpackOpName, type OpName, type OpSpec } from '../wire/ops.generated.js';
import { Deferred, EncodedReply, type HandlerMap, type MsgpackHandler, type OpContext, type RawHandler, type RawStream } from './context.js';
import { FIXED_LAYOUT_OPS } from './hcalls.js';
import { tceBatchStream } from './tce-batch.js';
import { decodeRequest } from './validate.js';

type AnyHandler = (ctx: OpContext, req: never) => unknown;

interface Entry {
  spec: OpSpec;
  handler: AnyHandler | undefined;
  /** The op's fixed-layout request encoding, read without the general decoder when it matches. */
  fixed: FixedLayout | undefined;
  /** The reply is `{ret}` alone (the hcalls): encoded once per value, then reused. */
  retOnly: boolean;
}

/** Encoded `{ret: n}` replies, by n (PAPR return codes: a handful of values). */
const RET_REPLIES = new Map<number, Buffer>();

function retReply(ret: number): Buffer {
  let b = RET_REPLIES.get(ret);
  if (b === undefined) {
    b = encodePayload({ ret });
    if (RET_REPLIES.size < 64) RET_REPLIES.set(ret, b);
  }
  return b;
}

/** An op failed in a way no kernel call would: a vphb bug. Carries the original error. */
export class InternalError extends VphbError {
  readonly causeError: unknown;
  constructor(op: string, cause: unknown) {
    super('EIO', `${op}: internal error`);
    this.causeError = cause;
  }
}

/**
 * A command whose op runs in slices (see `Deferred`): `step()` advances it by one slice and returns
 * the encoded reply once it is done, undefined before. A failure surfaces as from `execute`.
 */
export class PendingReply {
  readonly #op: string;
  readonly #slices: Generator<void, unknown, void>;

  constructor(op: string, slices: Generator<void, unknown, void>) {
    this.#op = op;
    this.#slices = slices;
  }

  /** Runs every remaining slice at once (tools and tests that need no fairness). */
  finish(): Buffer {
    for (;;) {
      const r = this.step();
      if (r !== undefined) return r;
    }
  }

  step(): Buffer | undefined {
    try {
      const r = this.#slices.next();
      if (r.done !== true) return undefined;
      return r.value instanceof EncodedReply ? r.value.bytes : encodePayload(r.value ?? {});
    } catch (e) {
      if (isVphbError(e)) throw e;
      throw new InternalError(this.#op, e);
    }
  }
}

export class Dispatcher {
  readonly #byCode = new Map<number, Entry>();

  constructor(handlers: HandlerMap, specs: readonly OpSpec[] = OPS) {
    const table = handlers as Partial<Record<OpName, AnyHandler>>;
    for (const spec of specs) {
      const fixed = FIXED_LAYOUT_OPS.has(spec.name) ? fixedLayout(spec) : undefined;
      const retOnly = fixed !== undefined && spec.reply.length === 1 && spec.reply[0]!.name === 'ret';
      this.#byCode.set(spec.code, { spec, handler: table[spec.name], fixed, retOnly });
    }
  }

  spec(code: number): OpSpec | undefined {
    return this.#byCode.get(code)?.spec;
  }

  /** Ops that have a handler, for the VERSION capabilities. */
  implemented(): OpSpec[] {
    return [...this.#byCode.values()].filter((e) => e.handler !== undefined).map((e) => e.spec);
  }

  /**
   * For a raw op that can take its payload in pieces as it arrives (TCE_PUT_BATCH): a stream
   * whose `end()` returns the encoded reply, as `execute` would for the whole payload (same
   * errors). Undefined for every other op (the caller assembles the frame and calls `execute`).
   */
  stream(ctx: OpContext, code: number, payloadBytes: number): RawStream<Buffer> | undefined {
    const entry = this.#byCode.get(code);
    if (entry === undefined || entry.handler === undefined || entry.spec.name !== 'TCE_PUT_BATCH') return undefined;
    const { spec } = entry;
    const handler = entry.handler as RawHandler<'TCE_PUT_BATCH'>;
    const inner = tceBatchStream(ctx, payloadBytes, (payload) => handler(ctx, payload));
    let failed: unknown;
    return {
      data(piece) {
        if (failed !== undefined) return;
        try {
          inner.data(piece);
        } catch (e) {
          failed = e;
        }
      },
      end() {
        try {
          if (failed !== undefined) throw failed;
          return encodePayload(inner.end());
        } catch (e) {
          if (isVphbError(e)) throw e;
          throw new InternalError(spec.name, e);
        }
      },
    };
  }

  /**
   * Runs one command. Returns the encoded reply payload; throws a VphbError carrying the errno
   * for the error reply (ENOTTY for an unknown command, EINVAL for a malformed request, the
   * model's errno otherwise, EIO wrapped as InternalError for a bug). A long op returns a
   * PendingReply instead, which the caller advances slice by slice.
   */
  execute(ctx: OpContext, code: number, payload: Uint8Array): Buffer | PendingReply {
    const entry = this.#byCode.get(code);
    if (entry === undefined || entry.handler === undefined) {
      throw new VphbError('ENOTTY', `unknown command ${code}`);
    }
    const { spec, handler } = entry;
    try {
      let reply: unknown;
      if (spec.payload === 'raw') {
        reply = (handler as RawHandler<OpName>)(ctx, payload);
      } else {
        const req = (entry.fixed === undefined ? undefined : readFixed(entry.fixed, payload)) ?? decodeRequest(spec, decodePayload(payload));
        reply = (handler as MsgpackHandler<MsgpackOpName>)(ctx, req as never);
      }
      // A sliced op (H_STUFF_TCE over millions of entries) replies when its last slice is done.
      if (reply instanceof Deferred) return new PendingReply(spec.name, reply.slices as Generator<void, unknown, void>);
      if (entry.retOnly) return retReply((reply as { ret: number }).ret);
      if (reply instanceof EncodedReply) return reply.bytes;
      return encodePayload(reply ?? {});
    } catch (e) {
      if (isVphbError(e)) throw e;
      throw new InternalError(spec.name, e);
    }
  }
}
