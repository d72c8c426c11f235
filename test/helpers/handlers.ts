/** Calls op handlers in process, without a socket: request in, reply out (or a VphbError). */
import { runToEnd, type MsgpackHandler, type OpContext } from '../../src/ops/context.js';
import { HANDLERS } from '../../src/ops/index.js';
import type { MsgpackOpName, Replies, Requests } from '../../src/wire/ops.generated.js';

export function call<K extends MsgpackOpName>(ctx: OpContext, op: K, req: Requests[K]): Replies[K] {
  const h = HANDLERS[op] as MsgpackHandler<K> | undefined;
  if (h === undefined) throw new Error(`no handler for ${op}`);
  return runToEnd(h(ctx, req));
}
