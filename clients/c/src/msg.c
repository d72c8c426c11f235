/* libvphb messages: header codec, MessagePack maps out, replies in, TCE_PUT_BATCH. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "vphb.h"
#include "internal.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

void vphb_header_put(uint8_t out[16], const vphb_header *h)
{
    put16(out, h->msg_id);
    put16(out + 2, h->command);
    put32(out + 4, h->size);
    put32(out + 8, h->flags);
    put32(out + 12, h->error);
}

void vphb_header_get(const uint8_t in[16], vphb_header *h)
{
    h->msg_id = get16(in);
    h->command = get16(in + 2);
    h->size = get32(in + 4);
    h->flags = get32(in + 8);
    h->error = get32(in + 12);
}

int vphb_encode_map(msgpack_sbuffer *buf, const vphb_field *f, size_t n)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
    if (n > UINT32_MAX) return -EINVAL;
    int e = msgpack_pack_map(&pk, n);
    for (size_t i = 0; e == 0 && i < n; i++) {
        size_t kl = strlen(f[i].name);
        e = msgpack_pack_str(&pk, kl);
        if (e == 0) e = msgpack_pack_str_body(&pk, f[i].name, kl);
        if (e != 0) break;
        switch (f[i].type) {
        case VPHB_F_UINT: e = msgpack_pack_uint64(&pk, f[i].v.u); break;
        case VPHB_F_INT: e = msgpack_pack_int64(&pk, f[i].v.i); break;
        case VPHB_F_BOOL: e = f[i].v.b ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk); break;
        case VPHB_F_NIL: e = msgpack_pack_nil(&pk); break;
        case VPHB_F_STR: {
            const char *s = f[i].v.bytes.ptr;
            size_t l = f[i].v.bytes.len == (size_t)-1 ? (s == NULL ? 0 : strlen(s)) : f[i].v.bytes.len;
            e = msgpack_pack_str(&pk, l);
            if (e == 0 && l > 0) e = msgpack_pack_str_body(&pk, s, l);
            break;
        }
        case VPHB_F_BIN:
            e = msgpack_pack_bin(&pk, f[i].v.bytes.len);
            if (e == 0 && f[i].v.bytes.len > 0) e = msgpack_pack_bin_body(&pk, f[i].v.bytes.ptr, f[i].v.bytes.len);
            break;
        case VPHB_F_U64S:
            e = msgpack_pack_array(&pk, f[i].v.u64s.count);
            for (size_t j = 0; e == 0 && j < f[i].v.u64s.count; j++) e = msgpack_pack_uint64(&pk, f[i].v.u64s.ptr[j]);
            break;
        case VPHB_F_S32S:
            e = msgpack_pack_array(&pk, f[i].v.s32s.count);
            for (size_t j = 0; e == 0 && j < f[i].v.s32s.count; j++) e = msgpack_pack_int64(&pk, f[i].v.s32s.ptr[j]);
            break;
        case VPHB_F_OBJECT: e = msgpack_pack_object(&pk, *f[i].v.obj); break;
        default:
            vphb_set_message_("unknown field type", NULL, 0);
            return -EINVAL;
        }
    }
    if (e != 0) { vphb_set_message_("out of memory encoding a request", NULL, 0); return -ENOMEM; }
    return 0;
}

void vphb_reply_free(vphb_reply *r)
{
    if (r == NULL) return;
    msgpack_unpacked_destroy(&r->unpacked_);
    free(r->frame_);
    free(r);
}

int vphb_frame_parse(const uint8_t *frame, size_t len, bool raw, vphb_reply **out)
{
    *out = NULL;
    if (len < VPHB_HEADER_SIZE) return -EINVAL;
    vphb_header h;
    vphb_header_get(frame, &h);
    if (h.size != len) return -EINVAL;
    vphb_reply *r = calloc(1, sizeof *r);
    if (r == NULL) return -ENOMEM;
    r->frame_ = malloc(len);
    if (r->frame_ == NULL) { free(r); return -ENOMEM; }
    memcpy(r->frame_, frame, len);
    msgpack_unpacked_init(&r->unpacked_);
    r->msg_id = h.msg_id;
    r->command = h.command;
    r->flags = h.flags;
    r->error = h.error;
    r->payload = r->frame_ + VPHB_HEADER_SIZE;
    r->payload_len = len - VPHB_HEADER_SIZE;
    *out = r;
    if (raw || r->payload_len == 0) return 0;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&r->unpacked_, (const char *)r->payload, r->payload_len, &off);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != r->payload_len) return -EBADMSG;
    r->map = &r->unpacked_.data;
    return 0;
}

const msgpack_object *vphb_obj_get(const msgpack_object *m, const char *name)
{
    if (m == NULL || m->type != MSGPACK_OBJECT_MAP) return NULL;
    size_t nl = strlen(name);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == nl && memcmp(kv->key.via.str.ptr, name, nl) == 0)
            return kv->val.type == MSGPACK_OBJECT_NIL ? NULL : &kv->val;
    }
    return NULL;
}

const msgpack_object *vphb_get(const vphb_reply *r, const char *name) { return vphb_obj_get(r->map, name); }

int vphb_obj_u64(const msgpack_object *o, uint64_t *out)
{
    if (o == NULL) return -ENOENT;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) { *out = o->via.u64; return 0; }
    return -EINVAL;
}

int vphb_obj_i64(const msgpack_object *o, int64_t *out)
{
    if (o == NULL) return -ENOENT;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) { *out = o->via.i64; return 0; }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) { *out = (int64_t)o->via.u64; return 0; }
    return -EINVAL;
}

int vphb_get_u64(const vphb_reply *r, const char *name, uint64_t *out) { return vphb_obj_u64(vphb_get(r, name), out); }

int vphb_get_u32(const vphb_reply *r, const char *name, uint32_t *out)
{
    uint64_t v;
    int e = vphb_get_u64(r, name, &v);
    if (e == 0 && v > UINT32_MAX) e = -EINVAL;
    if (e == 0) *out = (uint32_t)v;
    return e;
}

int vphb_get_i64(const vphb_reply *r, const char *name, int64_t *out) { return vphb_obj_i64(vphb_get(r, name), out); }

int vphb_get_s32(const vphb_reply *r, const char *name, int32_t *out)
{
    int64_t v;
    int e = vphb_get_i64(r, name, &v);
    if (e == 0 && (v < INT32_MIN || v > INT32_MAX)) e = -EINVAL;
    if (e == 0) *out = (int32_t)v;
    return e;
}

int vphb_get_bool(const vphb_reply *r, const char *name, bool *out)
{
    const msgpack_object *o = vphb_get(r, name);
    if (o == NULL) return -ENOENT;
    if (o->type != MSGPACK_OBJECT_BOOLEAN) return -EINVAL;
    *out = o->via.boolean;
    return 0;
}

int vphb_get_bytes(const vphb_reply *r, const char *name, const void **ptr, size_t *len)
{
    const msgpack_object *o = vphb_get(r, name);
    if (o == NULL) return -ENOENT;
    if (o->type == MSGPACK_OBJECT_STR) { *ptr = o->via.str.ptr; *len = o->via.str.size; return 0; }
    if (o->type == MSGPACK_OBJECT_BIN) { *ptr = o->via.bin.ptr; *len = o->via.bin.size; return 0; }
    return -EINVAL;
}

/* ---- TCE_PUT_BATCH (raw request, MessagePack reply) ---- */


