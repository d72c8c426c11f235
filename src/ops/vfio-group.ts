/** Group ops: open("/dev/vfio/N"), the group ioctls, and the emulator's DMA translation probe. */
import { fail } from '../wire/errno.js';
import type { DmaAccess, Pe } from '../hw/pe.js';
import { Container } from '../vfio/container.js';
import { VfioDevice } from '../vfio/device.js';
import { GroupFile } from '../vfio/group.js';
import type { HandlerMap, OpContext } from './context.js';

/** The PE behind a group or device fd: EBADF not open, ENOTTY another kind of handle. */
function peOf(ctx: OpContext, fd: number): Pe {
  const obj = ctx.handles.peek(fd);
  if (obj instanceof GroupFile) return obj.group.pe;
  if (obj instanceof VfioDevice) return obj.device.pe;
  if (obj === undefined) throw fail('EBADF', `fd ${fd} is not an open handle`);
  throw fail('ENOTTY', `fd ${fd} is a ${obj.constructor.name}, not a group or device`);
}

export const vfioGroupHandlers: HandlerMap = {
  VFIO_GROUP_OPEN: (ctx, req) => ({ fd: ctx.handles.install(ctx.system.vfio.openGroup(req.group)) }),

  VFIO_GROUP_GET_STATUS: (ctx, req) => ({ flags: ctx.handles.get(req.fd, GroupFile).group.statusFlags }),

  VFIO_GROUP_SET_CONTAINER: (ctx, req) => {
    const group = ctx.handles.get(req.fd, GroupFile).group;
    // The kernel's order: container fd not open, group already set, fd not a container.
    const obj = ctx.handles.peek(req.container);
    if (obj === undefined) throw fail('EBADF', `container ${req.container} is not an open handle`);
    if (group.container !== undefined) throw fail('EINVAL', `group ${group.number} is already in a container`);
    if (!(obj instanceof Container)) throw fail('EBADFD', `container ${req.container} is a ${obj.constructor.name}, not a container`);
    group.setContainer(obj);
    return {};
  },

  VFIO_GROUP_UNSET_CONTAINER: (ctx, req) => {
    ctx.handles.get(req.fd, GroupFile).group.unsetContainer();
    return {};
  },

  VFIO_GROUP_GET_DEVICE_FD: (ctx, req) => {
    const file = ctx.handles.get(req.fd, GroupFile);
    const device = file.group.openDevice(file, req.name);
    // Its signalled eventfds become VFIO_DEVICE_IRQ frames to this connection.
    device.sink = (d, index, vector, token) => {
      const fd = ctx.handles.fdOf(d);
      if (fd !== undefined) ctx.notify('VFIO_DEVICE_IRQ', { fd, index, vector, token });
    };
    return { fd: ctx.handles.install(device) };
  },

  IOMMU_TRANSLATE: (ctx, req) => {
    const pe = peOf(ctx, req.fd);
    if (req.access !== 'read' && req.access !== 'write') {
      throw fail('EINVAL', `access ${JSON.stringify(req.access)}: must be "read" or "write"`);
    }
    const t = pe.translate(req.iova, req.access satisfies DmaAccess);
    return { addr: t.addr, page_size: t.pageSize };
  },
};
