/* libvphb-vfio.so: VFIO ioctls and region reads/writes on placeholder fds, as vphb ops. Each
 * struct is checked for argsz as the kernel does (shorter than the fields the kernel reads →
 * EINVAL), converted to the op's fields, and the answer copied back only as far as argsz allows. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ENDOF(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

static vphb_conn *need(int *e)
{
    vphb_conn *c = pl_conn(e);
    if (c == NULL) *e = EIO; /* bound fds exist only while a connection did */
    return c;
}

#define CONN() \
    int cerr_; \
    vphb_conn *c = need(&cerr_); \
    if (c == NULL) return -cerr_

/* A fd argument naming a container (GROUP_SET_CONTAINER): its handle, or the kernel's errno. */
static int container_handle(int fd, int32_t *h)
{
    enum vfio_kind k;
    if (pl_lookup(fd, &k, h)) return 0; /* any vphb handle: the server tells a group from a container */
    if (fcntl(fd, F_GETFD) < 0) return -EBADF;
    return -EINVAL; /* an open file that is not a VFIO container */
}

static long container_ioctl(int32_t h, unsigned long req, void *arg)
{
    CONN();
    int r;
    if (req == VFIO_IOMMU_UNMAP_DMA && arg != NULL && ((struct vfio_iommu_type1_dma_unmap *)arg)->argsz >= ENDOF(struct vfio_iommu_type1_dma_unmap, size)) {
        r = pl_deferred_unmap(c, h, arg);
        if (r <= 0) return r;
    }
    pl_drain(c);
    if ((r = pl_take_pending(h)) != 0) return -r;
    switch (req) {
    case VFIO_GET_API_VERSION: {
        struct vphb_vfio_get_api_version_rep rep;
        r = vphb_vfio_get_api_version(c, &(struct vphb_vfio_get_api_version_req){ .fd = h }, &rep);
        return r < 0 ? r : rep.ret;
    }
    case VFIO_CHECK_EXTENSION: {
        struct vphb_vfio_check_extension_rep rep;
        r = vphb_vfio_check_extension(c, &(struct vphb_vfio_check_extension_req){ .fd = h, .extension = (uint32_t)(uintptr_t)arg }, &rep);
        return r < 0 ? r : rep.ret;
    }
    case VFIO_SET_IOMMU:
        pl_shadow_forget();
        return vphb_vfio_set_iommu(c, &(struct vphb_vfio_set_iommu_req){ .fd = h, .type = (uint32_t)(uintptr_t)arg });
    case VFIO_IOMMU_ENABLE:
        r = vphb_vfio_iommu_enable(c, &(struct vphb_vfio_iommu_enable_req){ .fd = h });
        if (r == 0) pl_shadow_enabled(h, true);
        return r;
    case VFIO_IOMMU_DISABLE:
        r = vphb_vfio_iommu_disable(c, &(struct vphb_vfio_iommu_disable_req){ .fd = h });
        if (r == 0) pl_shadow_enabled(h, false);
        return r;
    case VFIO_IOMMU_SPAPR_TCE_GET_INFO: {
        struct vfio_iommu_spapr_tce_info *in = arg;
        if (in == NULL) return -EFAULT;
        struct vphb_vfio_iommu_spapr_tce_get_info_rep rep;
        r = vphb_vfio_iommu_spapr_tce_get_info(c, &(struct vphb_vfio_iommu_spapr_tce_get_info_req){ .fd = h }, &rep);
        if (r < 0) return r;
        if (in->argsz < ENDOF(struct vfio_iommu_spapr_tce_info, dma32_window_size)) { vphb_reply_free(rep.reply); return -EINVAL; }
        in->flags = rep.flags;
        in->dma32_window_start = rep.dma32_window_start;
        in->dma32_window_size = rep.dma32_window_size;
        if (pl_shadow_is_enabled(h)) /* v1: the one window, 4 KiB pages */
            pl_shadow_window(h, rep.dma32_window_start, rep.dma32_window_size, 12, true);
        if (in->argsz >= sizeof *in) {
            uint64_t v = 0;
            memset(&in->ddw, 0, sizeof in->ddw);
            if (vphb_obj_u64(vphb_obj_get(rep.ddw, "pgsizes"), &v) == 0) in->ddw.pgsizes = v;
            if (vphb_obj_u64(vphb_obj_get(rep.ddw, "max_dynamic_windows_supported"), &v) == 0) in->ddw.max_dynamic_windows_supported = (uint32_t)v;
            if (vphb_obj_u64(vphb_obj_get(rep.ddw, "levels"), &v) == 0) in->ddw.levels = (uint32_t)v;
        }
        vphb_reply_free(rep.reply);
        return 0;
    }
    case VFIO_IOMMU_MAP_DMA: {
        struct vfio_iommu_type1_dma_map *m = arg;
        if (m == NULL) return -EFAULT;
        if (m->argsz < ENDOF(struct vfio_iommu_type1_dma_map, size)) return -EINVAL;
        vphb_field f[5] = { VPHB_UINT("fd", (uint32_t)h), VPHB_UINT("flags", m->flags), VPHB_UINT("vaddr", m->vaddr), VPHB_UINT("iova", m->iova), VPHB_UINT("size", m->size) };
        vphb_reply *rep = NULL;
        r = vphb_call(c, VPHB_OP_VFIO_IOMMU_MAP_DMA, f, 5, &rep);
        if (r == 0) {
            uint64_t ret; /* the ioctl's own return value: 1 for a misaligned sPAPR iova (kernel quirk K7) */
            if (vphb_get_u64(rep, "ret", &ret) == 0) r = (int)ret;
            vphb_reply_free(rep);
        }
        return r;
    }
    case VFIO_IOMMU_UNMAP_DMA: {
        struct vfio_iommu_type1_dma_unmap *u = arg;
        if (u == NULL) return -EFAULT;
        if (u->argsz < ENDOF(struct vfio_iommu_type1_dma_unmap, size)) return -EINVAL;
        vphb_field f[4] = { VPHB_UINT("fd", (uint32_t)h), VPHB_UINT("flags", u->flags), VPHB_UINT("iova", u->iova), VPHB_UINT("size", u->size) };
        vphb_reply *rep = NULL;
        r = vphb_call(c, VPHB_OP_VFIO_IOMMU_UNMAP_DMA, f, 4, &rep);
        if (r == 0) {
            uint64_t sz; /* a reply that says how much was unmapped (type1) writes it back */
            if (vphb_get_u64(rep, "size", &sz) == 0) u->size = sz;
            uint64_t ret; /* 1 for a misaligned sPAPR iova (kernel quirk K7) */
            if (vphb_get_u64(rep, "ret", &ret) == 0) r = (int)ret;
            vphb_reply_free(rep);
        }
        return r;
    }
    case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
    case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: {
        struct vfio_iommu_spapr_register_memory *m = arg;
        if (m == NULL) return -EFAULT;
        if (m->argsz < ENDOF(struct vfio_iommu_spapr_register_memory, size)) return -EINVAL;
        if (req == VFIO_IOMMU_SPAPR_REGISTER_MEMORY) {
            r = vphb_vfio_iommu_spapr_register_memory(c, &(struct vphb_vfio_iommu_spapr_register_memory_req){ .fd = h, .has_flags = true, .flags = m->flags, .vaddr = m->vaddr, .size = m->size });
            if (r == 0) pl_shadow_prereg(h);
            return r;
        }
        return vphb_vfio_iommu_spapr_unregister_memory(c, &(struct vphb_vfio_iommu_spapr_unregister_memory_req){ .fd = h, .has_flags = true, .flags = m->flags, .vaddr = m->vaddr, .size = m->size });
    }
    case VFIO_IOMMU_SPAPR_TCE_CREATE: {
        struct vfio_iommu_spapr_tce_create *t = arg;
        if (t == NULL) return -EFAULT;
        if (t->argsz < ENDOF(struct vfio_iommu_spapr_tce_create, start_addr)) return -EINVAL;
        struct vphb_vfio_iommu_spapr_tce_create_rep rep;
        r = vphb_vfio_iommu_spapr_tce_create(c, &(struct vphb_vfio_iommu_spapr_tce_create_req){ .fd = h, .has_flags = true, .flags = t->flags, .page_shift = t->page_shift, .window_size = t->window_size, .levels = t->levels }, &rep);
        if (r == 0) {
            t->start_addr = rep.start_addr;
            pl_shadow_window(h, rep.start_addr, t->window_size, t->page_shift, true);
        }
        return r;
    }
    case VFIO_IOMMU_SPAPR_TCE_REMOVE: {
        struct vfio_iommu_spapr_tce_remove *t = arg;
        if (t == NULL) return -EFAULT;
        if (t->argsz < ENDOF(struct vfio_iommu_spapr_tce_remove, start_addr)) return -EINVAL;
        r = vphb_vfio_iommu_spapr_tce_remove(c, &(struct vphb_vfio_iommu_spapr_tce_remove_req){ .fd = h, .has_flags = true, .flags = t->flags, .start_addr = t->start_addr });
        if (r == 0) pl_shadow_window(h, t->start_addr, 0, 0, false);
        return r;
    }
    case VFIO_EEH_PE_OP: {
        struct vfio_eeh_pe_op *o = arg;
        if (o == NULL) return -EFAULT;
        if (o->argsz < ENDOF(struct vfio_eeh_pe_op, op)) return -EINVAL;
        struct vphb_vfio_eeh_pe_op_req q = { .fd = h, .has_flags = true, .flags = o->flags, .op = o->op };
        if (o->op == VFIO_EEH_PE_INJECT_ERR && o->argsz >= ENDOF(struct vfio_eeh_pe_op, err.mask)) {
            q.has_type = q.has_func = q.has_addr = q.has_mask = true;
            q.type = o->err.type;
            q.func = o->err.func;
            q.addr = o->err.addr;
            q.mask = o->err.mask;
        }
        struct vphb_vfio_eeh_pe_op_rep rep;
        r = vphb_vfio_eeh_pe_op(c, &q, &rep);
        return r < 0 ? r : rep.ret;
    }
    }
    return -ENOTTY;
}

