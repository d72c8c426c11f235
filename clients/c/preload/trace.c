/* libvphb-vfio.so: VPHB_TRACE=FILE appends one line per forwarded call (what QEMU asked, what it
 * got), for debugging a VMM and for the end-to-end test's assertions. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *trace;
static int trace_state; /* 0 unknown, 1 on, -1 off */

static FILE *out(void)
{
    if (trace_state == 0) {
        const char *p = getenv("VPHB_TRACE");
        trace_state = -1;
        if (p != NULL && p[0] != '\0') {
            vphb_preload_init();
            int fd = real.open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd >= 0 && (trace = fdopen(fd, "a")) != NULL) trace_state = 1;
        }
    }
    return trace_state > 0 ? trace : NULL;
}

static const char *kind_name(enum vfio_kind k)
{
    return k == VK_CONTAINER ? "container" : k == VK_GROUP ? "group" : k == VK_DEVICE ? "device" : "?";
}

void pl_trace_ioctl(enum vfio_kind k, int32_t h, unsigned long req, const void *arg, long r)
{
    pthread_mutex_lock(&trace_mu);
    FILE *f = out();
    if (f == NULL) { pthread_mutex_unlock(&trace_mu); return; }
    fprintf(f, "%s %d ", kind_name(k), h);
    const uint64_t *none = NULL;
    (void)none;
    switch (req) {
    case VFIO_IOMMU_UNMAP_DMA: { const struct vfio_iommu_type1_dma_unmap *u = arg; fprintf(f, "UNMAP_DMA iova=0x%llx size=0x%llx", (unsigned long long)u->iova, (unsigned long long)u->size); break; }
    case VFIO_IOMMU_MAP_DMA: { const struct vfio_iommu_type1_dma_map *m = arg; fprintf(f, "MAP_DMA flags=%u vaddr=0x%llx iova=0x%llx size=0x%llx", m->flags, (unsigned long long)m->vaddr, (unsigned long long)m->iova, (unsigned long long)m->size); break; }
    case VFIO_IOMMU_SPAPR_TCE_CREATE: { const struct vfio_iommu_spapr_tce_create *t = arg; fprintf(f, "TCE_CREATE page_shift=%u window_size=0x%llx levels=%u start_addr=0x%llx", t->page_shift, (unsigned long long)t->window_size, t->levels, (unsigned long long)(r == 0 ? t->start_addr : 0)); break; }
    case VFIO_IOMMU_SPAPR_TCE_REMOVE: { const struct vfio_iommu_spapr_tce_remove *t = arg; fprintf(f, "TCE_REMOVE start_addr=0x%llx", (unsigned long long)t->start_addr); break; }
    case VFIO_IOMMU_SPAPR_REGISTER_MEMORY: { const struct vfio_iommu_spapr_register_memory *m = arg; fprintf(f, "REGISTER_MEMORY vaddr=0x%llx size=0x%llx", (unsigned long long)m->vaddr, (unsigned long long)m->size); break; }
    case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: { const struct vfio_iommu_spapr_register_memory *m = arg; fprintf(f, "UNREGISTER_MEMORY vaddr=0x%llx size=0x%llx", (unsigned long long)m->vaddr, (unsigned long long)m->size); break; }
    case VFIO_EEH_PE_OP: { const struct vfio_eeh_pe_op *o = arg; fprintf(f, "EEH_PE_OP op=%u", o->op); break; }
    case VFIO_DEVICE_SET_IRQS: { const struct vfio_irq_set *s = arg; fprintf(f, "SET_IRQS flags=0x%x index=%u start=%u count=%u", s->flags, s->index, s->start, s->count); break; }
    case VFIO_DEVICE_GET_REGION_INFO: { const struct vfio_region_info *i = arg; fprintf(f, "GET_REGION_INFO index=%u", i->index); break; }
    case VFIO_DEVICE_GET_IRQ_INFO: { const struct vfio_irq_info *i = arg; fprintf(f, "GET_IRQ_INFO index=%u", i->index); break; }
    case VFIO_CHECK_EXTENSION: fprintf(f, "CHECK_EXTENSION %lu", (unsigned long)(uintptr_t)arg); break;
    case VFIO_SET_IOMMU: fprintf(f, "SET_IOMMU %lu", (unsigned long)(uintptr_t)arg); break;
    case VFIO_GROUP_GET_DEVICE_FD: fprintf(f, "GET_DEVICE_FD %s", (const char *)arg); break;
    default: fprintf(f, "ioctl 0x%lx", req);
    }
    if (r < 0) fprintf(f, " = -%s\n", strerror((int)-r)); else fprintf(f, " = %ld\n", r);
    if (req != VFIO_IOMMU_UNMAP_DMA) fflush(f); /* a VMM that aborts loses at most UNMAP lines */
    pthread_mutex_unlock(&trace_mu);
}

void pl_trace_rw(int write, int32_t h, uint64_t off, const void *buf, size_t n, long r)
{
    pthread_mutex_lock(&trace_mu);
    FILE *f = out();
    if (f != NULL) {
        fprintf(f, "device %d %s region=%llu offset=0x%llx len=%zu", h, write ? "PWRITE" : "PREAD",
                (unsigned long long)(off >> 40), (unsigned long long)(off & ((1ull << 40) - 1)), n);
        if (n <= 8 && (write || r == (long)n)) {
            uint64_t v = 0;
            memcpy(&v, buf, n);
            fprintf(f, " value=0x%llx", (unsigned long long)v);
        }
        if (r < 0) fprintf(f, " = -%s\n", strerror((int)-r)); else fprintf(f, " = %ld\n", r);
        fflush(f);
    }
    pthread_mutex_unlock(&trace_mu);
}

void pl_trace_flush(void)
{
    pthread_mutex_lock(&trace_mu);
    if (trace != NULL) fflush(trace);
    pthread_mutex_unlock(&trace_mu);
}
