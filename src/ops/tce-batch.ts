/**
 * TCE_PUT_BATCH, the raw fast path. Payload, little-endian:
 *   0 u32 vm_fd, 4 u32 flags (0), 8 u64 liobn, 16 u64 ioba, 24 u32 count, 28 u32 reserved (0),
 *   32 count × u64 TCE.
 * The entries are validated and written straight from the received frame (no copy, no decode).
 */
import { tcePutBatch } from '../kvm/hcalls.js';
import { Vm } from '../kvm/vm.js';
import { fail } from '../wire/errno.js';
import type { HandlerMap } from './context.js';

export const BATCH_HEAD_BYTES = 32;

export const tceBatchHandlers: HandlerMap = {
  TCE_PUT_BATCH: (ctx, payload) => {
    if (payload.byteLength < BATCH_HEAD_BYTES) {
      throw fail('EINVAL', `TCE_PUT_BATCH payload is ${payload.byteLength} bytes, the fixed part alone is ${BATCH_HEAD_BYTES}`);
    }
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const vm = ctx.handles.get(dv.getUint32(0, true), Vm, 'vm_fd');
    const flags = dv.getUint32(4, true);
    const count = dv.getUint32(24, true);
    const reserved = dv.getUint32(28, true);
    if (flags !== 0) throw fail('EINVAL', `flags 0x${flags.toString(16)}: none are defined`);
    if (reserved !== 0) throw fail('EINVAL', 'reserved must be 0');
    if (payload.byteLength !== BATCH_HEAD_BYTES + count * 8) {
      throw fail('EINVAL', `count ${count} needs a ${BATCH_HEAD_BYTES + count * 8}-byte payload, got ${payload.byteLength}`);
    }
    return tcePutBatch(vm, dv.getBigUint64(8, true), dv.getBigUint64(16, true), payload, BATCH_HEAD_BYTES, count);
  },
};
