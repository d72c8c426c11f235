/* libvphb connection: socket, handshake, pipelined send/wait, the reader role and events. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "vphb.h"
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct vphb_conn {
    int fd;
    pthread_mutex_t mu;      /* state below */
    pthread_cond_t cv;
    pthread_mutex_t send_mu; /* one frame at a time on the socket */
    bool reading;            /* a thread holds the reader role */
    bool dead;
    vphb_reply *stash_head, *stash_tail; /* replies read but not yet claimed */
    uint16_t next_id;
    uint8_t busy[65536 / 8]; /* msg_ids sent and not yet claimed */
    vphb_event_fn on_event;
    void *on_event_user;
    bool has_reader;
    pthread_t reader;
    /* receive buffer, touched only by the reader-role holder */
    uint8_t *rbuf;
    size_t rcap, rlen;
    /* VERSION reply */
    char server[64];
    uint16_t minor;
    uint32_t max_frame_size, max_inflight, host_page_size;
    struct op_name { char name[48]; int code; } *ops;
    size_t nops;
};

static __thread char last_message[512];

const char *vphb_last_message(void) { return last_message; }

void vphb_set_message_(const char *fmt, const char *s, size_t len)
{
    if (s == NULL) {
        snprintf(last_message, sizeof last_message, "%s", fmt);
        return;
    }
    if (len > sizeof last_message - 1) len = sizeof last_message - 1;
    memcpy(last_message, s, len);
    last_message[len] = '\0';
}

static int fail(int err, const char *what)
{
    snprintf(last_message, sizeof last_message, "%s", what);
    return -err;
}

void vphb_default_socket_path(char *buf, size_t len)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    if (rt != NULL && rt[0] != '\0') {
        snprintf(buf, len, "%s/vphb.sock", rt);
        return;
    }
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0') tmp = "/tmp";
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/') n--;
    snprintf(buf, len, "%.*s/vphb-%u.sock", (int)n, tmp, (unsigned)getuid());
}

static int open_unix(const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) return fail(ENAMETOOLONG, "socket path too long");
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        snprintf(last_message, sizeof last_message, "connect %s: %s", path, strerror(e));
        return -e;
    }
    return fd;
}

static int open_tcp(const char *hostport)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || colon == hostport || colon[1] == '\0' || (size_t)(colon - hostport) >= sizeof host)
        return fail(EINVAL, "tcp target must be tcp://HOST:PORT or tcp:HOST:PORT");
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') { h[strlen(h) - 1] = '\0'; h++; }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(h, colon + 1, &hints, &res);
    if (g != 0) {
        snprintf(last_message, sizeof last_message, "tcp %s: %s", hostport, gai_strerror(g));
        return -EHOSTUNREACH;
    }
    int fd = -1, e = ECONNREFUSED;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) { e = errno; continue; }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(last_message, sizeof last_message, "connect tcp://%s: %s", hostport, strerror(e));
        return -e;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void mark_dead_locked(vphb_conn *c)
{
    c->dead = true;
    pthread_cond_broadcast(&c->cv);
}

void vphb_shutdown(vphb_conn *c)
{
    pthread_mutex_lock(&c->mu);
    mark_dead_locked(c);
    pthread_mutex_unlock(&c->mu);
    shutdown(c->fd, SHUT_RDWR);
}

bool vphb_is_dead(const vphb_conn *c)
{
    vphb_conn *m = (vphb_conn *)c;
    pthread_mutex_lock(&m->mu);
    bool d = m->dead;
    pthread_mutex_unlock(&m->mu);
    return d;
}

int vphb_fd(const vphb_conn *c) { return c->fd; }
const char *vphb_server_name(const vphb_conn *c) { return c->server; }
uint16_t vphb_server_minor(const vphb_conn *c) { return c->minor; }
uint32_t vphb_max_frame_size(const vphb_conn *c) { return c->max_frame_size; }
uint32_t vphb_max_inflight(const vphb_conn *c) { return c->max_inflight; }
uint32_t vphb_host_page_size(const vphb_conn *c) { return c->host_page_size; }

