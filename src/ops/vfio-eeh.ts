/** VFIO_EEH_PE_OP on a container fd. */
import { Container } from '../vfio/container.js';
import { eehPeOp } from '../vfio/eeh.js';
import type { HandlerMap } from './context.js';

export const vfioEehHandlers: HandlerMap = {
  VFIO_EEH_PE_OP: (ctx, req) => ({
    ret: eehPeOp(ctx.handles.get(req.fd, Container), {
      flags: req.flags ?? 0,
      op: req.op,
      err: { type: req.type, func: req.func, addr: req.addr, mask: req.mask },
    }),
  }),
};