void vphb_tce_put_batch_prefix(uint8_t head[32], uint32_t vm_fd, uint64_t liobn, uint64_t ioba, uint32_t count)
{
    put32(head, vm_fd);
    put32(head + 4, 0);
    put64(head + 8, liobn);
    put64(head + 16, ioba);
    put32(head + 24, count);
    put32(head + 28, 0);
}

int vphb_tce_put_batch_send(vphb_conn *c, uint32_t vm_fd, uint64_t liobn, uint64_t ioba,
                            const uint64_t *tces, uint32_t count, uint16_t *msg_id)
{
    uint8_t head[32];
    vphb_tce_put_batch_prefix(head, vm_fd, liobn, ioba, count);
    struct iovec iov[2] = { { head, sizeof head }, { (void *)tces, (size_t)count * 8 } };
#if __BYTE_ORDER == __LITTLE_ENDIAN
    return vphb_send_raw(c, VPHB_OP_TCE_PUT_BATCH, iov, 2, msg_id);
#else
    uint64_t *le = malloc((size_t)count * 8 + 1);
    if (le == NULL) return -ENOMEM;
    for (uint32_t i = 0; i < count; i++) le[i] = htole64(tces[i]);
    iov[1].iov_base = le;
    int r = vphb_send_raw(c, VPHB_OP_TCE_PUT_BATCH, iov, 2, msg_id);
    free(le);
    return r;
#endif
}

int vphb_tce_put_batch_recv(vphb_conn *c, uint16_t msg_id, int32_t *ret, uint32_t *written)
{
    vphb_reply *rep;
    int e = vphb_wait(c, msg_id, &rep);
    if (e < 0) return e;
    e = vphb_reply_status(rep);
    if (e == 0 && (vphb_get_s32(rep, "ret", ret) != 0 || vphb_get_u32(rep, "written", written) != 0)) {
        vphb_set_message_("TCE_PUT_BATCH reply lacks ret/written", NULL, 0);
        e = -EBADMSG;
    }
    vphb_reply_free(rep);
    return e;
}

int vphb_tce_put_batch(vphb_conn *c, uint32_t vm_fd, uint64_t liobn, uint64_t ioba,
                       const uint64_t *tces, uint32_t count, int32_t *ret, uint32_t *written)
{
    uint16_t id;
    int e = vphb_tce_put_batch_send(c, vm_fd, liobn, ioba, tces, count, &id);
    return e < 0 ? e : vphb_tce_put_batch_recv(c, id, ret, written);
}

/* ---- stream decoder ---- */

void vphb_decoder_init(vphb_decoder *d) { memset(d, 0, sizeof *d); }
void vphb_decoder_free(vphb_decoder *d) { free(d->buf); memset(d, 0, sizeof *d); }

int vphb_decoder_push(vphb_decoder *d, const void *bytes, size_t len)
{
    if (d->len + len > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + len) cap *= 2;
        uint8_t *nb = realloc(d->buf, cap);
        if (nb == NULL) return -ENOMEM;
        d->buf = nb;
        d->cap = cap;
    }
    memcpy(d->buf + d->len, bytes, len);
    d->len += len;
    return 0;
}

int vphb_decoder_next(vphb_decoder *d, vphb_reply **out)
{
    *out = NULL;
    if (d->len < VPHB_HEADER_SIZE) return 0;
    vphb_header h;
    vphb_header_get(d->buf, &h);
    if (h.size < VPHB_HEADER_SIZE) return -EINVAL;
    if (d->len < h.size) return 0;
    int r = vphb_frame_parse(d->buf, h.size, false, out);
    if (*out == NULL) return r < 0 ? r : -ENOMEM;
    memmove(d->buf, d->buf + h.size, d->len - h.size);
    d->len -= h.size;
    return 1;
}