int vphb_server_op_code(const vphb_conn *c, const char *name)
{
    for (size_t i = 0; i < c->nops; i++)
        if (strcmp(c->ops[i].name, name) == 0) return c->ops[i].code;
    return -ENOENT;
}

void vphb_on_event(vphb_conn *c, vphb_event_fn fn, void *user)
{
    pthread_mutex_lock(&c->mu);
    c->on_event = fn;
    c->on_event_user = user;
    pthread_mutex_unlock(&c->mu);
}

/* ---- sending ---------------------------------------------------------------------------- */

static int alloc_id_locked(vphb_conn *c, uint16_t *id)
{
    for (uint32_t n = 0; n < 65536; n++) {
        uint16_t i = c->next_id++;
        if (!(c->busy[i >> 3] & (1u << (i & 7)))) {
            c->busy[i >> 3] |= (uint8_t)(1u << (i & 7));
            *id = i;
            return 0;
        }
    }
    return fail(EAGAIN, "65536 replies outstanding");
}

static void free_id_locked(vphb_conn *c, uint16_t id) { c->busy[id >> 3] &= (uint8_t)~(1u << (id & 7)); }

/* Writes the whole iovec array as one frame; on failure the connection is dead. */
static int write_all(vphb_conn *c, struct iovec *iov, int iovcnt)
{
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = iov;
    mh.msg_iovlen = (size_t)iovcnt;
    pthread_mutex_lock(&c->send_mu);
    while (mh.msg_iovlen > 0) {
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            pthread_mutex_unlock(&c->send_mu);
            pthread_mutex_lock(&c->mu);
            mark_dead_locked(c);
            pthread_mutex_unlock(&c->mu);
            return fail(EIO, "connection to vphb lost (write)");
        }
        size_t left = (size_t)w;
        while (mh.msg_iovlen > 0 && left >= mh.msg_iov[0].iov_len) {
            left -= mh.msg_iov[0].iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }
        if (mh.msg_iovlen > 0) {
            mh.msg_iov[0].iov_base = (uint8_t *)mh.msg_iov[0].iov_base + left;
            mh.msg_iov[0].iov_len -= left;
        }
    }
    pthread_mutex_unlock(&c->send_mu);
    return 0;
}

/* Sends header + iov; iov[0] is reserved for the header by the caller. */
static int send_frame(vphb_conn *c, uint16_t command, struct iovec *iov, int iovcnt, uint16_t *msg_id)
{
    uint8_t hdr[16];
    size_t size = 0;
    for (int i = 1; i < iovcnt; i++) size += iov[i].iov_len;
    size += VPHB_HEADER_SIZE;
    if (size > UINT32_MAX || (c->max_frame_size != 0 && size > c->max_frame_size))
        return fail(EMSGSIZE, "frame larger than the server's max_frame_size");
    vphb_header h = { 0, command, (uint32_t)size, VPHB_FLAG_COMMAND, 0 };
    pthread_mutex_lock(&c->mu);
    if (c->dead) {
        pthread_mutex_unlock(&c->mu);
        return fail(EIO, "connection to vphb lost");
    }
    if (msg_id != NULL) {
        int r = alloc_id_locked(c, &h.msg_id);
        if (r < 0) { pthread_mutex_unlock(&c->mu); return r; }
    } else {
        h.flags |= VPHB_FLAG_NO_REPLY;
    }
    pthread_mutex_unlock(&c->mu);
    vphb_header_put(hdr, &h);
    iov[0].iov_base = hdr;
    iov[0].iov_len = sizeof hdr;
    int r = write_all(c, iov, iovcnt);
    if (r < 0) {
        if (msg_id != NULL) {
            pthread_mutex_lock(&c->mu);
            free_id_locked(c, h.msg_id);
            pthread_mutex_unlock(&c->mu);
        }
        return r;
    }
    if (msg_id != NULL) *msg_id = h.msg_id;
    return 0;
}