static long group_ioctl(int32_t h, unsigned long req, void *arg)
{
    CONN();
    int r;
    pl_drain(c);
    if (req == VFIO_GROUP_SET_CONTAINER || req == VFIO_GROUP_UNSET_CONTAINER) pl_shadow_forget();
    switch (req) {
    case VFIO_GROUP_GET_STATUS: {
        struct vfio_group_status *s = arg;
        if (s == NULL) return -EFAULT;
        if (s->argsz < ENDOF(struct vfio_group_status, flags)) return -EINVAL;
        struct vphb_vfio_group_get_status_rep rep;
        r = vphb_vfio_group_get_status(c, &(struct vphb_vfio_group_get_status_req){ .fd = h }, &rep);
        if (r == 0) s->flags = rep.flags;
        return r;
    }
    case VFIO_GROUP_SET_CONTAINER: {
        if (arg == NULL) return -EFAULT;
        int32_t ch;
        r = container_handle(*(const int *)arg, &ch);
        if (r < 0) return r;
        return vphb_vfio_group_set_container(c, &(struct vphb_vfio_group_set_container_req){ .fd = h, .container = ch });
    }
    case VFIO_GROUP_UNSET_CONTAINER:
        return vphb_vfio_group_unset_container(c, &(struct vphb_vfio_group_unset_container_req){ .fd = h });
    case VFIO_GROUP_GET_DEVICE_FD: {
        if (arg == NULL) return -EFAULT;
        struct vphb_vfio_group_get_device_fd_rep rep;
        r = vphb_vfio_group_get_device_fd(c, &(struct vphb_vfio_group_get_device_fd_req){ .fd = h, .name = arg }, &rep);
        if (r < 0) return r;
        return pl_bind_new(VK_DEVICE, rep.fd, 1); /* the kernel's device fds are O_CLOEXEC */
    }
    }
    return -ENOTTY;
}

