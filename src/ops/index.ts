/** Every op handler, by op name. Adding an op: an entry in protocol/ops.json, a handler, a test. */
import { basicHandlers } from './basic.js';
import type { HandlerMap } from './context.js';
import { hostStateHandlers } from './host-state.js';
import { kvmHandlers } from './kvm-handlers.js';
import { vfioHandlers } from './vfio-handlers.js';

export const HANDLERS: HandlerMap = {
  ...basicHandlers,
  ...hostStateHandlers,
  ...vfioHandlers,
  ...kvmHandlers,
};
