/* libvphb-vfio.so internals: the fd table binding placeholder fds to vphb handles, the one
 * connection, the IRQ eventfd tokens, and the VFIO ioctl translation. */
#ifndef VPHB_PRELOAD_H
#define VPHB_PRELOAD_H
#include "vphb.h"
#include <sys/types.h>

enum vfio_kind { VK_NONE = 0, VK_CONTAINER, VK_GROUP, VK_DEVICE };

/* The libc functions we stand in front of. */
struct real_fns {
    int (*open)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    int (*close)(int);
    int (*ioctl)(int, unsigned long, ...);
    ssize_t (*pread)(int, void *, size_t, off_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
};
extern struct real_fns real;
void vphb_preload_init(void);

/* The connection (lazily opened by the first /dev/vfio open; NULL if it could not be). Returns
 * NULL with *err set: EIO once it was lost, or the connect errno. */
vphb_conn *pl_conn(int *err);

/* fd table */
int pl_lookup(int fd, enum vfio_kind *kind, int32_t *handle); /* 1 bound, 0 not */
/* A new placeholder fd bound to handle; -errno on failure (the handle is then closed). */
int pl_bind_new(enum vfio_kind kind, int32_t handle, int cloexec);
/* Unbinds fd; returns 1 (and kind/handle) if it was bound. */
int pl_unbind(int fd, enum vfio_kind *kind, int32_t *handle);

/* IRQ eventfds: each armed eventfd is duplicated, the duplicate's number is the token the
 * server hands back in VFIO_DEVICE_IRQ frames. */
int pl_token_new(int eventfd);                    /* dup'ed token or -errno */
void pl_token_drop(int token);                    /* closes a token not (or no longer) stored */
void pl_irq_store(int32_t dev, uint32_t index, uint32_t vector, int token); /* replaces, closes the old one */
void pl_irq_clear_index(int32_t dev, uint32_t index);
void pl_irq_clear_device(int32_t dev);
void pl_irq_signal(int token);

/* ioctl on a bound fd: returns the ioctl result or -errno. */
long pl_ioctl(enum vfio_kind kind, int32_t handle, unsigned long req, void *arg);
/* Deferred UNMAP_DMA (unmap.c). pl_deferred_unmap: 0 taken (or -errno), 1 not deferrable (the
 * caller forwards it synchronously). pl_drain: merged UNMAPs out, every deferred reply in. */
struct vfio_iommu_type1_dma_unmap;
int pl_deferred_unmap(vphb_conn *c, int32_t handle, const struct vfio_iommu_type1_dma_unmap *u);
void pl_drain(vphb_conn *c);
int pl_take_pending(int32_t handle); /* errno of a failed deferred UNMAP, once */
void pl_shadow_prereg(int32_t handle);
void pl_shadow_enabled(int32_t handle, bool on);
bool pl_shadow_is_enabled(int32_t handle);
void pl_shadow_window(int32_t handle, uint64_t start, uint64_t size, uint32_t shift, bool add);
void pl_shadow_forget(void);
/* A container or group handle is being closed: deferred UNMAPs go out, window knowledge is dropped. */
void pl_container_closed(int32_t handle);
ssize_t pl_pread(enum vfio_kind kind, int32_t handle, void *buf, size_t n, uint64_t off);
ssize_t pl_pwrite(enum vfio_kind kind, int32_t handle, const void *buf, size_t n, uint64_t off);
/* VPHB_TRACE */
void pl_trace_ioctl(enum vfio_kind kind, int32_t handle, unsigned long req, const void *arg, long result);
void pl_trace_rw(int write, int32_t handle, uint64_t off, const void *buf, size_t n, long result);
void pl_trace_flush(void);
#endif