/* SET_IRQS: eventfds become tokens (duplicates kept here), BOOL bytes become integers. */
static long set_irqs(vphb_conn *c, int32_t h, struct vfio_irq_set *s)
{
    size_t minsz = ENDOF(struct vfio_irq_set, count);
    if (s->argsz < minsz) return -EINVAL;
    uint32_t type = s->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    size_t have = s->argsz - minsz, n = 0;
    if (type == VFIO_IRQ_SET_DATA_BOOL) n = have;
    else if (type == VFIO_IRQ_SET_DATA_EVENTFD) n = have / sizeof(int32_t);
    if (n > s->count) n = s->count;
    int32_t *data = NULL;
    if (n > 0) {
        data = malloc(n * sizeof *data);
        if (data == NULL) return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (type == VFIO_IRQ_SET_DATA_BOOL) { data[i] = s->data[i]; continue; }
        int32_t fd;
        memcpy(&fd, s->data + 4 * i, sizeof fd);
        if (fd < 0) { data[i] = -1; continue; }
        int t = pl_token_new(fd);
        if (t < 0) {
            for (size_t j = 0; j < i; j++) pl_token_drop(data[j]);
            free(data);
            return t;
        }
        data[i] = t;
    }
    struct vphb_vfio_device_set_irqs_req q = { .fd = h, .flags = s->flags, .index = s->index, .start = s->start, .count = s->count,
                                               .has_data = type != VFIO_IRQ_SET_DATA_NONE, .data = data, .data_count = n };
    int r = vphb_vfio_device_set_irqs(c, &q);
    bool trigger = (s->flags & VFIO_IRQ_SET_ACTION_TRIGGER) != 0;
    if (type == VFIO_IRQ_SET_DATA_EVENTFD) {
        for (size_t i = 0; i < n; i++) {
            if (r < 0) pl_token_drop(data[i]);
            else if (trigger) pl_irq_store(h, s->index, s->start + (uint32_t)i, data[i]);
            else pl_token_drop(data[i]); /* unmask eventfds are never signalled by vphb */
        }
    } else if (r == 0 && trigger && type == VFIO_IRQ_SET_DATA_NONE && s->count == 0) {
        pl_irq_clear_index(h, s->index); /* the index was disabled */
    }
    free(data);
    return r;
}

