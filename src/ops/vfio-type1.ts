/**
 * Type1 IOMMU ops (issue 12): VFIO_IOMMU_GET_INFO and VFIO_IOMMU_DIRTY_PAGES, and the type1 halves
 * of VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA, which vfio-iommu.ts routes here when the
 * container's backend is type1.
 */
import { Container } from '../vfio/container.js';
import {
  VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
  VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
} from '../vfio/type1-constants.js';
import type { Type1Backend } from '../vfio/type1.js';
import { fail } from '../wire/errno.js';
import type { Replies, Requests } from '../wire/ops.generated.js';
import type { HandlerMap, OpContext } from './context.js';

function type1(ctx: OpContext, fd: number, op: string): Type1Backend {
  return ctx.handles.get(fd, Container).type1For(op);
}

export function type1MapDma(ctx: OpContext, backend: Type1Backend, req: Requests['VFIO_IOMMU_MAP_DMA']): Replies['VFIO_IOMMU_MAP_DMA'] {
  backend.map(ctx.mm, { flags: req.flags ?? 0, vaddr: req.vaddr, iova: req.iova, size: req.size });
  return { ret: 0 };
}

export function type1UnmapDma(backend: Type1Backend, req: Requests['VFIO_IOMMU_UNMAP_DMA']): Replies['VFIO_IOMMU_UNMAP_DMA'] {
  const r = backend.unmap({
    flags: req.flags ?? 0,
    iova: req.iova,
    size: req.size,
    ...(req.bitmap_pgsize === undefined ? {} : { bitmapPgsize: req.bitmap_pgsize }),
    ...(req.bitmap_size === undefined ? {} : { bitmapSize: req.bitmap_size }),
  });
  return r.bitmap === undefined ? { ret: 0, size: r.size } : { ret: 0, size: r.size, bitmap: r.bitmap };
}

const DIRTY_FLAGS = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP | VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;

export const vfioType1Handlers: HandlerMap = {
  VFIO_IOMMU_GET_INFO: (ctx, req) => type1(ctx, req.fd, 'VFIO_IOMMU_GET_INFO').getInfo(),

  VFIO_IOMMU_DIRTY_PAGES: (ctx, req) => {
    const b = type1(ctx, req.fd, 'VFIO_IOMMU_DIRTY_PAGES');
    if (!b.v2) throw fail('EACCES', 'VFIO_IOMMU_DIRTY_PAGES needs a TYPE1v2 container');
    if ((req.flags & ~DIRTY_FLAGS) !== 0) throw fail('EINVAL', `flags 0x${req.flags.toString(16)}: unknown bits`);
    switch (req.flags) {
      case VFIO_IOMMU_DIRTY_PAGES_FLAG_START:
        b.dirtyStart();
        return {};
      case VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP:
        b.dirtyStop();
        return {};
      case VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP: {
        const { iova, size, bitmap_pgsize: pgsize, bitmap_size: bitmapSize } = req;
        if (iova === undefined || size === undefined || pgsize === undefined || bitmapSize === undefined) {
          throw fail('EINVAL', 'GET_BITMAP needs iova, size, bitmap_pgsize and bitmap_size');
        }
        return { bitmap: b.dirtyBitmap({ iova, size, pgsize, bitmapSize }) };
      }
      default:
        throw fail('EINVAL', `flags 0x${req.flags.toString(16)}: exactly one of START, STOP, GET_BITMAP`);
    }
  },
};
