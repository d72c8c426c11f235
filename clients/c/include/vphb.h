/*
 * libvphb: C99 client of the vphb wire protocol (protocol/PROTOCOL.md).
 *
 * One vphb_conn is one connection (UNIX socket, or tcp://HOST:PORT with a token). Every call
 * returns 0 or a non-negative result on success and a negative errno on failure; after a failed
 * call vphb_last_message() gives the server's explanation (or the library's, for local errors).
 *
 * Calls pipeline: vphb_send() puts a command on the wire and returns its msg_id, vphb_wait()
 * collects the reply with that id, whatever order the caller waits in. A connection may be used
 * from several threads; replies reach the thread that waits for them. Server-initiated frames
 * (flags type 0 from the server, e.g. IRQ events) go to the callback set with vphb_on_event().
 *
 * A lost connection turns every pending and later call into -EIO; nothing blocks forever on a
 * closed socket.
 */
#ifndef VPHB_H
#define VPHB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VPHB_PROTOCOL_MAJOR 1
#define VPHB_HEADER_SIZE 16u

/* Header flags (PROTOCOL.md §2). */
#define VPHB_FLAG_TYPE_MASK 0x0fu
#define VPHB_FLAG_COMMAND 0x0u
#define VPHB_FLAG_REPLY 0x1u
#define VPHB_FLAG_NO_REPLY 0x10u
#define VPHB_FLAG_ERROR 0x20u

typedef struct vphb_conn vphb_conn;

/** One received frame: a reply, or a server-initiated command. */
typedef struct vphb_reply {
    uint16_t msg_id;
    uint16_t command;
    uint32_t flags;
    /** Positive errno of an error reply, 0 otherwise. */
    uint32_t error;
    /** The payload bytes (after the header) and their length. */
    const uint8_t *payload;
    size_t payload_len;
    /** The decoded payload when it is MessagePack (NULL for an empty payload or a decode failure). */
    const msgpack_object *map;
    /* private */
    uint8_t *frame_;
    msgpack_unpacked unpacked_;
    struct vphb_reply *next_;
} vphb_reply;

void vphb_reply_free(vphb_reply *r);

/* ---- Connection ------------------------------------------------------------------------- */

struct vphb_reply;
typedef void (*vphb_event_fn)(vphb_conn *c, const struct vphb_reply *frame, void *user);

typedef struct vphb_options {
    /** Client name sent in VERSION (default "libvphb"). */
    const char *client;
    /** Token for TCP servers (default: env VPHB_TOKEN). */
    const char *token;
    /** Server-initiated frames from the first byte on (see vphb_on_event). */
    vphb_event_fn on_event;
    void *on_event_user;
} vphb_options;

/** Connects and performs the VERSION handshake. target: a UNIX socket path, "unix:PATH",
 *  "tcp://HOST:PORT" or "tcp:HOST:PORT" (IPv6 as [::1]), or NULL/"" for the default path ($XDG_RUNTIME_DIR/vphb.sock, else
 *  $TMPDIR or /tmp /vphb-<uid>.sock). Returns 0 and *out, or a negative errno (*out NULL;
 *  the message, if any, is written to msg when msg_len > 0). */
int vphb_connect(const char *target, const vphb_options *opt, vphb_conn **out, char *msg, size_t msg_len);
/** Writes the default socket path into buf. */
void vphb_default_socket_path(char *buf, size_t len);
/** Closes the socket and frees everything (pending replies included). Call only once no other
 *  thread uses the connection. */
void vphb_disconnect(vphb_conn *c);
/** Shuts the socket down: every waiter and every later call gets -EIO. Safe from any thread. */
void vphb_shutdown(vphb_conn *c);
/** True once the connection is lost or shut down. */
bool vphb_is_dead(const vphb_conn *c);
/** The socket (e.g. for poll() by a caller that runs no reader thread). */
int vphb_fd(const vphb_conn *c);

