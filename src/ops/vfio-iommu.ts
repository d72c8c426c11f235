/** sPAPR TCE IOMMU ops: the ioctls a container passes to its backend. */
import { Container } from '../vfio/container.js';
import type { SpaprTceBackend } from '../vfio/spapr-tce.js';
import type { HandlerMap, OpContext } from './context.js';

/** The backend of the container behind `fd`: EBADF/ENOTTY from the handle, EINVAL no backend. */
function backend(ctx: OpContext, fd: number, op: string): SpaprTceBackend {
  return ctx.handles.get(fd, Container).backendFor(op);
}

export const vfioIommuHandlers: HandlerMap = {
  VFIO_IOMMU_SPAPR_TCE_GET_INFO: (ctx, req) => backend(ctx, req.fd, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO').getInfo(ctx.mm),

  VFIO_IOMMU_ENABLE: (ctx, req) => {
    backend(ctx, req.fd, 'VFIO_IOMMU_ENABLE').enable(ctx.mm);
    return {};
  },

  VFIO_IOMMU_DISABLE: (ctx, req) => {
    backend(ctx, req.fd, 'VFIO_IOMMU_DISABLE').disable(ctx.mm);
    return {};
  },

  VFIO_IOMMU_MAP_DMA: (ctx, req) => ({
    ret: backend(ctx, req.fd, 'VFIO_IOMMU_MAP_DMA').map(ctx.mm, {
      flags: req.flags ?? 0,
      vaddr: req.vaddr,
      iova: req.iova,
      size: req.size,
    }),
  }),

  VFIO_IOMMU_UNMAP_DMA: (ctx, req) => ({
    ret: backend(ctx, req.fd, 'VFIO_IOMMU_UNMAP_DMA').unmap(ctx.mm, { flags: req.flags ?? 0, iova: req.iova, size: req.size }),
  }),

  VFIO_IOMMU_SPAPR_REGISTER_MEMORY: (ctx, req) => {
    backend(ctx, req.fd, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY').registerMemory(ctx.mm, {
      flags: req.flags ?? 0,
      vaddr: req.vaddr,
      size: req.size,
      ...(req.page_shift === undefined ? {} : { page_shift: req.page_shift }),
    });
    return {};
  },

  VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: (ctx, req) => {
    backend(ctx, req.fd, 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY').unregisterMemory(ctx.mm, {
      flags: req.flags ?? 0,
      vaddr: req.vaddr,
      size: req.size,
    });
    return {};
  },

  VFIO_IOMMU_SPAPR_TCE_CREATE: (ctx, req) => ({
    start_addr: backend(ctx, req.fd, 'VFIO_IOMMU_SPAPR_TCE_CREATE').createWindow(ctx.mm, {
      flags: req.flags ?? 0,
      page_shift: req.page_shift,
      window_size: req.window_size,
      levels: req.levels,
    }),
  }),

  VFIO_IOMMU_SPAPR_TCE_REMOVE: (ctx, req) => {
    backend(ctx, req.fd, 'VFIO_IOMMU_SPAPR_TCE_REMOVE').removeWindow(ctx.mm, {
      flags: req.flags ?? 0,
      start_addr: req.start_addr,
    });
    return {};
  },
};