int vphb_send_raw(vphb_conn *c, uint16_t command, const struct iovec *iov, int iovcnt, uint16_t *msg_id)
{
    struct iovec local[16];
    if (iovcnt < 0 || iovcnt > 15) return fail(EINVAL, "at most 15 iovecs");
    for (int i = 0; i < iovcnt; i++) local[i + 1] = iov[i];
    return send_frame(c, command, local, iovcnt + 1, msg_id);
}

int vphb_send(vphb_conn *c, uint16_t command, const vphb_field *fields, size_t n, uint16_t *msg_id)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int r = vphb_encode_map(&sb, fields, n);
    if (r == 0) {
        struct iovec iov[2];
        iov[1].iov_base = sb.data;
        iov[1].iov_len = sb.size;
        r = send_frame(c, command, iov, 2, msg_id);
    }
    msgpack_sbuffer_destroy(&sb);
    return r;
}

/* ---- receiving -------------------------------------------------------------------------- */

/* Reads at least one whole frame (blocking) and returns the frames read, in order, as a list.
 * Called by the reader-role holder without the lock. NULL: the connection is lost. */
static vphb_reply *read_frames(vphb_conn *c)
{
    vphb_reply *head = NULL, *tail = NULL;
    for (;;) {
        /* parse what is buffered */
        size_t pos = 0;
        while (c->rlen - pos >= VPHB_HEADER_SIZE) {
            vphb_header h;
            vphb_header_get(c->rbuf + pos, &h);
            if (h.size < VPHB_HEADER_SIZE) { snprintf(last_message, sizeof last_message, "frame size %u below 16", h.size); goto lost; }
            if (c->rlen - pos < h.size) {
                if (h.size > c->rcap) {
                    uint8_t *nb = realloc(c->rbuf, h.size);
                    if (nb == NULL) goto lost;
                    c->rbuf = nb;
                    c->rcap = h.size;
                }
                break;
            }
            vphb_reply *r = NULL;
            int pr = vphb_frame_parse(c->rbuf + pos, h.size, false, &r);
            if (pr < 0 && r == NULL) goto lost;
            if (tail != NULL) tail->next_ = r; else head = r;
            tail = r;
            pos += h.size;
        }
        if (pos > 0) {
            memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
            c->rlen -= pos;
        }
        if (head != NULL) return head;
        if (c->rcap - c->rlen < 4096 && c->rcap < (1u << 16)) {
            uint8_t *nb = realloc(c->rbuf, 1u << 16);
            if (nb == NULL) goto lost;
            c->rbuf = nb;
            c->rcap = 1u << 16;
        }
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto lost;
        c->rlen += (size_t)n;
    }
lost:
    while (head != NULL) { vphb_reply *nx = head->next_; vphb_reply_free(head); head = nx; }
    return NULL;
}

/* Takes the reader role once: reads, files replies in the stash, delivers events. Called and
 * returns with the lock held. */
static void pump_locked(vphb_conn *c)
{
    c->reading = true;
    pthread_mutex_unlock(&c->mu);
    vphb_reply *list = read_frames(c);
    vphb_reply *events = NULL, **etail = &events;
    pthread_mutex_lock(&c->mu);
    c->reading = false;
    if (list == NULL) mark_dead_locked(c);
    while (list != NULL) {
        vphb_reply *r = list;
        list = r->next_;
        r->next_ = NULL;
        if ((r->flags & VPHB_FLAG_TYPE_MASK) == VPHB_FLAG_COMMAND) {
            *etail = r;
            etail = &r->next_;
        } else {
            if (c->stash_tail != NULL) c->stash_tail->next_ = r; else c->stash_head = r;
            c->stash_tail = r;
        }
    }
    pthread_cond_broadcast(&c->cv);
    if (events != NULL) {
        vphb_event_fn fn = c->on_event;
        void *user = c->on_event_user;
        pthread_mutex_unlock(&c->mu);
        while (events != NULL) {
            vphb_reply *e = events;
            events = e->next_;
            if (fn != NULL) fn(c, e, user);
            vphb_reply_free(e);
        }
        pthread_mutex_lock(&c->mu);
    }
}

