/** sPAPR TCE IOMMU ops: the ioctls a container passes to its backend. */
import { Container } from '../vfio/container.js';
import type { SpaprTceBackend } from '../vfio/spapr-tce.js';
import { inSlices, type HandlerMap, type OpContext } from './context.js';
import { type1MapDma, type1UnmapDma } from './vfio-type1.js';

/** The backend of the container behind `fd`: EBADF/ENOTTY from the handle, EINVAL no backend. */
function backend(ctx: OpContext, fd: number, op: string): SpaprTceBackend {
  return ctx.handles.get(fd, Container).backendFor(op);
}

function* thenReply<R>(slices: Generator<void, void, void>, reply: R): Generator<void, R, void> {
  yield* slices;
  return reply;
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

  // Millions of entries are written in slices (see Deferred): checks and the ioctl's value now,
  // entries over later turns.
  // (type1 maps ranges, not entries: nothing to slice there.)
  VFIO_IOMMU_MAP_DMA: (ctx, req) => {
    const t1 = ctx.handles.get(req.fd, Container).type1;
    if (t1 !== undefined) return type1MapDma(ctx, t1, req);
    const { ret, slices } = backend(ctx, req.fd, 'VFIO_IOMMU_MAP_DMA').mapInSlices(ctx.mm, {
      flags: req.flags ?? 0,
      vaddr: req.vaddr,
      iova: req.iova,
      size: req.size,
    });
    return slices === undefined ? { ret } : inSlices(thenReply(slices, { ret }));
  },

  VFIO_IOMMU_UNMAP_DMA: (ctx, req) => {
    const t1 = ctx.handles.get(req.fd, Container).type1;
    if (t1 !== undefined) return type1UnmapDma(t1, req);
    const { ret, slices } = backend(ctx, req.fd, 'VFIO_IOMMU_UNMAP_DMA').unmapInSlices(ctx.mm, { flags: req.flags ?? 0, iova: req.iova, size: req.size });
    return slices === undefined ? { ret } : inSlices(thenReply(slices, { ret }));
  },

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
