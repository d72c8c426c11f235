/** The VFIO device fd ops (vfio-pci) and the emulator's interrupt test op. */
import { fail } from '../wire/errno.js';
import { VfioDevice } from '../vfio/device.js';
import type { HandlerMap } from './context.js';

const RAISE_KIND = ['intx', 'msi', 'msix', 'err', 'req'] as const;
/** Largest REGION_READ: the reply must fit a frame (the default max_frame_size). */
export const MAX_REGION_READ = 1 << 24;

export const vfioDeviceHandlers: HandlerMap = {
  VFIO_DEVICE_GET_INFO: (ctx, req) => ctx.handles.get(req.fd, VfioDevice).info(),

  VFIO_DEVICE_GET_REGION_INFO: (ctx, req) => ctx.handles.get(req.fd, VfioDevice).regionInfo(req.index),

  VFIO_DEVICE_GET_IRQ_INFO: (ctx, req) => ctx.handles.get(req.fd, VfioDevice).irqInfo(req.index),

  VFIO_DEVICE_SET_IRQS: (ctx, req) => {
    ctx.handles.get(req.fd, VfioDevice).setIrqs({
      flags: req.flags, index: req.index, start: req.start, count: req.count, data: req.data,
    });
    return {};
  },

  VFIO_DEVICE_RESET: (ctx, req) => {
    ctx.handles.get(req.fd, VfioDevice).reset();
    return {};
  },

  VFIO_DEVICE_REGION_READ: (ctx, req) => {
    const dev = ctx.handles.get(req.fd, VfioDevice);
    if (req.count > MAX_REGION_READ) throw fail('EINVAL', `count ${req.count}: at most ${MAX_REGION_READ} bytes per read (the reply must fit a frame)`);
    return { data: dev.read(req.offset, req.count) };
  },

  VFIO_DEVICE_REGION_WRITE: (ctx, req) => ({ count: ctx.handles.get(req.fd, VfioDevice).write(req.offset, req.data) }),

  DEVICE_RAISE_IRQ: (ctx, req) => {
    const dev = ctx.handles.get(req.fd, VfioDevice);
    const kind = RAISE_KIND[req.index];
    if (kind === undefined) throw fail('EINVAL', `index ${req.index}: 0 INTx, 1 MSI, 2 MSI-X, 3 ERR, 4 REQ`);
    const vector = req.vector ?? 0;
    const max = kind === 'msi' ? dev.device.fn.msiVectors : kind === 'msix' ? dev.device.fn.msixVectors : 1;
    if (vector >= max) throw fail('EINVAL', `vector ${vector}: ${dev.device.address} has ${max} for index ${req.index}`);
    return { ret: dev.device.fn.raise(kind, vector) ? 1 : 0 };
  },
};
