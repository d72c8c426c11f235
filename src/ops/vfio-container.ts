/** Container ops: open("/dev/vfio/vfio") and the ioctls the container itself answers. */
import { Container } from '../vfio/container.js';
import type { HandlerMap } from './context.js';

export const vfioContainerHandlers: HandlerMap = {
  VFIO_OPEN_CONTAINER: (ctx) => ({ fd: ctx.handles.install(ctx.system.vfio.openContainer()) }),

  VFIO_GET_API_VERSION: (ctx, req) => ({ ret: ctx.handles.get(req.fd, Container).apiVersion() }),

  VFIO_CHECK_EXTENSION: (ctx, req) => ({ ret: ctx.handles.get(req.fd, Container).checkExtension(req.extension) }),

  VFIO_SET_IOMMU: (ctx, req) => {
    ctx.handles.get(req.fd, Container).setIommu(req.type);
    return {};
  },
};
