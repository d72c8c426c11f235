/* libvphb-vfio.so: deferred and merged UNMAP_DMA, and the per-container view of windows that
 * decides when an UNMAP may be deferred. */
#include "preload.h"

#include <errno.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- deferred UNMAP_DMA -------------------------------------------------------------------
 * QEMU clears the guest's 32-bit window with one UNMAP_DMA per 4 KiB page (262,144 at boot).
 * An UNMAP that this library can see will succeed — flags 0, inside a window this container
 * created, aligned to that window's page size, after REGISTER_MEMORY — is sent without waiting
 * for its reply; replies are collected in batches and before any other forwarded call. vphb
 * executes a connection's commands in order, so nothing can observe the difference; a deferred
 * UNMAP (v1: after IOMMU_ENABLE, inside the 32-bit window GET_INFO reported) the server refuses anyway (it cannot, unless this shadow is wrong) is reported on stderr
 * and its errno returned by the container's next call. VPHB_SYNC_UNMAP=1 turns it off. */

struct shadow_win { uint64_t start, size; uint32_t shift; };
struct shadow { int32_t h; bool used, prereg, enabled; int nwin; struct shadow_win win[4]; int pending_errno; };
static struct shadow shadows[16];
static pthread_mutex_t shadow_mu = PTHREAD_MUTEX_INITIALIZER;
#define RING 256
struct deferred { uint16_t id; int32_t h; uint64_t iova; };
static struct deferred ring[RING];
static unsigned ring_head, ring_count;
static int sync_unmap = -1;

static struct shadow *shadow_of(int32_t h, bool create)
{
    for (int i = 0; i < 16; i++) if (shadows[i].used && shadows[i].h == h) return &shadows[i];
    if (!create) return NULL;
    for (int i = 0; i < 16; i++) if (!shadows[i].used) { memset(&shadows[i], 0, sizeof shadows[i]); shadows[i].used = true; shadows[i].h = h; return &shadows[i]; }
    return NULL;
}

/* Consecutive deferred UNMAPs of one window (QEMU's page-by-page clear) merge into one UNMAP_DMA
 * of up to COALESCE_MAX bytes: the merged range lies in the same window and has the same page
 * alignment, so it succeeds exactly when each piece would. Sent before anything else is. */
#define COALESCE_MAX (4ull << 20)
static struct { bool on; int32_t h; int win; uint64_t iova, size; } pend;

static int send_unmap_locked(vphb_conn *c, int32_t h, uint64_t iova, uint64_t size);

/* Sends the merged UNMAP, if any. Called with shadow_mu held. */
static int flush_locked(vphb_conn *c)
{
    if (!pend.on) return 0;
    pend.on = false;
    return send_unmap_locked(c, pend.h, pend.iova, pend.size);
}

/* Collects deferred replies until at most `keep` are outstanding. Called with shadow_mu held. */
static void drain_locked(vphb_conn *c, unsigned keep)
{
    while (ring_count > keep) {
        unsigned i = (ring_head + RING - ring_count) % RING;
        vphb_reply *r;
        int e = vphb_wait(c, ring[i].id, &r);
        if (e == 0) { e = vphb_reply_status(r); vphb_reply_free(r); }
        if (e < 0) {
            struct shadow *s = shadow_of(ring[i].h, false);
            fprintf(stderr, "libvphb-vfio: deferred VFIO_IOMMU_UNMAP_DMA iova 0x%llx failed: %s (%s)\n",
                    (unsigned long long)ring[i].iova, strerror(-e), vphb_last_message());
            if (s != NULL && s->pending_errno == 0) s->pending_errno = -e;
        }
        ring_count--;
    }
}

static int send_unmap_locked(vphb_conn *c, int32_t h, uint64_t iova, uint64_t size)
{
    if (ring_count == RING) drain_locked(c, RING / 2);
    vphb_field f[4] = { VPHB_UINT("fd", (uint32_t)h), VPHB_UINT("flags", 0), VPHB_UINT("iova", iova), VPHB_UINT("size", size) };
    uint16_t id;
    int e = vphb_send(c, VPHB_OP_VFIO_IOMMU_UNMAP_DMA, f, 4, &id);
    if (e == 0) {
        ring[ring_head] = (struct deferred){ id, h, iova };
        ring_head = (ring_head + 1) % RING;
        ring_count++;
    }
    return e;
}

