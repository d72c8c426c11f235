/** VFIO numbers a client sees: IOMMU types (extensions), flag bits, limits of the user address space. */

export const VFIO_API_VERSION = 0;

/** Extensions / IOMMU types. */
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_SPAPR_TCE_IOMMU = 2;
export const VFIO_TYPE1v2_IOMMU = 3;
/** VFIO_EEH: an extension (EEH support of the sPAPR backend), not an IOMMU type. */
export const VFIO_EEH = 5;
export const VFIO_SPAPR_TCE_v2_IOMMU = 7;

/** VFIO_GROUP_GET_STATUS flags. */
export const VFIO_GROUP_FLAGS_VIABLE = 1;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 2;

/** VFIO_IOMMU_MAP_DMA flags. */
export const VFIO_DMA_MAP_FLAG_READ = 1;
export const VFIO_DMA_MAP_FLAG_WRITE = 2;

/** VFIO_IOMMU_SPAPR_TCE_GET_INFO flags. */
export const VFIO_IOMMU_SPAPR_INFO_DDW = 1;

/**
 * User addresses of a client live below TASK_SIZE (ppc64: 4 PiB). Pinning anything at or above it
 * fails (EFAULT), as get_user_pages would.
 */
export const TASK_SIZE = 1n << 52n;

/** IOMMU page shift and level count of the default 32-bit window. */
export const DEFAULT_WINDOW_PAGE_SHIFT = 12;
export const DEFAULT_WINDOW_LEVELS = 1;
