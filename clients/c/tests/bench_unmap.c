/* Forwarded UNMAP_DMA round trips through libvphb-vfio.so, as QEMU issues them at guest boot
 * (4 KiB each over the 32-bit window):
 *   LD_PRELOAD=build/libvphb-vfio.so VPHB_SOCKET=SOCK bench_unmap [COUNT]
 * Prints one line: "unmap: N calls, S s, R/s". A benchmark, not a test. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return (double)ts.tv_sec + ts.tv_nsec / 1e9; }
#define MUST(x) do { if ((x) < 0) { perror(#x); exit(1); } } while (0)

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 262144;
    int c = open64("/dev/vfio/vfio", O_RDWR);
    MUST(c);
    int g = open64(argc > 2 ? argv[2] : "/dev/vfio/1", O_RDWR);
    MUST(g);
    MUST(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
    MUST(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU));
    struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof reg, .vaddr = 0x7f0000000000ull, .size = 1ull << 30 };
    MUST(ioctl(c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg));
    struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof rm, .start_addr = 0 };
    MUST(ioctl(c, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm));
    struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof cr, .page_shift = 12, .window_size = 1ull << 30, .levels = 2 };
    MUST(ioctl(c, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr));
    double t0 = now();
    for (long i = 0; i < n; i++) {
        struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = ((uint64_t)i << 12) & ((1ull << 30) - 1), .size = 4096 };
        MUST(ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u));
    }
    MUST(ioctl(c, VFIO_GET_API_VERSION)); /* any other call: deferred UNMAPs are sent and answered first */
    double dt = now() - t0;
    printf("unmap: %ld calls, %.3f s, %.0f/s\n", n, dt, (double)n / dt);
    return 0;
}
