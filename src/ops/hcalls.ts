/**
 * The TCE hcalls on a VM fd. A reply always carries `ret`, the PAPR return code; an error reply
 * means only that the request itself was unusable (bad fd: EBADF, not a VM: ENOTTY).
 */
import { hGetTce, hPutTce, hPutTceIndirect, hStuffTceInSlices } from '../kvm/hcalls.js';
import { Vm } from '../kvm/vm.js';
import type { OpName } from '../wire/ops.generated.js';
import { inSlices, type HandlerMap } from './context.js';

/**
 * Ops whose requests the dispatcher reads in the fixed layout (src/wire/fixed-layout.ts) when the
 * bytes match it: the client's pre-encoded hcalls, decoded without the general MessagePack pass.
 */
export const FIXED_LAYOUT_OPS: ReadonlySet<OpName> = new Set<OpName>(['H_PUT_TCE', 'H_STUFF_TCE', 'H_GET_TCE']);

export const hcallHandlers: HandlerMap = {
  H_PUT_TCE: (ctx, req) => ({ ret: hPutTce(ctx.handles.get(req.fd, Vm), req.liobn, req.ioba, req.tce) }),

  H_PUT_TCE_INDIRECT: (ctx, req) => ({
    ret: hPutTceIndirect(ctx.handles.get(req.fd, Vm), req.liobn, req.ioba, req.tce_list, req.tces).ret,
  }),

  H_STUFF_TCE: (ctx, req) => {
    const r = hStuffTceInSlices(ctx.handles.get(req.fd, Vm), req.liobn, req.ioba, req.tce_value, req.npages);
    if (r.slices === undefined) return { ret: r.ret };
    const slices = r.slices;
    return inSlices((function* stuff() {
      return { ret: yield* slices };
    })());
  },

  H_GET_TCE: (ctx, req) => hGetTce(ctx.handles.get(req.fd, Vm), req.liobn, req.ioba),
};
