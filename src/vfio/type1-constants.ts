/** include/uapi/linux/vfio.h numbers of the type1 IOMMU interface. */

/** Extensions (VFIO_CHECK_EXTENSION) besides the IOMMU types. */
export const VFIO_DMA_CC_IOMMU = 4;
export const VFIO_UNMAP_ALL = 9;
export const VFIO_UPDATE_VADDR = 10;

/** struct vfio_iommu_type1_info flags. */
export const VFIO_IOMMU_INFO_PGSIZES = 1 << 0;
export const VFIO_IOMMU_INFO_CAPS = 1 << 1;

/** Capability ids of VFIO_IOMMU_GET_INFO's chain. */
export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
export const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;

/** VFIO_IOMMU_MAP_DMA flags besides READ (1) and WRITE (2). */
export const VFIO_DMA_MAP_FLAG_VADDR = 1 << 2;

/** VFIO_IOMMU_UNMAP_DMA flags. */
export const VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0;
export const VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;
export const VFIO_DMA_UNMAP_FLAG_VADDR = 1 << 2;

/** VFIO_IOMMU_DIRTY_PAGES flags. */
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_START = 1 << 0;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP = 1 << 1;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP = 1 << 2;

/** DIRTY_BITMAP_SIZE_MAX: the bitmap of INT_MAX pages, in bytes (256 MiB). */
export const DIRTY_BITMAP_SIZE_MAX = 1n << 28n;
