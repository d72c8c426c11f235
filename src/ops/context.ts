/**
 * What a handler sees: the shared model (`System`, one per server) and the calling connection's
 * own state (`OpContext`). This module is the seam between the session and the model: the session
 * creates one `System` at startup and one `OpContext` per connection through the factories below.
 */
import { Host } from '../hw/host.js';
import type { TopologySpec } from '../hw/topology.js';
import { Mm } from '../vfio/locked-memory.js';
import { DEFAULT_PROFILE, quirksOf, type ProfileName, type Quirks } from '../vfio/profile.js';
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
}

export function createSystem(opts: SystemOptions): System {
  const host = new Host(opts.topology);
  const profile = opts.profile ?? opts.topology.profile ?? DEFAULT_PROFILE;
  const quirks = quirksOf(profile);
  return { topology: opts.topology, host, vfio: new Vfio(host, quirks), profile, quirks, connections: new Map() };
}

export interface ConnectionOptions {
  /** RLIMIT_MEMLOCK of the connection in bytes; null = unlimited. */
  memlockLimit: bigint | null;
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
}

export function createOpContext(system: System, connection: number, opts: ConnectionOptions): OpContext {
  const mm = new Mm(opts.memlockLimit, system.topology.hostPageShift);
  return { system, handles: new HandleTable(), connection, mm, notify: () => undefined };
}

/** Releases everything a connection held, in kernel order. Returns the errors met, for logging. */
export function destroyOpContext(ctx: OpContext): unknown[] {
  ctx.system.connections.delete(ctx.connection);
  return ctx.handles.closeAll().errors;
}

export type MsgpackHandler<K extends MsgpackOpName> = (ctx: OpContext, req: Requests[K]) => Replies[K];
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
