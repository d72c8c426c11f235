/**
 * Op dispatch: command code → registry entry → validated request → handler → encoded reply.
 * The only place that knows both the wire and the model; the session hands it frames and gets
 * back reply payloads or a VphbError.
 */
import { VphbError, isVphbError } from '../wire/errno.js';
import { decodePayload, encodePayload } from '../wire/msgpack.js';
import { OPS, type MsgpackOpName, type OpName, type OpSpec } from '../wire/ops.generated.js';
import { Deferred, EncodedReply, type HandlerMap, type MsgpackHandler, type OpContext, type RawHandler } from './context.js';
import { decodeRequest } from './validate.js';

type AnyHandler = (ctx: OpContext, req: never) => unknown;

interface Entry {
  spec: OpSpec;
  handler: AnyHandler | undefined;
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
    for (const spec of specs) this.#byCode.set(spec.code, { spec, handler: table[spec.name] });
  }

  spec(code: number): OpSpec | undefined {
    return this.#byCode.get(code)?.spec;
  }

  /** Ops that have a handler, for the VERSION capabilities. */
  implemented(): OpSpec[] {
    return [...this.#byCode.values()].filter((e) => e.handler !== undefined).map((e) => e.spec);
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
        const req = decodeRequest(spec, decodePayload(payload));
        reply = (handler as MsgpackHandler<MsgpackOpName>)(ctx, req as never);
      }
      if (reply instanceof Deferred) return new PendingReply(spec.name, reply.slices as Generator<void, unknown, void>);
      if (reply instanceof EncodedReply) return reply.bytes;
      return encodePayload(reply ?? {});
    } catch (e) {
      if (isVphbError(e)) throw e;
      throw new InternalError(spec.name, e);
    }
  }
}
