/** Every op handler, by op name. Adding an op: an entry in protocol/ops.json, a handler, a test. */
import { basicHandlers } from './basic.js';
import type { HandlerMap } from './context.js';

export const HANDLERS: HandlerMap = {
  ...basicHandlers,
};