static long device_ioctl(int32_t h, unsigned long req, void *arg)
{
    CONN();
    int r;
    pl_drain(c);
    switch (req) {
    case VFIO_DEVICE_GET_INFO: {
        struct vfio_device_info *i = arg;
        if (i == NULL) return -EFAULT;
        if (i->argsz < ENDOF(struct vfio_device_info, num_irqs)) return -EINVAL;
        struct vphb_vfio_device_get_info_rep rep;
        r = vphb_vfio_device_get_info(c, &(struct vphb_vfio_device_get_info_req){ .fd = h }, &rep);
        if (r < 0) return r;
        i->flags = rep.flags;
        i->num_regions = rep.num_regions;
        i->num_irqs = rep.num_irqs;
        if (i->argsz >= ENDOF(struct vfio_device_info, cap_offset)) i->cap_offset = 0;
        return 0;
    }
    case VFIO_DEVICE_GET_REGION_INFO: {
        struct vfio_region_info *i = arg;
        if (i == NULL) return -EFAULT;
        if (i->argsz < ENDOF(struct vfio_region_info, offset)) return -EINVAL;
        struct vphb_vfio_device_get_region_info_rep rep;
        r = vphb_vfio_device_get_region_info(c, &(struct vphb_vfio_device_get_region_info_req){ .fd = h, .index = i->index }, &rep);
        if (r < 0) return r;
        i->flags = rep.flags;
        i->cap_offset = 0;
        i->size = rep.size;
        i->offset = rep.offset;
        return 0;
    }
    case VFIO_DEVICE_GET_IRQ_INFO: {
        struct vfio_irq_info *i = arg;
        if (i == NULL) return -EFAULT;
        if (i->argsz < ENDOF(struct vfio_irq_info, count)) return -EINVAL;
        struct vphb_vfio_device_get_irq_info_rep rep;
        r = vphb_vfio_device_get_irq_info(c, &(struct vphb_vfio_device_get_irq_info_req){ .fd = h, .index = i->index }, &rep);
        if (r < 0) return r;
        i->flags = rep.flags;
        i->count = rep.count;
        return 0;
    }
    case VFIO_DEVICE_SET_IRQS:
        if (arg == NULL) return -EFAULT;
        return set_irqs(c, h, arg);
    case VFIO_DEVICE_RESET:
        return vphb_vfio_device_reset(c, &(struct vphb_vfio_device_reset_req){ .fd = h });
    }
    return -ENOTTY;
}

long pl_ioctl(enum vfio_kind kind, int32_t h, unsigned long req, void *arg)
{
    switch (kind) {
    case VK_CONTAINER: return container_ioctl(h, req, arg);
    case VK_GROUP: return group_ioctl(h, req, arg);
    case VK_DEVICE: return device_ioctl(h, req, arg);
    default: return -ENOTTY;
    }
}

/* Region access: containers and groups have no read/write (EINVAL, as the kernel's files). */
ssize_t pl_pread(enum vfio_kind kind, int32_t h, void *buf, size_t n, uint64_t off)
{
    if (kind != VK_DEVICE) return -EINVAL;
    CONN();
    pl_drain(c);
    if (n > UINT32_MAX) n = UINT32_MAX;
    struct vphb_vfio_device_region_read_rep rep;
    int r = vphb_vfio_device_region_read(c, &(struct vphb_vfio_device_region_read_req){ .fd = h, .offset = off, .count = (uint32_t)n }, &rep);
    if (r < 0) return r;
    size_t got = rep.data_len < n ? rep.data_len : n;
    memcpy(buf, rep.data, got);
    vphb_reply_free(rep.reply);
    return (ssize_t)got;
}

ssize_t pl_pwrite(enum vfio_kind kind, int32_t h, const void *buf, size_t n, uint64_t off)
{
    if (kind != VK_DEVICE) return -EINVAL;
    CONN();
    pl_drain(c);
    struct vphb_vfio_device_region_write_rep rep;
    int r = vphb_vfio_device_region_write(c, &(struct vphb_vfio_device_region_write_req){ .fd = h, .offset = off, .data = buf, .data_len = n }, &rep);
    return r < 0 ? r : (ssize_t)rep.count;
}