/** What the server said in VERSION. */
const char *vphb_server_name(const vphb_conn *c);
uint16_t vphb_server_minor(const vphb_conn *c);
uint32_t vphb_max_frame_size(const vphb_conn *c);
uint32_t vphb_max_inflight(const vphb_conn *c);
uint32_t vphb_host_page_size(const vphb_conn *c);
/** Code of the op named name in the server's VERSION capabilities, or -ENOENT. */
int vphb_server_op_code(const vphb_conn *c, const char *name);

/** Message of the last failed call in this thread ("" if none). */
const char *vphb_last_message(void);

/** Server-initiated frames. Called from whichever thread is reading the socket, without the
 *  connection lock held; the frame is freed when the callback returns. */
void vphb_on_event(vphb_conn *c, vphb_event_fn fn, void *user);
/** Starts a thread that reads the socket all the time, so events arrive while no call waits.
 *  Returns 0 or a negative errno. Stopped by vphb_shutdown/vphb_disconnect. */
int vphb_start_reader(vphb_conn *c);

/* ---- Generic calls: fields by name --------------------------------------------------------- */

typedef enum vphb_ftype {
    VPHB_F_UINT,   /* any unsigned integer field (fd, u16, u32, u64) */
    VPHB_F_INT,    /* a signed integer field (s32) */
    VPHB_F_BOOL,
    VPHB_F_STR,
    VPHB_F_BIN,
    VPHB_F_U64S,   /* u64[] */
    VPHB_F_S32S,   /* s32[] */
    VPHB_F_OBJECT, /* a msgpack_object packed as it is (nested maps, arrays) */
    VPHB_F_NIL
} vphb_ftype;

typedef struct vphb_field {
    const char *name;
    vphb_ftype type;
    union {
        uint64_t u;
        int64_t i;
        bool b;
        struct { const void *ptr; size_t len; } bytes; /* STR (len may be (size_t)-1: strlen), BIN */
        struct { const uint64_t *ptr; size_t count; } u64s;
        struct { const int32_t *ptr; size_t count; } s32s;
        const msgpack_object *obj;
    } v;
} vphb_field;

#define VPHB_UINT(n, x) ((vphb_field){ .name = (n), .type = VPHB_F_UINT, .v.u = (uint64_t)(x) })
#define VPHB_INT(n, x) ((vphb_field){ .name = (n), .type = VPHB_F_INT, .v.i = (int64_t)(x) })
#define VPHB_STR(n, s) ((vphb_field){ .name = (n), .type = VPHB_F_STR, .v.bytes = { (s), (size_t)-1 } })
#define VPHB_BIN(n, p, l) ((vphb_field){ .name = (n), .type = VPHB_F_BIN, .v.bytes = { (p), (l) } })
#define VPHB_U64S(n, p, c) ((vphb_field){ .name = (n), .type = VPHB_F_U64S, .v.u64s = { (p), (c) } })

/** Encodes fields as one MessagePack map, keys in the given order, integers in their smallest
 *  encoding (unsigned above 2^32 as uint64 0xcf). The buffer is msgpack_sbuffer_init'ed by the
 *  caller and owns the bytes. */
int vphb_encode_map(msgpack_sbuffer *buf, const vphb_field *fields, size_t n);

/** Sends a command whose payload is the fields as a MessagePack map. *msg_id receives the id to
 *  wait for (NULL: send with no_reply; no reply will come). */
int vphb_send(vphb_conn *c, uint16_t command, const vphb_field *fields, size_t n, uint16_t *msg_id);
/** Sends a command whose payload is the concatenation of iov (raw ops), without copying it. */
int vphb_send_raw(vphb_conn *c, uint16_t command, const struct iovec *iov, int iovcnt, uint16_t *msg_id);
/** Waits for the reply with msg_id. Returns 0 with *out (free with vphb_reply_free) when the
 *  server answered, the error reply included: vphb_reply_status() maps it to 0 / -errno. */
