/**
 * What a handler sees: the shared model (`System`, one per server) and the calling connection's
 * own state (`OpContext`). This module is the seam between the session and the model: the session
 * creates one `System` at startup and one `OpContext` per connection through the factories below.
 */
import { Host } from '../hw/host.js';
import type { TopologySpec } from '../hw/topology.js';
import { Container } from '../vfio/container.js';
import { Mm } from '../vfio/locked-memory.js';
import { DEFAULT_PROFILE, quirksOf, type ProfileName, type Quirks } from '../vfio/profile.js';
import { MemoryPool } from '../vfio/memory-pool.js';
import { Vfio } from '../vfio/vfio.js';
import type { EventName, Events, MsgpackOpName, Replies, Requests } from '../wire/ops.generated.js';
import { HandleTable } from './handles.js';

/** The model shared by all connections. */
export interface System {
  readonly topology: TopologySpec;
  /** The emulated hardware: PHBs, PEs, devices, TCE tables in use. */
  readonly host: Host;
  /** Host-wide VFIO: groups (one per PE) and live containers. */
  readonly vfio: Vfio;
  /** The behaviour profile (VERSION capabilities, HOST_STATE) and its quirk table. */
  readonly profile: ProfileName;
  readonly quirks: Quirks;
  /** Open connections (after VERSION), by id: what HOST_STATE reports. */
  readonly connections: Map<number, ConnectionRecord>;
  /** Locked memory of all connections together, against the server-wide cap. */
  readonly memory: MemoryPool;
}

/** A connection as HOST_STATE shows it. */
export interface ConnectionRecord {
  readonly ctx: OpContext;
  readonly transport: string;
  readonly peer: string;
  /** The `client` string of its VERSION. */
  readonly name: string;
}

/** Sends a server-initiated frame (an event) to the connection. */
export type EventSink = <K extends EventName>(name: K, payload: Events[K]) => void;

export interface SystemOptions {
  topology: TopologySpec;
  /** Behaviour profile; default: the topology's `profile`, else linux. */
  profile?: ProfileName | undefined;
  /** Server-wide cap on locked memory in bytes; null or absent = unlimited. */
  maxMemory?: bigint | null;
}

export function createSystem(opts: SystemOptions): System {
  const host = new Host(opts.topology);
  const profile = opts.profile ?? opts.topology.profile ?? DEFAULT_PROFILE;
  const quirks = quirksOf(profile);
  const memory = new MemoryPool(opts.maxMemory ?? null, opts.topology.hostPageShift);
  return { topology: opts.topology, host, vfio: new Vfio(host, quirks), profile, quirks, connections: new Map(), memory };
}

export interface ConnectionOptions {
  /** RLIMIT_MEMLOCK of the connection in bytes; null = unlimited. */
  memlockLimit: bigint | null;
  /** Handles open at once (RLIMIT_NOFILE); default 1024. */
  maxHandles?: number;
  /** Largest reply payload the connection can receive (max_frame_size less the header). */
  maxReplyPayload?: number;
}

/** One connection's view: its handles and its "process" state. */
export interface OpContext {
  readonly system: System;
  readonly handles: HandleTable;
  /** Connection id, for messages. */
  readonly connection: number;
  /** The connection's memory context: locked-memory accounting and preregistered memory. */
  readonly mm: Mm;
  /** Where events for this connection go; the session sets it (no-op until then). */
  notify: EventSink;
  /** Largest reply payload this connection can receive; ops producing more refuse (EMSGSIZE). */
  readonly maxReplyPayload: number;
}

export function createOpContext(system: System, connection: number, opts: ConnectionOptions): OpContext {
  const mm = new Mm(opts.memlockLimit, system.topology.hostPageShift, system.memory);
  return {
    system,
    handles: new HandleTable(opts.maxHandles),
    connection,
    mm,
    maxReplyPayload: opts.maxReplyPayload ?? Number.MAX_SAFE_INTEGER,
    notify: () => undefined,
  };
}

/**
 * The part of a connection's release that can take long — clearing the TCEs its containers map,
 * millions of them for a large window — in slices, to run before destroyOpContext (which then
 * finds the tables empty). Only an optimisation: whatever it cannot unmap is left to the release.
 */
export function* releaseInSlices(ctx: OpContext): Generator<void, void, void> {
  const containers = [...ctx.handles.objects()].filter((o): o is Container => o instanceof Container);
  for (const container of containers) {
    const backend = container.backend;
    if (backend === undefined || backend.mm !== ctx.mm || !backend.enabled || backend.defaultWindowPending) continue;
    for (const { table } of backend.windows) {
      let slices: Generator<void, void, void> | undefined;
      try {
        slices = backend.unmapInSlices(ctx.mm, { flags: 0, iova: table.busStart, size: table.windowSize }).slices;
      } catch {
        continue;
      }
      if (slices !== undefined) yield* slices;
    }
  }
}

/** Releases everything a connection held, in kernel order. Returns the errors met, for logging. */
export function destroyOpContext(ctx: OpContext): unknown[] {
  ctx.system.connections.delete(ctx.connection);
  const { errors } = ctx.handles.closeAll();
  ctx.mm.exit();
  return errors;
}

/**
 * A long op's remaining work, in slices: each `next()` does a bounded part (about a millisecond at
 * most) and the generator returns the reply. All checks (and so every failure that must leave
 * nothing changed) happen before the first slice; the slices themselves cannot fail. The session
 * resumes it in later turns of the event loop while the connection's later commands wait.
 */
export type Slices<R> = Generator<void, R, void>;

export class Deferred<R> {
  readonly slices: Slices<R | EncodedReply<R>>;
  constructor(slices: Slices<R | EncodedReply<R>>) {
    this.slices = slices;
  }
}

/**
 * A reply payload the handler encoded itself (a large bin written in place, without a copy). The
 * dispatcher sends its bytes as they are; in-process callers get `value`.
 */
export class EncodedReply<R> {
  readonly bytes: Buffer;
  readonly value: () => R;
  constructor(bytes: Buffer, value: () => R) {
    this.bytes = bytes;
    this.value = value;
  }
}

/** Runs slices to the end at once (in-process callers and tests); returns the reply. */
export function runToEnd<R>(r: R | Deferred<R> | EncodedReply<R>): R {
  if (r instanceof EncodedReply) return r.value();
  if (!(r instanceof Deferred)) return r;
  for (;;) {
    const step = r.slices.next();
    if (step.done === true) return runToEnd(step.value);
  }
}

/** Marks a handler's result as work to be done in slices. */
export function inSlices<R>(slices: Slices<R | EncodedReply<R>>): Deferred<R> {
  return new Deferred(slices);
}

export type MsgpackHandler<K extends MsgpackOpName> = (ctx: OpContext, req: Requests[K]) => Replies[K] | Deferred<Replies[K]> | EncodedReply<Replies[K]>;
/** A raw op's handler gets the payload bytes (a view into the received frame). */
export type RawHandler<K extends keyof Replies> = (ctx: OpContext, payload: Uint8Array) => Replies[K];

/**
 * A raw op's body streamed as it arrives (see FrameDecoder's BodySink): `data` per piece, `end`
 * for the reply once the whole payload is in. Equivalent to the op's handler on the payload.
 */
export interface RawStream<R> {
  data(piece: Uint8Array): void;
  end(): R;
}

export type HandlerMap = { [K in MsgpackOpName]?: MsgpackHandler<K> } & {
  TCE_PUT_BATCH?: RawHandler<'TCE_PUT_BATCH'>;
};