static vphb_reply *take_locked(vphb_conn *c, uint16_t id)
{
    vphb_reply *prev = NULL;
    for (vphb_reply *r = c->stash_head; r != NULL; prev = r, r = r->next_) {
        if (r->msg_id != id) continue;
        if (prev != NULL) prev->next_ = r->next_; else c->stash_head = r->next_;
        if (c->stash_tail == r) c->stash_tail = prev;
        r->next_ = NULL;
        return r;
    }
    return NULL;
}

int vphb_wait(vphb_conn *c, uint16_t msg_id, vphb_reply **out)
{
    *out = NULL;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        vphb_reply *r = take_locked(c, msg_id);
        if (r != NULL) {
            free_id_locked(c, msg_id);
            pthread_mutex_unlock(&c->mu);
            *out = r;
            return 0;
        }
        if (c->dead) {
            free_id_locked(c, msg_id);
            pthread_mutex_unlock(&c->mu);
            return fail(EIO, "connection to vphb lost");
        }
        if (!c->reading) pump_locked(c);
        else pthread_cond_wait(&c->cv, &c->mu);
    }
}

int vphb_reply_status(const vphb_reply *r)
{
    if (!(r->flags & VPHB_FLAG_ERROR) && r->error == 0) return 0;
    const void *p;
    size_t len;
    if (vphb_get_bytes(r, "message", &p, &len) == 0) vphb_set_message_(NULL, p, len);
    else snprintf(last_message, sizeof last_message, "%s", strerror((int)r->error));
    return r->error == 0 ? -EIO : -(int)r->error;
}

int vphb_call(vphb_conn *c, uint16_t command, const vphb_field *fields, size_t n, vphb_reply **out)
{
    if (out != NULL) *out = NULL;
    uint16_t id;
    int r = vphb_send(c, command, fields, n, &id);
    if (r < 0) return r;
    vphb_reply *rep;
    r = vphb_wait(c, id, &rep);
    if (r < 0) return r;
    r = vphb_reply_status(rep);
    if (r == 0 && out != NULL) *out = rep;
    else vphb_reply_free(rep);
    return r;
}