void pl_drain(vphb_conn *c)
{
    pthread_mutex_lock(&shadow_mu);
    flush_locked(c);
    drain_locked(c, 0);
    pthread_mutex_unlock(&shadow_mu);
}

int pl_deferred_unmap(vphb_conn *c, int32_t h, const struct vfio_iommu_type1_dma_unmap *u)
{
    if (sync_unmap < 0) { const char *e = getenv("VPHB_SYNC_UNMAP"); sync_unmap = e != NULL && e[0] == '1'; }
    if (sync_unmap || u->flags != 0 || u->size == 0) return 1;
    pthread_mutex_lock(&shadow_mu);
    struct shadow *s = shadow_of(h, false);
    int win = -1;
    if (s != NULL && (s->prereg || s->enabled) && s->pending_errno == 0) {
        for (int i = 0; i < s->nwin && win < 0; i++) {
            const struct shadow_win *w = &s->win[i];
            uint64_t mask = (1ull << w->shift) - 1;
            if (!(u->iova & mask) && !(u->size & mask) && u->iova >= w->start && u->size <= w->size && u->iova - w->start <= w->size - u->size)
                win = i;
        }
    }
    if (win < 0) { pthread_mutex_unlock(&shadow_mu); return 1; }
    int e = 0;
    if (pend.on && pend.h == h && pend.win == win && pend.iova + pend.size == u->iova && pend.size + u->size <= COALESCE_MAX) {
        pend.size += u->size;
    } else {
        e = flush_locked(c);
        pend.on = e == 0;
        pend.h = h;
        pend.win = win;
        pend.iova = u->iova;
        pend.size = u->size;
    }
    pthread_mutex_unlock(&shadow_mu);
    return e;
}

/* Shadow updates after successful calls. */
void pl_shadow_prereg(int32_t h)
{
    pthread_mutex_lock(&shadow_mu);
    struct shadow *s = shadow_of(h, true);
    if (s != NULL) s->prereg = true;
    pthread_mutex_unlock(&shadow_mu);
}
void pl_shadow_enabled(int32_t h, bool on)
{
    pthread_mutex_lock(&shadow_mu);
    struct shadow *s = shadow_of(h, on);
    if (s != NULL) {
        s->enabled = on;
        if (!on) s->nwin = 0;
    }
    pthread_mutex_unlock(&shadow_mu);
}
bool pl_shadow_is_enabled(int32_t h)
{
    pthread_mutex_lock(&shadow_mu);
    struct shadow *s = shadow_of(h, false);
    bool on = s != NULL && s->enabled;
    pthread_mutex_unlock(&shadow_mu);
    return on;
}
void pl_shadow_window(int32_t h, uint64_t start, uint64_t size, uint32_t shift, bool add)
{
    pthread_mutex_lock(&shadow_mu);
    struct shadow *s = shadow_of(h, add);
    if (s != NULL) {
        for (int i = 0; i < s->nwin; i++)
            if (s->win[i].start == start) { s->win[i] = s->win[--s->nwin]; break; }
        if (add && s->nwin < 4) s->win[s->nwin++] = (struct shadow_win){ start, size, shift };
    }
    pthread_mutex_unlock(&shadow_mu);
}
/* Anything that may change which groups/windows back a container: forget everything. */
void pl_shadow_forget(void)
{
    pthread_mutex_lock(&shadow_mu);
    memset(shadows, 0, sizeof shadows);
    pthread_mutex_unlock(&shadow_mu);
}
void pl_container_closed(int32_t h)
{
    (void)h;
    int e;
    vphb_conn *c = pl_conn(&e);
    if (c != NULL) pl_drain(c); /* merged UNMAPs go out before the CLOSE */
    pl_shadow_forget();
}
int pl_take_pending(int32_t h)
{
    pthread_mutex_lock(&shadow_mu);
    struct shadow *s = shadow_of(h, false);
    int e = 0;
    if (s != NULL && s->pending_errno != 0) { e = s->pending_errno; s->pending_errno = 0; }
    pthread_mutex_unlock(&shadow_mu);
    return e;
}

