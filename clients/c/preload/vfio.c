/* libvphb-vfio.so: LD_PRELOAD library that serves /dev/vfio/vfio and /dev/vfio/<N> from vphb.
 * open* of those paths returns a real placeholder fd (/dev/null) bound to a vphb handle; ioctl,
 * pread*, preadv*, pwrite*, pwritev* (and the fortify __pread*_chk) and close on bound fds are forwarded over one connection (VPHB_SOCKET, else the
 * default socket path); every other fd goes straight to libc. A lost connection makes every later
 * call on a bound fd fail with EIO. */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <sys/uio.h>

#define EXPORT __attribute__((visibility("default")))

/* "/dev/vfio/vfio" → 0, "/dev/vfio/<N>" → 1 and *group, anything else → -1. */
static int vfio_path(const char *p, uint32_t *group)
{
    if (p == NULL || strncmp(p, "/dev/vfio/", 10) != 0) return -1;
    p += 10;
    if (strcmp(p, "vfio") == 0) return 0;
    if (*p < '0' || *p > '9') return -1;
    char *end;
    unsigned long g = strtoul(p, &end, 10);
    if (*end != '\0' || g > UINT32_MAX) return -1;
    *group = (uint32_t)g;
    return 1;
}

static int fail(int e) { errno = e; return -1; }

static int vfio_open(int which, uint32_t group, int flags)
{
    int err;
    vphb_conn *c = pl_conn(&err);
    if (c == NULL) return fail(err == EIO ? EIO : ENOENT);
    int r;
    int32_t h;
    if (which == 0) {
        struct vphb_vfio_open_container_rep rep;
        r = vphb_vfio_open_container(c, &rep);
        h = rep.fd;
    } else {
        struct vphb_vfio_group_open_rep rep;
        r = vphb_vfio_group_open(c, &(struct vphb_vfio_group_open_req){ .group = group }, &rep);
        h = rep.fd;
    }
    if (r < 0) return fail(-r);
    int fd = pl_bind_new(which == 0 ? VK_CONTAINER : VK_GROUP, h, (flags & O_CLOEXEC) != 0);
    return fd < 0 ? fail(-fd) : fd;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode, int at)
{
    vphb_preload_init();
    uint32_t group;
    int which = vfio_path(path, &group);
    if (which >= 0) return vfio_open(which, group, flags);
    return at ? real.openat(dirfd, path, flags, mode) : real.open(path, flags, mode);
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
    va_list ap; va_start(ap, flags); mode_t m = mode_arg(flags, ap); va_end(ap);
    return open_common(AT_FDCWD, path, flags, m, 0);
}
EXPORT int open64(const char *path, int flags, ...)
{
    va_list ap; va_start(ap, flags); mode_t m = mode_arg(flags, ap); va_end(ap);
    return open_common(AT_FDCWD, path, flags | O_LARGEFILE, m, 0);
}
EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap; va_start(ap, flags); mode_t m = mode_arg(flags, ap); va_end(ap);
    return open_common(dirfd, path, flags, m, 1);
}
EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap; va_start(ap, flags); mode_t m = mode_arg(flags, ap); va_end(ap);
    return open_common(dirfd, path, flags | O_LARGEFILE, m, 1);
}
/* _FORTIFY_SOURCE entry points */
EXPORT int __open_2(const char *path, int flags) { return open_common(AT_FDCWD, path, flags, 0, 0); }
EXPORT int __open64_2(const char *path, int flags) { return open_common(AT_FDCWD, path, flags | O_LARGEFILE, 0, 0); }
EXPORT int __openat_2(int dirfd, const char *path, int flags) { return open_common(dirfd, path, flags, 0, 1); }
EXPORT int __openat64_2(int dirfd, const char *path, int flags) { return open_common(dirfd, path, flags | O_LARGEFILE, 0, 1); }

__attribute__((destructor)) static void at_exit(void) { pl_trace_flush(); }