static void *reader_main(void *arg)
{
    vphb_conn *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->dead) {
        if (!c->reading) pump_locked(c);
        else pthread_cond_wait(&c->cv, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int vphb_start_reader(vphb_conn *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->has_reader) { pthread_mutex_unlock(&c->mu); return 0; }
    int e = pthread_create(&c->reader, NULL, reader_main, c);
    if (e == 0) c->has_reader = true;
    pthread_mutex_unlock(&c->mu);
    return e == 0 ? 0 : fail(e, "cannot start the reader thread");
}

/* ---- connect / close -------------------------------------------------------------------- */

static void parse_capabilities(vphb_conn *c, const vphb_reply *r)
{
    const void *p;
    size_t len;
    if (vphb_get_bytes(r, "server", &p, &len) == 0)
        snprintf(c->server, sizeof c->server, "%.*s", (int)len, (const char *)p);
    uint32_t minor;
    if (vphb_get_u32(r, "minor", &minor) == 0) c->minor = (uint16_t)minor;
    const msgpack_object *caps = vphb_get(r, "capabilities");
    if (caps == NULL || caps->type != MSGPACK_OBJECT_MAP) return;
    uint64_t v;
    const msgpack_object *o;
    if ((o = vphb_obj_get(caps, "max_frame_size")) && vphb_obj_u64(o, &v) == 0) c->max_frame_size = (uint32_t)v;
    if ((o = vphb_obj_get(caps, "max_inflight")) && vphb_obj_u64(o, &v) == 0) c->max_inflight = (uint32_t)v;
    if ((o = vphb_obj_get(caps, "host_page_size")) && vphb_obj_u64(o, &v) == 0) c->host_page_size = (uint32_t)v;
    const msgpack_object *ops = vphb_obj_get(caps, "ops");
    if (ops == NULL || ops->type != MSGPACK_OBJECT_ARRAY) return;
    c->ops = calloc(ops->via.array.size + 1, sizeof *c->ops);
    if (c->ops == NULL) return;
    for (uint32_t i = 0; i < ops->via.array.size; i++) {
        const msgpack_object *op = &ops->via.array.ptr[i];
        if (op->type != MSGPACK_OBJECT_MAP) continue;
        const msgpack_object *nm = vphb_obj_get(op, "name"), *cd = vphb_obj_get(op, "code");
        if (nm == NULL || nm->type != MSGPACK_OBJECT_STR || cd == NULL || vphb_obj_u64(cd, &v) != 0) continue;
        snprintf(c->ops[c->nops].name, sizeof c->ops[c->nops].name, "%.*s", (int)nm->via.str.size, nm->via.str.ptr);
        c->ops[c->nops].code = (int)v;
        c->nops++;
    }
}

int vphb_connect(const char *target, const vphb_options *opt, vphb_conn **out, char *msg, size_t msg_len)
{
    *out = NULL;
    last_message[0] = '\0';
    char path[512];
    int fd;
    bool tcp = false;
    if (target == NULL || target[0] == '\0') {
        vphb_default_socket_path(path, sizeof path);
        fd = open_unix(path);
    } else if (strncmp(target, "tcp://", 6) == 0) {
        tcp = true;
        fd = open_tcp(target + 6);
    } else if (strncmp(target, "tcp:", 4) == 0) { /* QEMU's spelling, as the other clients take it */
        tcp = true;
        fd = open_tcp(target + 4);
    } else if (strncmp(target, "unix:", 5) == 0) {
        fd = open_unix(target + 5);
    } else if (strstr(target, "://") != NULL) {
        fd = fail(EPROTONOSUPPORT, "libvphb speaks UNIX sockets and tcp:// only");
    } else {
        fd = open_unix(target);
    }
    if (fd < 0) {
        if (msg_len > 0) snprintf(msg, msg_len, "%s", last_message);
        return fd;
    }
    vphb_conn *c = calloc(1, sizeof *c);
    if (c == NULL) { close(fd); return -ENOMEM; }
    c->fd = fd;
    c->next_id = 1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->send_mu, NULL);
    pthread_cond_init(&c->cv, NULL);

    if (opt != NULL) {
        c->on_event = opt->on_event;
        c->on_event_user = opt->on_event_user;
    }
    const char *client = opt != NULL && opt->client != NULL ? opt->client : "libvphb";
    const char *token = opt != NULL ? opt->token : NULL;
    if (token == NULL) token = getenv("VPHB_TOKEN");
    vphb_field f[4] = {
        VPHB_UINT("major", VPHB_PROTOCOL_MAJOR),
        VPHB_UINT("minor", VPHB_PROTOCOL_MINOR),
        VPHB_STR("client", client),
        VPHB_STR("token", token),
    };
    size_t nf = token != NULL ? 4 : 3;
    (void)tcp;
    vphb_reply *rep = NULL;
    int r = vphb_call(c, 1, f, nf, &rep);
    if (r < 0) {
        if (msg_len > 0) snprintf(msg, msg_len, "%s", last_message);
        vphb_disconnect(c);
        return r;
    }
    parse_capabilities(c, rep);
    vphb_reply_free(rep);
    *out = c;
    return 0;
}

void vphb_disconnect(vphb_conn *c)
{
    if (c == NULL) return;
    vphb_shutdown(c);
    if (c->has_reader) pthread_join(c->reader, NULL);
    close(c->fd);
    while (c->stash_head != NULL) {
        vphb_reply *n = c->stash_head->next_;
        vphb_reply_free(c->stash_head);
        c->stash_head = n;
    }
    free(c->rbuf);
    free(c->ops);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->send_mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
