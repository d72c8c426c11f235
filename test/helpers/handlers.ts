/** Calls op handlers in process, without a socket: request in, reply out (or a VphbError). */
import { afterEach } from 'vitest';
import { DEFAULT_TOPOLOGY } from '../../src/hw/topology.js';
import {
  createOpContext, createSystem, destroyOpContext, runToEnd, type MsgpackHandler, type OpContext, type System, type SystemOptions,
} from '../../src/ops/context.js';
import { HANDLERS } from '../../src/ops/index.js';
import type { MsgpackOpName, Replies, Requests } from '../../src/wire/ops.generated.js';

export function call<K extends MsgpackOpName>(ctx: OpContext, op: K, req: Requests[K]): Replies[K] {
  const h = HANDLERS[op] as MsgpackHandler<K> | undefined;
  if (h === undefined) throw new Error(`no handler for ${op}`);
  return runToEnd(h(ctx, req));
}

/**
 * An in-process host shared by a test file (created at first use) and its connections, each
 * released after the test that opened it, as a closed socket releases its session.
 */
export function inProcessHost(opts: SystemOptions = { topology: DEFAULT_TOPOLOGY }): {
  readonly system: System;
  connect(memlockLimit?: bigint | null): OpContext;
  /** Closes a connection now (as its socket closing would); returns the release errors. */
  disconnect(ctx: OpContext): unknown[];
} {
  let system: System | undefined;
  const contexts: OpContext[] = [];
  afterEach(() => {
    for (const c of contexts.splice(0)) destroyOpContext(c);
  });
  return {
    get system(): System {
      system ??= createSystem(opts);
      return system;
    },
    connect(memlockLimit: bigint | null = 1n << 32n): OpContext {
      const ctx = createOpContext(this.system, contexts.length + 1, { memlockLimit });
      contexts.push(ctx);
      return ctx;
    },
    disconnect(ctx: OpContext): unknown[] {
      contexts.splice(contexts.indexOf(ctx), 1);
      return destroyOpContext(ctx);
    },
  };
}
