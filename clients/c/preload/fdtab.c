/* libvphb-vfio.so: the connection, the fd table and the IRQ eventfd tokens. */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct real_fns real;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_real(void)
{
    real.open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    real.openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    real.close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    real.ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    real.pread = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread64");
    real.pwrite = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
}

void vphb_preload_init(void) { pthread_once(&init_once, init_real); }

/* ---- the connection ---- */

static pthread_mutex_t conn_mu = PTHREAD_MUTEX_INITIALIZER;
static vphb_conn *conn;
static int conn_failed; /* errno of the first failed connect */

static void on_event(vphb_conn *c, const vphb_reply *frame, void *user)
{
    (void)c; (void)user;
    struct vphb_vfio_device_irq_event ev;
    if (frame->command == VPHB_OP_VFIO_DEVICE_IRQ && vphb_vfio_device_irq_decode(frame, &ev) == 0 && ev.token >= 0)
        pl_irq_signal(ev.token);
}

static int debug(void) { const char *d = getenv("VPHB_DEBUG"); return d != NULL && d[0] == '1'; }

vphb_conn *pl_conn(int *err)
{
    pthread_mutex_lock(&conn_mu);
    if (conn == NULL && conn_failed == 0) {
        const char *sock = getenv("VPHB_SOCKET");
        char msg[256];
        vphb_conn *c = NULL;
        int r = vphb_connect(sock, &(vphb_options){ .client = "libvphb-vfio", .on_event = on_event }, &c, msg, sizeof msg);
        if (r == 0) r = vphb_start_reader(c);
        if (r < 0) {
            fprintf(stderr, "libvphb-vfio: cannot reach vphb at %s: %s\n", sock != NULL ? sock : "(default socket)", msg);
            if (c != NULL) vphb_disconnect(c);
            conn_failed = -r;
        } else {
            conn = c;
            if (debug()) fprintf(stderr, "libvphb-vfio: connected to %s\n", vphb_server_name(c));
        }
    }
    vphb_conn *c = conn;
    int e = conn_failed;
    pthread_mutex_unlock(&conn_mu);
    if (c == NULL) { *err = e; return NULL; }
    if (vphb_is_dead(c)) { *err = EIO; return NULL; }
    return c;
}

/* ---- fd table ---- */

#define MAXFD 65536
static struct { uint8_t kind; int32_t handle; } tab[MAXFD];
static pthread_mutex_t tab_mu = PTHREAD_MUTEX_INITIALIZER;

int pl_lookup(int fd, enum vfio_kind *kind, int32_t *handle)
{
    if (fd < 0 || fd >= MAXFD) return 0;
    pthread_mutex_lock(&tab_mu);
    int k = tab[fd].kind;
    *handle = tab[fd].handle;
    pthread_mutex_unlock(&tab_mu);
    *kind = (enum vfio_kind)k;
    return k != VK_NONE;
}

int pl_bind_new(enum vfio_kind kind, int32_t handle, int cloexec)
{
    vphb_preload_init();
    int fd = real.open("/dev/null", O_RDWR | (cloexec ? O_CLOEXEC : 0));
    if (fd >= MAXFD) { real.close(fd); fd = -1; errno = EMFILE; }
    if (fd < 0) {
        int e = errno;
        int err;
        vphb_conn *c = pl_conn(&err);
        if (c != NULL) vphb_close(c, &(struct vphb_close_req){ .fd = handle });
        return -e;
    }
    pthread_mutex_lock(&tab_mu);
    tab[fd].kind = (uint8_t)kind;
    tab[fd].handle = handle;
    pthread_mutex_unlock(&tab_mu);
    return fd;
}

int pl_unbind(int fd, enum vfio_kind *kind, int32_t *handle)
{
    if (fd < 0 || fd >= MAXFD) return 0;
    pthread_mutex_lock(&tab_mu);
    int k = tab[fd].kind;
    *handle = tab[fd].handle;
    tab[fd].kind = VK_NONE;
    pthread_mutex_unlock(&tab_mu);
    *kind = (enum vfio_kind)k;
    return k != VK_NONE;
}

/* ---- IRQ tokens ---- */

struct irq_slot { int32_t dev; uint32_t index, vector; int token; };
static struct irq_slot *irqs;
static size_t nirqs, capirqs;
static uint8_t live_token[MAXFD];
static pthread_mutex_t irq_mu = PTHREAD_MUTEX_INITIALIZER;

int pl_token_new(int efd)
{
    int t = fcntl(efd, F_DUPFD_CLOEXEC, 0);
    if (t < 0) return -EBADF;
    if (t >= MAXFD) { real.close(t); return -EMFILE; }
    return t;
}

void pl_token_drop(int token) { if (token >= 0) real.close(token); }

static void release_locked(size_t i)
{
    live_token[irqs[i].token] = 0;
    real.close(irqs[i].token);
    irqs[i] = irqs[--nirqs];
}

void pl_irq_store(int32_t dev, uint32_t index, uint32_t vector, int token)
{
    pthread_mutex_lock(&irq_mu);
    for (size_t i = 0; i < nirqs; i++)
        if (irqs[i].dev == dev && irqs[i].index == index && irqs[i].vector == vector) { release_locked(i); break; }
    if (token >= 0) {
        if (nirqs == capirqs) {
            size_t cap = capirqs ? capirqs * 2 : 64;
            struct irq_slot *n = realloc(irqs, cap * sizeof *n);
            if (n == NULL) { pthread_mutex_unlock(&irq_mu); real.close(token); return; }
            irqs = n;
            capirqs = cap;
        }
        irqs[nirqs++] = (struct irq_slot){ dev, index, vector, token };
        live_token[token] = 1;
    }
    pthread_mutex_unlock(&irq_mu);
}

void pl_irq_clear_index(int32_t dev, uint32_t index)
{
    pthread_mutex_lock(&irq_mu);
    for (size_t i = nirqs; i-- > 0;)
        if (irqs[i].dev == dev && irqs[i].index == index) release_locked(i);
    pthread_mutex_unlock(&irq_mu);
}

void pl_irq_clear_device(int32_t dev)
{
    pthread_mutex_lock(&irq_mu);
    for (size_t i = nirqs; i-- > 0;)
        if (irqs[i].dev == dev) release_locked(i);
    pthread_mutex_unlock(&irq_mu);
}

void pl_irq_signal(int token)
{
    if (token < 0 || token >= MAXFD) return;
    pthread_mutex_lock(&irq_mu);
    if (live_token[token]) {
        uint64_t one = 1;
        if (write(token, &one, sizeof one) < 0 && debug()) perror("libvphb-vfio: eventfd write");
    }
    pthread_mutex_unlock(&irq_mu);
}