EXPORT int close(int fd)
{
    vphb_preload_init();
    enum vfio_kind k;
    int32_t h;
    if (pl_unbind(fd, &k, &h)) {
        int err;
        vphb_conn *c = pl_conn(&err);
        if (k == VK_DEVICE) pl_irq_clear_device(h);
        if (k == VK_CONTAINER || k == VK_GROUP) pl_container_closed(h);
        if (c != NULL) vphb_close(c, &(struct vphb_close_req){ .fd = h }); /* the kernel's release cannot fail */
    }
    return real.close(fd);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    vphb_preload_init();
    enum vfio_kind k;
    int32_t h;
    if (!pl_lookup(fd, &k, &h)) return real.ioctl(fd, req, arg);
    long r = pl_ioctl(k, h, req, arg);
    pl_trace_ioctl(k, h, req, arg, r);
    if (r < 0) return fail((int)-r);
    return (int)r;
}

static ssize_t do_pread(int fd, void *buf, size_t n, off_t off)
{
    vphb_preload_init();
    enum vfio_kind k;
    int32_t h;
    if (!pl_lookup(fd, &k, &h)) return real.pread(fd, buf, n, off);
    if (off < 0) return fail(EINVAL);
    ssize_t r = pl_pread(k, h, buf, n, (uint64_t)off);
    pl_trace_rw(0, h, (uint64_t)off, buf, n, r);
    return r < 0 ? fail((int)-r) : r;
}

static ssize_t do_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    vphb_preload_init();
    enum vfio_kind k;
    int32_t h;
    if (!pl_lookup(fd, &k, &h)) return real.pwrite(fd, buf, n, off);
    if (off < 0) return fail(EINVAL);
    ssize_t r = pl_pwrite(k, h, buf, n, (uint64_t)off);
    pl_trace_rw(1, h, (uint64_t)off, buf, n, r);
    return r < 0 ? fail((int)-r) : r;
}

/* preadv/pwritev on a bound fd: one region access per iovec, in order, stopping at a short one. */
static ssize_t do_vec(int fd, const struct iovec *iov, int cnt, off_t off, int write)
{
    vphb_preload_init();
    enum vfio_kind k;
    int32_t h;
    if (!pl_lookup(fd, &k, &h)) return -2; /* not ours */
    if (off < 0 || cnt < 0) return fail(EINVAL);
    ssize_t total = 0;
    for (int i = 0; i < cnt; i++) {
        if (iov[i].iov_len == 0) continue;
        ssize_t r = write ? pl_pwrite(k, h, iov[i].iov_base, iov[i].iov_len, (uint64_t)off + (uint64_t)total)
                          : pl_pread(k, h, iov[i].iov_base, iov[i].iov_len, (uint64_t)off + (uint64_t)total);
        pl_trace_rw(write, h, (uint64_t)off + (uint64_t)total, iov[i].iov_base, iov[i].iov_len, r);
        if (r < 0) return total > 0 ? total : fail((int)-r);
        total += r;
        if ((size_t)r < iov[i].iov_len) break;
    }
    return total;
}
typedef ssize_t (*vec_fn)(int, const struct iovec *, int, off_t);
static ssize_t real_vec(const char *name, int fd, const struct iovec *iov, int cnt, off_t off)
{
    vec_fn f = (vec_fn)dlsym(RTLD_NEXT, name);
    return f(fd, iov, cnt, off);
}
EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
    ssize_t r = do_vec(fd, iov, cnt, off, 0);
    return r == -2 ? real_vec("preadv", fd, iov, cnt, off) : r;
}
EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
    ssize_t r = do_vec(fd, iov, cnt, off, 0);
    return r == -2 ? real_vec("preadv64", fd, iov, cnt, off) : r;
}
EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    ssize_t r = do_vec(fd, iov, cnt, off, 1);
    return r == -2 ? real_vec("pwritev", fd, iov, cnt, off) : r;
}
EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
    ssize_t r = do_vec(fd, iov, cnt, off, 1);
    return r == -2 ? real_vec("pwritev64", fd, iov, cnt, off) : r;
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off) { return do_pread(fd, buf, n, off); }
EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off) { return do_pread(fd, buf, n, off); }
/* _FORTIFY_SOURCE builds (Debian's QEMU) call these for pread with a known buffer size. */
extern void __chk_fail(void) __attribute__((noreturn));
EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    if (n > buflen) __chk_fail();
    return do_pread(fd, buf, n, off);
}
EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    if (n > buflen) __chk_fail();
    return do_pread(fd, buf, n, off);
}
EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) { return do_pwrite(fd, buf, n, off); }
EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return do_pwrite(fd, buf, n, off); }