int vphb_wait(vphb_conn *c, uint16_t msg_id, vphb_reply **out);
/** 0 for a successful reply, -error for an error reply; sets vphb_last_message() from it. */
int vphb_reply_status(const vphb_reply *r);
/** send + wait + status: 0 or -errno; on success *out holds the reply (may be NULL if the caller
 *  does not want it). */
int vphb_call(vphb_conn *c, uint16_t command, const vphb_field *fields, size_t n, vphb_reply **out);

/* Reply field accessors: 0, -ENOENT if absent (or nil), -EINVAL if the type does not fit. */
const msgpack_object *vphb_get(const vphb_reply *r, const char *name);
const msgpack_object *vphb_obj_get(const msgpack_object *map, const char *name);
int vphb_get_u64(const vphb_reply *r, const char *name, uint64_t *out);
int vphb_get_u32(const vphb_reply *r, const char *name, uint32_t *out);
int vphb_get_i64(const vphb_reply *r, const char *name, int64_t *out);
int vphb_get_s32(const vphb_reply *r, const char *name, int32_t *out);
int vphb_get_bool(const vphb_reply *r, const char *name, bool *out);
/** String or bin: pointer into the reply (valid until vphb_reply_free) and its length. */
int vphb_get_bytes(const vphb_reply *r, const char *name, const void **ptr, size_t *len);
int vphb_obj_u64(const msgpack_object *o, uint64_t *out);
int vphb_obj_i64(const msgpack_object *o, int64_t *out);

/* ---- Frames ------------------------------------------------------------------------------- */

typedef struct vphb_header {
    uint16_t msg_id;
    uint16_t command;
    uint32_t size;
    uint32_t flags;
    uint32_t error;
} vphb_header;

void vphb_header_put(uint8_t out[16], const vphb_header *h);
void vphb_header_get(const uint8_t in[16], vphb_header *h);
/** Parses one whole frame (bytes copied). Returns 0 and *out, -EINVAL if the size field does not
 *  match len or is below 16, -EBADMSG if a non-empty payload of a non-raw frame is not one
 *  MessagePack object (the frame is still returned with map NULL when raw is true). */
int vphb_frame_parse(const uint8_t *frame, size_t len, bool raw, vphb_reply **out);

/** Stream decoder: bytes in as they arrive, whole frames out (payload decoded when it is one
 *  MessagePack object, else map NULL, as for a raw command). */
typedef struct vphb_decoder { uint8_t *buf; size_t len, cap; } vphb_decoder;
void vphb_decoder_init(vphb_decoder *d);
void vphb_decoder_free(vphb_decoder *d);
int vphb_decoder_push(vphb_decoder *d, const void *bytes, size_t len);
/** 1 and *out: a frame; 0: more bytes needed; -EINVAL: a size below 16 (the stream is lost). */
int vphb_decoder_next(vphb_decoder *d, vphb_reply **out);

/* ---- The raw fast path -------------------------------------------------------------------- */

/** TCE_PUT_BATCH: the tces array goes to the socket as it is (writev, no copy, on little-endian
 *  hosts). ret is the PAPR return code, written the number of entries applied. */
int vphb_tce_put_batch(vphb_conn *c, uint32_t vm_fd, uint64_t liobn, uint64_t ioba,
                       const uint64_t *tces, uint32_t count, int32_t *ret, uint32_t *written);
int vphb_tce_put_batch_send(vphb_conn *c, uint32_t vm_fd, uint64_t liobn, uint64_t ioba,
                            const uint64_t *tces, uint32_t count, uint16_t *msg_id);
/** The 32-byte little-endian request prefix of TCE_PUT_BATCH (what precedes the TCEs). */
void vphb_tce_put_batch_prefix(uint8_t out[32], uint32_t vm_fd, uint64_t liobn, uint64_t ioba, uint32_t count);
int vphb_tce_put_batch_recv(vphb_conn *c, uint16_t msg_id, int32_t *ret, uint32_t *written);

#ifdef __cplusplus
}
#endif

#include "vphb_ops.h"

#endif
