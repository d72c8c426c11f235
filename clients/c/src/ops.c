/* Generated from protocol/ops.json by clients/c/gen-c.mjs: do not edit. */
#include "vphb.h"
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

const char *vphb_op_name(uint16_t code)
{
    switch (code) {
    case 1: return "VERSION";
    case 2: return "PING";
    case 3: return "TOPOLOGY";
    case 4: return "CLOSE";
    case 5: return "HOST_STATE";
    case 256: return "VFIO_OPEN_CONTAINER";
    case 257: return "VFIO_GET_API_VERSION";
    case 258: return "VFIO_CHECK_EXTENSION";
    case 259: return "VFIO_SET_IOMMU";
    case 260: return "VFIO_GROUP_OPEN";
    case 261: return "VFIO_GROUP_GET_STATUS";
    case 262: return "VFIO_GROUP_SET_CONTAINER";
    case 263: return "VFIO_GROUP_UNSET_CONTAINER";
    case 264: return "VFIO_GROUP_GET_DEVICE_FD";
    case 265: return "VFIO_IOMMU_SPAPR_TCE_GET_INFO";
    case 266: return "VFIO_IOMMU_ENABLE";
    case 267: return "VFIO_IOMMU_DISABLE";
    case 268: return "VFIO_IOMMU_MAP_DMA";
    case 269: return "VFIO_IOMMU_UNMAP_DMA";
    case 270: return "VFIO_IOMMU_SPAPR_REGISTER_MEMORY";
    case 271: return "VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY";
    case 272: return "VFIO_IOMMU_SPAPR_TCE_CREATE";
    case 273: return "VFIO_IOMMU_SPAPR_TCE_REMOVE";
    case 274: return "IOMMU_TRANSLATE";
    case 275: return "VFIO_DEVICE_GET_INFO";
    case 276: return "VFIO_DEVICE_GET_REGION_INFO";
    case 277: return "VFIO_DEVICE_GET_IRQ_INFO";
    case 278: return "VFIO_DEVICE_SET_IRQS";
    case 279: return "VFIO_DEVICE_RESET";
    case 280: return "VFIO_DEVICE_REGION_READ";
    case 281: return "VFIO_DEVICE_REGION_WRITE";
    case 282: return "VFIO_EEH_PE_OP";
    case 283: return "DEVICE_RAISE_IRQ";
    case 300: return "VFIO_IOMMU_GET_INFO";
    case 301: return "VFIO_IOMMU_DIRTY_PAGES";
    case 512: return "KVM_CREATE_VM";
    case 513: return "KVM_CHECK_EXTENSION";
    case 514: return "KVM_ENABLE_CAP";
    case 515: return "KVM_SET_USER_MEMORY_REGION";
    case 516: return "KVM_CREATE_SPAPR_TCE";
    case 517: return "KVM_CREATE_SPAPR_TCE_64";
    case 518: return "KVM_CREATE_DEVICE";
    case 519: return "KVM_SET_DEVICE_ATTR";
    case 520: return "H_PUT_TCE";
    case 521: return "H_PUT_TCE_INDIRECT";
    case 522: return "H_STUFF_TCE";
    case 523: return "H_GET_TCE";
    case 524: return "TCE_TABLE_READ";
    case 525: return "TCE_TABLE_WRITE";
    case 526: return "TCE_PUT_BATCH";
    case 1024: return "VFIO_DEVICE_IRQ";
    default: return NULL;
    }
}

int vphb_version_send(vphb_conn *c, const struct vphb_version_req *req, uint16_t *msg_id)
{
    vphb_field f[4];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "major", .type = VPHB_F_UINT, .v.u = req->major };
    f[n++] = (vphb_field){ .name = "minor", .type = VPHB_F_UINT, .v.u = req->minor };
    f[n++] = (vphb_field){ .name = "client", .type = VPHB_F_STR, .v.bytes = { req->client, (size_t)-1 } };
    if (req->has_token) f[n++] = (vphb_field){ .name = "token", .type = VPHB_F_STR, .v.bytes = { req->token, (size_t)-1 } };
    return vphb_send(c, 1, f, n, msg_id);
}

int vphb_version_recv(vphb_conn *c, uint16_t msg_id, struct vphb_version_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "major");
    rep->has_major = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT16_MAX) rep->major = (uint16_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "minor");
    rep->has_minor = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT16_MAX) rep->minor = (uint16_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "server");
    rep->has_server = o != NULL;
    if (o != NULL) { if (o->type == MSGPACK_OBJECT_STR) { rep->server = o->via.str.ptr; rep->server_len = o->via.str.size; } else if (o->type == MSGPACK_OBJECT_BIN) { rep->server = o->via.bin.ptr; rep->server_len = o->via.bin.size; } else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "capabilities");
    rep->has_capabilities = o != NULL;
    if (o != NULL) rep->capabilities = o;
    else bad = 1;
    if (bad) { vphb_set_message_("VERSION reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_version(vphb_conn *c, const struct vphb_version_req *req, struct vphb_version_rep *rep)
{
    uint16_t id;
    int e = vphb_version_send(c, req, &id);
    return e < 0 ? e : vphb_version_recv(c, id, rep);
}

int vphb_ping_send(vphb_conn *c, const struct vphb_ping_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    if (req->has_data) f[n++] = (vphb_field){ .name = "data", .type = VPHB_F_BIN, .v.bytes = { req->data, req->data_len } };
    return vphb_send(c, 2, f, n, msg_id);
}

int vphb_ping_recv(vphb_conn *c, uint16_t msg_id, struct vphb_ping_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "data");
    rep->has_data = o != NULL;
    if (o != NULL) { if (o->type == MSGPACK_OBJECT_STR) { rep->data = o->via.str.ptr; rep->data_len = o->via.str.size; } else if (o->type == MSGPACK_OBJECT_BIN) { rep->data = o->via.bin.ptr; rep->data_len = o->via.bin.size; } else bad = 1; }
    if (bad) { vphb_set_message_("PING reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_ping(vphb_conn *c, const struct vphb_ping_req *req, struct vphb_ping_rep *rep)
{
    uint16_t id;
    int e = vphb_ping_send(c, req, &id);
    return e < 0 ? e : vphb_ping_recv(c, id, rep);
}

int vphb_topology_send(vphb_conn *c, uint16_t *msg_id)
{
    return vphb_send(c, 3, NULL, 0, msg_id);
}

int vphb_topology_recv(vphb_conn *c, uint16_t msg_id, struct vphb_topology_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "host_page_shift");
    rep->has_host_page_shift = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->host_page_shift = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "phbs");
    rep->has_phbs = o != NULL;
    if (o != NULL) rep->phbs = o;
    else bad = 1;
    if (bad) { vphb_set_message_("TOPOLOGY reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_topology(vphb_conn *c, struct vphb_topology_rep *rep)
{
    uint16_t id;
    int e = vphb_topology_send(c, &id);
    return e < 0 ? e : vphb_topology_recv(c, id, rep);
}

int vphb_close_send(vphb_conn *c, const struct vphb_close_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 4, f, n, msg_id);
}

int vphb_close_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_close(vphb_conn *c, const struct vphb_close_req *req)
{
    uint16_t id;
    int e = vphb_close_send(c, req, &id);
    return e < 0 ? e : vphb_close_recv(c, id);
}

int vphb_host_state_send(vphb_conn *c, uint16_t *msg_id)
{
    return vphb_send(c, 5, NULL, 0, msg_id);
}

int vphb_host_state_recv(vphb_conn *c, uint16_t msg_id, struct vphb_host_state_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "phbs");
    rep->has_phbs = o != NULL;
    if (o != NULL) rep->phbs = o;
    else bad = 1;
    o = vphb_get(r, "containers");
    rep->has_containers = o != NULL;
    if (o != NULL) rep->containers = o;
    else bad = 1;
    o = vphb_get(r, "vms");
    rep->has_vms = o != NULL;
    if (o != NULL) rep->vms = o;
    else bad = 1;
    o = vphb_get(r, "connections");
    rep->has_connections = o != NULL;
    if (o != NULL) rep->connections = o;
    else bad = 1;
    if (bad) { vphb_set_message_("HOST_STATE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_host_state(vphb_conn *c, struct vphb_host_state_rep *rep)
{
    uint16_t id;
    int e = vphb_host_state_send(c, &id);
    return e < 0 ? e : vphb_host_state_recv(c, id, rep);
}

int vphb_vfio_open_container_send(vphb_conn *c, uint16_t *msg_id)
{
    return vphb_send(c, 256, NULL, 0, msg_id);
}

int vphb_vfio_open_container_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_open_container_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "fd");
    rep->has_fd = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->fd = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_OPEN_CONTAINER reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_open_container(vphb_conn *c, struct vphb_vfio_open_container_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_open_container_send(c, &id);
    return e < 0 ? e : vphb_vfio_open_container_recv(c, id, rep);
}

int vphb_vfio_get_api_version_send(vphb_conn *c, const struct vphb_vfio_get_api_version_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 257, f, n, msg_id);
}

int vphb_vfio_get_api_version_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_get_api_version_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_GET_API_VERSION reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_get_api_version(vphb_conn *c, const struct vphb_vfio_get_api_version_req *req, struct vphb_vfio_get_api_version_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_get_api_version_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_get_api_version_recv(c, id, rep);
}

int vphb_vfio_check_extension_send(vphb_conn *c, const struct vphb_vfio_check_extension_req *req, uint16_t *msg_id)
{
    vphb_field f[2];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "extension", .type = VPHB_F_UINT, .v.u = req->extension };
    return vphb_send(c, 258, f, n, msg_id);
}

int vphb_vfio_check_extension_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_check_extension_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_CHECK_EXTENSION reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_check_extension(vphb_conn *c, const struct vphb_vfio_check_extension_req *req, struct vphb_vfio_check_extension_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_check_extension_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_check_extension_recv(c, id, rep);
}

int vphb_vfio_set_iommu_send(vphb_conn *c, const struct vphb_vfio_set_iommu_req *req, uint16_t *msg_id)
{
    vphb_field f[2];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "type", .type = VPHB_F_UINT, .v.u = req->type };
    return vphb_send(c, 259, f, n, msg_id);
}

int vphb_vfio_set_iommu_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_set_iommu(vphb_conn *c, const struct vphb_vfio_set_iommu_req *req)
{
    uint16_t id;
    int e = vphb_vfio_set_iommu_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_set_iommu_recv(c, id);
}

int vphb_vfio_group_open_send(vphb_conn *c, const struct vphb_vfio_group_open_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "group", .type = VPHB_F_UINT, .v.u = req->group };
    return vphb_send(c, 260, f, n, msg_id);
}

int vphb_vfio_group_open_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_group_open_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "fd");
    rep->has_fd = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->fd = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_GROUP_OPEN reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_group_open(vphb_conn *c, const struct vphb_vfio_group_open_req *req, struct vphb_vfio_group_open_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_group_open_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_group_open_recv(c, id, rep);
}

int vphb_vfio_group_get_status_send(vphb_conn *c, const struct vphb_vfio_group_get_status_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 261, f, n, msg_id);
}

int vphb_vfio_group_get_status_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_group_get_status_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "flags");
    rep->has_flags = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->flags = (uint32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_GROUP_GET_STATUS reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_group_get_status(vphb_conn *c, const struct vphb_vfio_group_get_status_req *req, struct vphb_vfio_group_get_status_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_group_get_status_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_group_get_status_recv(c, id, rep);
}

int vphb_vfio_group_set_container_send(vphb_conn *c, const struct vphb_vfio_group_set_container_req *req, uint16_t *msg_id)
{
    vphb_field f[2];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "container", .type = VPHB_F_INT, .v.i = req->container };
    return vphb_send(c, 262, f, n, msg_id);
}

int vphb_vfio_group_set_container_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_group_set_container(vphb_conn *c, const struct vphb_vfio_group_set_container_req *req)
{
    uint16_t id;
    int e = vphb_vfio_group_set_container_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_group_set_container_recv(c, id);
}

int vphb_vfio_group_unset_container_send(vphb_conn *c, const struct vphb_vfio_group_unset_container_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 263, f, n, msg_id);
}

int vphb_vfio_group_unset_container_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_group_unset_container(vphb_conn *c, const struct vphb_vfio_group_unset_container_req *req)
{
    uint16_t id;
    int e = vphb_vfio_group_unset_container_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_group_unset_container_recv(c, id);
}

int vphb_vfio_group_get_device_fd_send(vphb_conn *c, const struct vphb_vfio_group_get_device_fd_req *req, uint16_t *msg_id)
{
    vphb_field f[2];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "name", .type = VPHB_F_STR, .v.bytes = { req->name, (size_t)-1 } };
    return vphb_send(c, 264, f, n, msg_id);
}

int vphb_vfio_group_get_device_fd_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_group_get_device_fd_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "fd");
    rep->has_fd = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->fd = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_GROUP_GET_DEVICE_FD reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_group_get_device_fd(vphb_conn *c, const struct vphb_vfio_group_get_device_fd_req *req, struct vphb_vfio_group_get_device_fd_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_group_get_device_fd_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_group_get_device_fd_recv(c, id, rep);
}

int vphb_vfio_iommu_spapr_tce_get_info_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_get_info_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 265, f, n, msg_id);
}

int vphb_vfio_iommu_spapr_tce_get_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_spapr_tce_get_info_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "flags");
    rep->has_flags = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->flags = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "dma32_window_start");
    rep->has_dma32_window_start = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->dma32_window_start = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "dma32_window_size");
    rep->has_dma32_window_size = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->dma32_window_size = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "ddw");
    rep->has_ddw = o != NULL;
    if (o != NULL) rep->ddw = o;
    if (bad) { vphb_set_message_("VFIO_IOMMU_SPAPR_TCE_GET_INFO reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_vfio_iommu_spapr_tce_get_info(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_get_info_req *req, struct vphb_vfio_iommu_spapr_tce_get_info_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_iommu_spapr_tce_get_info_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_spapr_tce_get_info_recv(c, id, rep);
}

int vphb_vfio_iommu_enable_send(vphb_conn *c, const struct vphb_vfio_iommu_enable_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 266, f, n, msg_id);
}

int vphb_vfio_iommu_enable_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_iommu_enable(vphb_conn *c, const struct vphb_vfio_iommu_enable_req *req)
{
    uint16_t id;
    int e = vphb_vfio_iommu_enable_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_enable_recv(c, id);
}

int vphb_vfio_iommu_disable_send(vphb_conn *c, const struct vphb_vfio_iommu_disable_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 267, f, n, msg_id);
}

int vphb_vfio_iommu_disable_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_iommu_disable(vphb_conn *c, const struct vphb_vfio_iommu_disable_req *req)
{
    uint16_t id;
    int e = vphb_vfio_iommu_disable_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_disable_recv(c, id);
}

int vphb_vfio_iommu_map_dma_send(vphb_conn *c, const struct vphb_vfio_iommu_map_dma_req *req, uint16_t *msg_id)
{
    vphb_field f[5];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "vaddr", .type = VPHB_F_UINT, .v.u = req->vaddr };
    f[n++] = (vphb_field){ .name = "iova", .type = VPHB_F_UINT, .v.u = req->iova };
    f[n++] = (vphb_field){ .name = "size", .type = VPHB_F_UINT, .v.u = req->size };
    return vphb_send(c, 268, f, n, msg_id);
}

int vphb_vfio_iommu_map_dma_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_map_dma_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->ret = (uint32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_IOMMU_MAP_DMA reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_iommu_map_dma(vphb_conn *c, const struct vphb_vfio_iommu_map_dma_req *req, struct vphb_vfio_iommu_map_dma_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_iommu_map_dma_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_map_dma_recv(c, id, rep);
}

int vphb_vfio_iommu_unmap_dma_send(vphb_conn *c, const struct vphb_vfio_iommu_unmap_dma_req *req, uint16_t *msg_id)
{
    vphb_field f[6];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "iova", .type = VPHB_F_UINT, .v.u = req->iova };
    f[n++] = (vphb_field){ .name = "size", .type = VPHB_F_UINT, .v.u = req->size };
    if (req->has_bitmap_pgsize) f[n++] = (vphb_field){ .name = "bitmap_pgsize", .type = VPHB_F_UINT, .v.u = req->bitmap_pgsize };
    if (req->has_bitmap_size) f[n++] = (vphb_field){ .name = "bitmap_size", .type = VPHB_F_UINT, .v.u = req->bitmap_size };
    return vphb_send(c, 269, f, n, msg_id);
}

int vphb_vfio_iommu_unmap_dma_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_unmap_dma_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->ret = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "size");
    rep->has_size = o != NULL;
    if (o != NULL) { if (vphb_obj_u64(o, &rep->size) != 0) bad = 1; }
    o = vphb_get(r, "bitmap");
    rep->has_bitmap = o != NULL;
    if (o != NULL) { if (o->type == MSGPACK_OBJECT_STR) { rep->bitmap = o->via.str.ptr; rep->bitmap_len = o->via.str.size; } else if (o->type == MSGPACK_OBJECT_BIN) { rep->bitmap = o->via.bin.ptr; rep->bitmap_len = o->via.bin.size; } else bad = 1; }
    if (bad) { vphb_set_message_("VFIO_IOMMU_UNMAP_DMA reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_vfio_iommu_unmap_dma(vphb_conn *c, const struct vphb_vfio_iommu_unmap_dma_req *req, struct vphb_vfio_iommu_unmap_dma_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_iommu_unmap_dma_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_unmap_dma_recv(c, id, rep);
}

int vphb_vfio_iommu_spapr_register_memory_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_register_memory_req *req, uint16_t *msg_id)
{
    vphb_field f[5];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "vaddr", .type = VPHB_F_UINT, .v.u = req->vaddr };
    f[n++] = (vphb_field){ .name = "size", .type = VPHB_F_UINT, .v.u = req->size };
    if (req->has_page_shift) f[n++] = (vphb_field){ .name = "page_shift", .type = VPHB_F_UINT, .v.u = req->page_shift };
    return vphb_send(c, 270, f, n, msg_id);
}

int vphb_vfio_iommu_spapr_register_memory_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_iommu_spapr_register_memory(vphb_conn *c, const struct vphb_vfio_iommu_spapr_register_memory_req *req)
{
    uint16_t id;
    int e = vphb_vfio_iommu_spapr_register_memory_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_spapr_register_memory_recv(c, id);
}

int vphb_vfio_iommu_spapr_unregister_memory_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_unregister_memory_req *req, uint16_t *msg_id)
{
    vphb_field f[4];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "vaddr", .type = VPHB_F_UINT, .v.u = req->vaddr };
    f[n++] = (vphb_field){ .name = "size", .type = VPHB_F_UINT, .v.u = req->size };
    return vphb_send(c, 271, f, n, msg_id);
}

int vphb_vfio_iommu_spapr_unregister_memory_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_iommu_spapr_unregister_memory(vphb_conn *c, const struct vphb_vfio_iommu_spapr_unregister_memory_req *req)
{
    uint16_t id;
    int e = vphb_vfio_iommu_spapr_unregister_memory_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_spapr_unregister_memory_recv(c, id);
}

int vphb_vfio_iommu_spapr_tce_create_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_create_req *req, uint16_t *msg_id)
{
    vphb_field f[5];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "page_shift", .type = VPHB_F_UINT, .v.u = req->page_shift };
    f[n++] = (vphb_field){ .name = "window_size", .type = VPHB_F_UINT, .v.u = req->window_size };
    f[n++] = (vphb_field){ .name = "levels", .type = VPHB_F_UINT, .v.u = req->levels };
    return vphb_send(c, 272, f, n, msg_id);
}

int vphb_vfio_iommu_spapr_tce_create_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_spapr_tce_create_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "start_addr");
    rep->has_start_addr = o != NULL;
    if (o != NULL) { if (vphb_obj_u64(o, &rep->start_addr) != 0) bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_IOMMU_SPAPR_TCE_CREATE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_iommu_spapr_tce_create(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_create_req *req, struct vphb_vfio_iommu_spapr_tce_create_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_iommu_spapr_tce_create_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_spapr_tce_create_recv(c, id, rep);
}

int vphb_vfio_iommu_spapr_tce_remove_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_remove_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "start_addr", .type = VPHB_F_UINT, .v.u = req->start_addr };
    return vphb_send(c, 273, f, n, msg_id);
}

int vphb_vfio_iommu_spapr_tce_remove_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_iommu_spapr_tce_remove(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_remove_req *req)
{
    uint16_t id;
    int e = vphb_vfio_iommu_spapr_tce_remove_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_spapr_tce_remove_recv(c, id);
}

int vphb_iommu_translate_send(vphb_conn *c, const struct vphb_iommu_translate_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "iova", .type = VPHB_F_UINT, .v.u = req->iova };
    f[n++] = (vphb_field){ .name = "access", .type = VPHB_F_STR, .v.bytes = { req->access, (size_t)-1 } };
    return vphb_send(c, 274, f, n, msg_id);
}

int vphb_iommu_translate_recv(vphb_conn *c, uint16_t msg_id, struct vphb_iommu_translate_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "addr");
    rep->has_addr = o != NULL;
    if (o != NULL) { if (vphb_obj_u64(o, &rep->addr) != 0) bad = 1; }
    else bad = 1;
    o = vphb_get(r, "page_size");
    rep->has_page_size = o != NULL;
    if (o != NULL) { if (vphb_obj_u64(o, &rep->page_size) != 0) bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("IOMMU_TRANSLATE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_iommu_translate(vphb_conn *c, const struct vphb_iommu_translate_req *req, struct vphb_iommu_translate_rep *rep)
{
    uint16_t id;
    int e = vphb_iommu_translate_send(c, req, &id);
    return e < 0 ? e : vphb_iommu_translate_recv(c, id, rep);
}

int vphb_vfio_device_get_info_send(vphb_conn *c, const struct vphb_vfio_device_get_info_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 275, f, n, msg_id);
}

int vphb_vfio_device_get_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_get_info_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "flags");
    rep->has_flags = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->flags = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "num_regions");
    rep->has_num_regions = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->num_regions = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "num_irqs");
    rep->has_num_irqs = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->num_irqs = (uint32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_DEVICE_GET_INFO reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_device_get_info(vphb_conn *c, const struct vphb_vfio_device_get_info_req *req, struct vphb_vfio_device_get_info_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_device_get_info_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_device_get_info_recv(c, id, rep);
}

int vphb_vfio_device_get_region_info_send(vphb_conn *c, const struct vphb_vfio_device_get_region_info_req *req, uint16_t *msg_id)
{
    vphb_field f[2];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "index", .type = VPHB_F_UINT, .v.u = req->index };
    return vphb_send(c, 276, f, n, msg_id);
}

int vphb_vfio_device_get_region_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_get_region_info_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "index");
    rep->has_index = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->index = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "flags");
    rep->has_flags = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->flags = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "size");
    rep->has_size = o != NULL;
    if (o != NULL) { if (vphb_obj_u64(o, &rep->size) != 0) bad = 1; }
    else bad = 1;
    o = vphb_get(r, "offset");
    rep->has_offset = o != NULL;
    if (o != NULL) { if (vphb_obj_u64(o, &rep->offset) != 0) bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_DEVICE_GET_REGION_INFO reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_device_get_region_info(vphb_conn *c, const struct vphb_vfio_device_get_region_info_req *req, struct vphb_vfio_device_get_region_info_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_device_get_region_info_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_device_get_region_info_recv(c, id, rep);
}

int vphb_vfio_device_get_irq_info_send(vphb_conn *c, const struct vphb_vfio_device_get_irq_info_req *req, uint16_t *msg_id)
{
    vphb_field f[2];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "index", .type = VPHB_F_UINT, .v.u = req->index };
    return vphb_send(c, 277, f, n, msg_id);
}

int vphb_vfio_device_get_irq_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_get_irq_info_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "index");
    rep->has_index = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->index = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "flags");
    rep->has_flags = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->flags = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "count");
    rep->has_count = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->count = (uint32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_DEVICE_GET_IRQ_INFO reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_device_get_irq_info(vphb_conn *c, const struct vphb_vfio_device_get_irq_info_req *req, struct vphb_vfio_device_get_irq_info_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_device_get_irq_info_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_device_get_irq_info_recv(c, id, rep);
}

int vphb_vfio_device_set_irqs_send(vphb_conn *c, const struct vphb_vfio_device_set_irqs_req *req, uint16_t *msg_id)
{
    vphb_field f[6];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "index", .type = VPHB_F_UINT, .v.u = req->index };
    f[n++] = (vphb_field){ .name = "start", .type = VPHB_F_UINT, .v.u = req->start };
    f[n++] = (vphb_field){ .name = "count", .type = VPHB_F_UINT, .v.u = req->count };
    if (req->has_data) f[n++] = (vphb_field){ .name = "data", .type = VPHB_F_S32S, .v.s32s = { req->data, req->data_count } };
    return vphb_send(c, 278, f, n, msg_id);
}

int vphb_vfio_device_set_irqs_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_device_set_irqs(vphb_conn *c, const struct vphb_vfio_device_set_irqs_req *req)
{
    uint16_t id;
    int e = vphb_vfio_device_set_irqs_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_device_set_irqs_recv(c, id);
}

int vphb_vfio_device_reset_send(vphb_conn *c, const struct vphb_vfio_device_reset_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 279, f, n, msg_id);
}

int vphb_vfio_device_reset_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_device_reset(vphb_conn *c, const struct vphb_vfio_device_reset_req *req)
{
    uint16_t id;
    int e = vphb_vfio_device_reset_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_device_reset_recv(c, id);
}

int vphb_vfio_device_region_read_send(vphb_conn *c, const struct vphb_vfio_device_region_read_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "offset", .type = VPHB_F_UINT, .v.u = req->offset };
    f[n++] = (vphb_field){ .name = "count", .type = VPHB_F_UINT, .v.u = req->count };
    return vphb_send(c, 280, f, n, msg_id);
}

int vphb_vfio_device_region_read_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_region_read_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "data");
    rep->has_data = o != NULL;
    if (o != NULL) { if (o->type == MSGPACK_OBJECT_STR) { rep->data = o->via.str.ptr; rep->data_len = o->via.str.size; } else if (o->type == MSGPACK_OBJECT_BIN) { rep->data = o->via.bin.ptr; rep->data_len = o->via.bin.size; } else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_DEVICE_REGION_READ reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_vfio_device_region_read(vphb_conn *c, const struct vphb_vfio_device_region_read_req *req, struct vphb_vfio_device_region_read_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_device_region_read_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_device_region_read_recv(c, id, rep);
}

int vphb_vfio_device_region_write_send(vphb_conn *c, const struct vphb_vfio_device_region_write_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "offset", .type = VPHB_F_UINT, .v.u = req->offset };
    f[n++] = (vphb_field){ .name = "data", .type = VPHB_F_BIN, .v.bytes = { req->data, req->data_len } };
    return vphb_send(c, 281, f, n, msg_id);
}

int vphb_vfio_device_region_write_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_region_write_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "count");
    rep->has_count = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->count = (uint32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_DEVICE_REGION_WRITE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_device_region_write(vphb_conn *c, const struct vphb_vfio_device_region_write_req *req, struct vphb_vfio_device_region_write_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_device_region_write_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_device_region_write_recv(c, id, rep);
}

int vphb_vfio_eeh_pe_op_send(vphb_conn *c, const struct vphb_vfio_eeh_pe_op_req *req, uint16_t *msg_id)
{
    vphb_field f[7];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "op", .type = VPHB_F_UINT, .v.u = req->op };
    if (req->has_type) f[n++] = (vphb_field){ .name = "type", .type = VPHB_F_UINT, .v.u = req->type };
    if (req->has_func) f[n++] = (vphb_field){ .name = "func", .type = VPHB_F_UINT, .v.u = req->func };
    if (req->has_addr) f[n++] = (vphb_field){ .name = "addr", .type = VPHB_F_UINT, .v.u = req->addr };
    if (req->has_mask) f[n++] = (vphb_field){ .name = "mask", .type = VPHB_F_UINT, .v.u = req->mask };
    return vphb_send(c, 282, f, n, msg_id);
}

int vphb_vfio_eeh_pe_op_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_eeh_pe_op_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_EEH_PE_OP reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_vfio_eeh_pe_op(vphb_conn *c, const struct vphb_vfio_eeh_pe_op_req *req, struct vphb_vfio_eeh_pe_op_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_eeh_pe_op_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_eeh_pe_op_recv(c, id, rep);
}

int vphb_device_raise_irq_send(vphb_conn *c, const struct vphb_device_raise_irq_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "index", .type = VPHB_F_UINT, .v.u = req->index };
    if (req->has_vector) f[n++] = (vphb_field){ .name = "vector", .type = VPHB_F_UINT, .v.u = req->vector };
    return vphb_send(c, 283, f, n, msg_id);
}

int vphb_device_raise_irq_recv(vphb_conn *c, uint16_t msg_id, struct vphb_device_raise_irq_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("DEVICE_RAISE_IRQ reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_device_raise_irq(vphb_conn *c, const struct vphb_device_raise_irq_req *req, struct vphb_device_raise_irq_rep *rep)
{
    uint16_t id;
    int e = vphb_device_raise_irq_send(c, req, &id);
    return e < 0 ? e : vphb_device_raise_irq_recv(c, id, rep);
}

int vphb_vfio_iommu_get_info_send(vphb_conn *c, const struct vphb_vfio_iommu_get_info_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    return vphb_send(c, 300, f, n, msg_id);
}

int vphb_vfio_iommu_get_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_get_info_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "flags");
    rep->has_flags = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->flags = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "iova_pgsizes");
    rep->has_iova_pgsizes = o != NULL;
    if (o != NULL) { if (vphb_obj_u64(o, &rep->iova_pgsizes) != 0) bad = 1; }
    else bad = 1;
    o = vphb_get(r, "iova_ranges");
    rep->has_iova_ranges = o != NULL;
    if (o != NULL) rep->iova_ranges = o;
    o = vphb_get(r, "migration");
    rep->has_migration = o != NULL;
    if (o != NULL) rep->migration = o;
    else bad = 1;
    o = vphb_get(r, "dma_avail");
    rep->has_dma_avail = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) rep->dma_avail = (uint32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_IOMMU_GET_INFO reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_vfio_iommu_get_info(vphb_conn *c, const struct vphb_vfio_iommu_get_info_req *req, struct vphb_vfio_iommu_get_info_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_iommu_get_info_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_get_info_recv(c, id, rep);
}

int vphb_vfio_iommu_dirty_pages_send(vphb_conn *c, const struct vphb_vfio_iommu_dirty_pages_req *req, uint16_t *msg_id)
{
    vphb_field f[6];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    if (req->has_iova) f[n++] = (vphb_field){ .name = "iova", .type = VPHB_F_UINT, .v.u = req->iova };
    if (req->has_size) f[n++] = (vphb_field){ .name = "size", .type = VPHB_F_UINT, .v.u = req->size };
    if (req->has_bitmap_pgsize) f[n++] = (vphb_field){ .name = "bitmap_pgsize", .type = VPHB_F_UINT, .v.u = req->bitmap_pgsize };
    if (req->has_bitmap_size) f[n++] = (vphb_field){ .name = "bitmap_size", .type = VPHB_F_UINT, .v.u = req->bitmap_size };
    return vphb_send(c, 301, f, n, msg_id);
}

int vphb_vfio_iommu_dirty_pages_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_dirty_pages_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "bitmap");
    rep->has_bitmap = o != NULL;
    if (o != NULL) { if (o->type == MSGPACK_OBJECT_STR) { rep->bitmap = o->via.str.ptr; rep->bitmap_len = o->via.str.size; } else if (o->type == MSGPACK_OBJECT_BIN) { rep->bitmap = o->via.bin.ptr; rep->bitmap_len = o->via.bin.size; } else bad = 1; }
    if (bad) { vphb_set_message_("VFIO_IOMMU_DIRTY_PAGES reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_vfio_iommu_dirty_pages(vphb_conn *c, const struct vphb_vfio_iommu_dirty_pages_req *req, struct vphb_vfio_iommu_dirty_pages_rep *rep)
{
    uint16_t id;
    int e = vphb_vfio_iommu_dirty_pages_send(c, req, &id);
    return e < 0 ? e : vphb_vfio_iommu_dirty_pages_recv(c, id, rep);
}

int vphb_kvm_create_vm_send(vphb_conn *c, const struct vphb_kvm_create_vm_req *req, uint16_t *msg_id)
{
    vphb_field f[1];
    size_t n = 0;
    if (req->has_type) f[n++] = (vphb_field){ .name = "type", .type = VPHB_F_UINT, .v.u = req->type };
    return vphb_send(c, 512, f, n, msg_id);
}

int vphb_kvm_create_vm_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_create_vm_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "fd");
    rep->has_fd = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->fd = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("KVM_CREATE_VM reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_kvm_create_vm(vphb_conn *c, const struct vphb_kvm_create_vm_req *req, struct vphb_kvm_create_vm_rep *rep)
{
    uint16_t id;
    int e = vphb_kvm_create_vm_send(c, req, &id);
    return e < 0 ? e : vphb_kvm_create_vm_recv(c, id, rep);
}

int vphb_kvm_check_extension_send(vphb_conn *c, const struct vphb_kvm_check_extension_req *req, uint16_t *msg_id)
{
    vphb_field f[2];
    size_t n = 0;
    if (req->has_fd) f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "extension", .type = VPHB_F_UINT, .v.u = req->extension };
    return vphb_send(c, 513, f, n, msg_id);
}

int vphb_kvm_check_extension_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_check_extension_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("KVM_CHECK_EXTENSION reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_kvm_check_extension(vphb_conn *c, const struct vphb_kvm_check_extension_req *req, struct vphb_kvm_check_extension_rep *rep)
{
    uint16_t id;
    int e = vphb_kvm_check_extension_send(c, req, &id);
    return e < 0 ? e : vphb_kvm_check_extension_recv(c, id, rep);
}

int vphb_kvm_enable_cap_send(vphb_conn *c, const struct vphb_kvm_enable_cap_req *req, uint16_t *msg_id)
{
    vphb_field f[4];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "cap", .type = VPHB_F_UINT, .v.u = req->cap };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    if (req->has_args) f[n++] = (vphb_field){ .name = "args", .type = VPHB_F_U64S, .v.u64s = { req->args, req->args_count } };
    return vphb_send(c, 514, f, n, msg_id);
}

int vphb_kvm_enable_cap_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_kvm_enable_cap(vphb_conn *c, const struct vphb_kvm_enable_cap_req *req)
{
    uint16_t id;
    int e = vphb_kvm_enable_cap_send(c, req, &id);
    return e < 0 ? e : vphb_kvm_enable_cap_recv(c, id);
}

int vphb_kvm_set_user_memory_region_send(vphb_conn *c, const struct vphb_kvm_set_user_memory_region_req *req, uint16_t *msg_id)
{
    vphb_field f[6];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "slot", .type = VPHB_F_UINT, .v.u = req->slot };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "guest_phys_addr", .type = VPHB_F_UINT, .v.u = req->guest_phys_addr };
    f[n++] = (vphb_field){ .name = "memory_size", .type = VPHB_F_UINT, .v.u = req->memory_size };
    f[n++] = (vphb_field){ .name = "userspace_addr", .type = VPHB_F_UINT, .v.u = req->userspace_addr };
    return vphb_send(c, 515, f, n, msg_id);
}

int vphb_kvm_set_user_memory_region_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_kvm_set_user_memory_region(vphb_conn *c, const struct vphb_kvm_set_user_memory_region_req *req)
{
    uint16_t id;
    int e = vphb_kvm_set_user_memory_region_send(c, req, &id);
    return e < 0 ? e : vphb_kvm_set_user_memory_region_recv(c, id);
}

int vphb_kvm_create_spapr_tce_send(vphb_conn *c, const struct vphb_kvm_create_spapr_tce_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "liobn", .type = VPHB_F_UINT, .v.u = req->liobn };
    f[n++] = (vphb_field){ .name = "window_size", .type = VPHB_F_UINT, .v.u = req->window_size };
    return vphb_send(c, 516, f, n, msg_id);
}

int vphb_kvm_create_spapr_tce_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_create_spapr_tce_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "fd");
    rep->has_fd = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->fd = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("KVM_CREATE_SPAPR_TCE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_kvm_create_spapr_tce(vphb_conn *c, const struct vphb_kvm_create_spapr_tce_req *req, struct vphb_kvm_create_spapr_tce_rep *rep)
{
    uint16_t id;
    int e = vphb_kvm_create_spapr_tce_send(c, req, &id);
    return e < 0 ? e : vphb_kvm_create_spapr_tce_recv(c, id, rep);
}

int vphb_kvm_create_spapr_tce_64_send(vphb_conn *c, const struct vphb_kvm_create_spapr_tce_64_req *req, uint16_t *msg_id)
{
    vphb_field f[6];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "liobn", .type = VPHB_F_UINT, .v.u = req->liobn };
    f[n++] = (vphb_field){ .name = "page_shift", .type = VPHB_F_UINT, .v.u = req->page_shift };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    f[n++] = (vphb_field){ .name = "offset", .type = VPHB_F_UINT, .v.u = req->offset };
    f[n++] = (vphb_field){ .name = "size", .type = VPHB_F_UINT, .v.u = req->size };
    return vphb_send(c, 517, f, n, msg_id);
}

int vphb_kvm_create_spapr_tce_64_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_create_spapr_tce_64_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "fd");
    rep->has_fd = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->fd = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("KVM_CREATE_SPAPR_TCE_64 reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_kvm_create_spapr_tce_64(vphb_conn *c, const struct vphb_kvm_create_spapr_tce_64_req *req, struct vphb_kvm_create_spapr_tce_64_rep *rep)
{
    uint16_t id;
    int e = vphb_kvm_create_spapr_tce_64_send(c, req, &id);
    return e < 0 ? e : vphb_kvm_create_spapr_tce_64_recv(c, id, rep);
}

int vphb_kvm_create_device_send(vphb_conn *c, const struct vphb_kvm_create_device_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "type", .type = VPHB_F_UINT, .v.u = req->type };
    if (req->has_flags) f[n++] = (vphb_field){ .name = "flags", .type = VPHB_F_UINT, .v.u = req->flags };
    return vphb_send(c, 518, f, n, msg_id);
}

int vphb_kvm_create_device_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_create_device_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "fd");
    rep->has_fd = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->fd = (int32_t)t; else bad = 1; }
    if (bad) { vphb_set_message_("KVM_CREATE_DEVICE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_kvm_create_device(vphb_conn *c, const struct vphb_kvm_create_device_req *req, struct vphb_kvm_create_device_rep *rep)
{
    uint16_t id;
    int e = vphb_kvm_create_device_send(c, req, &id);
    return e < 0 ? e : vphb_kvm_create_device_recv(c, id, rep);
}

int vphb_kvm_set_device_attr_send(vphb_conn *c, const struct vphb_kvm_set_device_attr_req *req, uint16_t *msg_id)
{
    vphb_field f[5];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "group", .type = VPHB_F_UINT, .v.u = req->group };
    f[n++] = (vphb_field){ .name = "attr", .type = VPHB_F_UINT, .v.u = req->attr };
    if (req->has_groupfd) f[n++] = (vphb_field){ .name = "groupfd", .type = VPHB_F_INT, .v.i = req->groupfd };
    if (req->has_tablefd) f[n++] = (vphb_field){ .name = "tablefd", .type = VPHB_F_INT, .v.i = req->tablefd };
    return vphb_send(c, 519, f, n, msg_id);
}

int vphb_kvm_set_device_attr_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_kvm_set_device_attr(vphb_conn *c, const struct vphb_kvm_set_device_attr_req *req)
{
    uint16_t id;
    int e = vphb_kvm_set_device_attr_send(c, req, &id);
    return e < 0 ? e : vphb_kvm_set_device_attr_recv(c, id);
}

int vphb_h_put_tce_send(vphb_conn *c, const struct vphb_h_put_tce_req *req, uint16_t *msg_id)
{
    vphb_field f[4];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "liobn", .type = VPHB_F_UINT, .v.u = req->liobn };
    f[n++] = (vphb_field){ .name = "ioba", .type = VPHB_F_UINT, .v.u = req->ioba };
    f[n++] = (vphb_field){ .name = "tce", .type = VPHB_F_UINT, .v.u = req->tce };
    return vphb_send(c, 520, f, n, msg_id);
}

int vphb_h_put_tce_recv(vphb_conn *c, uint16_t msg_id, struct vphb_h_put_tce_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("H_PUT_TCE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_h_put_tce(vphb_conn *c, const struct vphb_h_put_tce_req *req, struct vphb_h_put_tce_rep *rep)
{
    uint16_t id;
    int e = vphb_h_put_tce_send(c, req, &id);
    return e < 0 ? e : vphb_h_put_tce_recv(c, id, rep);
}

int vphb_h_put_tce_indirect_send(vphb_conn *c, const struct vphb_h_put_tce_indirect_req *req, uint16_t *msg_id)
{
    vphb_field f[5];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "liobn", .type = VPHB_F_UINT, .v.u = req->liobn };
    f[n++] = (vphb_field){ .name = "ioba", .type = VPHB_F_UINT, .v.u = req->ioba };
    f[n++] = (vphb_field){ .name = "tce_list", .type = VPHB_F_UINT, .v.u = req->tce_list };
    f[n++] = (vphb_field){ .name = "tces", .type = VPHB_F_U64S, .v.u64s = { req->tces, req->tces_count } };
    return vphb_send(c, 521, f, n, msg_id);
}

int vphb_h_put_tce_indirect_recv(vphb_conn *c, uint16_t msg_id, struct vphb_h_put_tce_indirect_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("H_PUT_TCE_INDIRECT reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_h_put_tce_indirect(vphb_conn *c, const struct vphb_h_put_tce_indirect_req *req, struct vphb_h_put_tce_indirect_rep *rep)
{
    uint16_t id;
    int e = vphb_h_put_tce_indirect_send(c, req, &id);
    return e < 0 ? e : vphb_h_put_tce_indirect_recv(c, id, rep);
}

int vphb_h_stuff_tce_send(vphb_conn *c, const struct vphb_h_stuff_tce_req *req, uint16_t *msg_id)
{
    vphb_field f[5];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "liobn", .type = VPHB_F_UINT, .v.u = req->liobn };
    f[n++] = (vphb_field){ .name = "ioba", .type = VPHB_F_UINT, .v.u = req->ioba };
    f[n++] = (vphb_field){ .name = "tce_value", .type = VPHB_F_UINT, .v.u = req->tce_value };
    f[n++] = (vphb_field){ .name = "npages", .type = VPHB_F_UINT, .v.u = req->npages };
    return vphb_send(c, 522, f, n, msg_id);
}

int vphb_h_stuff_tce_recv(vphb_conn *c, uint16_t msg_id, struct vphb_h_stuff_tce_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("H_STUFF_TCE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_h_stuff_tce(vphb_conn *c, const struct vphb_h_stuff_tce_req *req, struct vphb_h_stuff_tce_rep *rep)
{
    uint16_t id;
    int e = vphb_h_stuff_tce_send(c, req, &id);
    return e < 0 ? e : vphb_h_stuff_tce_recv(c, id, rep);
}

int vphb_h_get_tce_send(vphb_conn *c, const struct vphb_h_get_tce_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "liobn", .type = VPHB_F_UINT, .v.u = req->liobn };
    f[n++] = (vphb_field){ .name = "ioba", .type = VPHB_F_UINT, .v.u = req->ioba };
    return vphb_send(c, 523, f, n, msg_id);
}

int vphb_h_get_tce_recv(vphb_conn *c, uint16_t msg_id, struct vphb_h_get_tce_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "ret");
    rep->has_ret = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) rep->ret = (int32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "tce");
    rep->has_tce = o != NULL;
    if (o != NULL) { if (vphb_obj_u64(o, &rep->tce) != 0) bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("H_GET_TCE reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    vphb_reply_free(r);
    return 0;
}

int vphb_h_get_tce(vphb_conn *c, const struct vphb_h_get_tce_req *req, struct vphb_h_get_tce_rep *rep)
{
    uint16_t id;
    int e = vphb_h_get_tce_send(c, req, &id);
    return e < 0 ? e : vphb_h_get_tce_recv(c, id, rep);
}

int vphb_tce_table_read_send(vphb_conn *c, const struct vphb_tce_table_read_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "index", .type = VPHB_F_UINT, .v.u = req->index };
    f[n++] = (vphb_field){ .name = "count", .type = VPHB_F_UINT, .v.u = req->count };
    return vphb_send(c, 524, f, n, msg_id);
}

int vphb_tce_table_read_recv(vphb_conn *c, uint16_t msg_id, struct vphb_tce_table_read_rep *rep)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "data");
    rep->has_data = o != NULL;
    if (o != NULL) { if (o->type == MSGPACK_OBJECT_STR) { rep->data = o->via.str.ptr; rep->data_len = o->via.str.size; } else if (o->type == MSGPACK_OBJECT_BIN) { rep->data = o->via.bin.ptr; rep->data_len = o->via.bin.size; } else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("TCE_TABLE_READ reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }
    rep->reply = r;
    return 0;
}

int vphb_tce_table_read(vphb_conn *c, const struct vphb_tce_table_read_req *req, struct vphb_tce_table_read_rep *rep)
{
    uint16_t id;
    int e = vphb_tce_table_read_send(c, req, &id);
    return e < 0 ? e : vphb_tce_table_read_recv(c, id, rep);
}

int vphb_tce_table_write_send(vphb_conn *c, const struct vphb_tce_table_write_req *req, uint16_t *msg_id)
{
    vphb_field f[3];
    size_t n = 0;
    f[n++] = (vphb_field){ .name = "fd", .type = VPHB_F_INT, .v.i = req->fd };
    f[n++] = (vphb_field){ .name = "index", .type = VPHB_F_UINT, .v.u = req->index };
    f[n++] = (vphb_field){ .name = "data", .type = VPHB_F_BIN, .v.bytes = { req->data, req->data_len } };
    return vphb_send(c, 525, f, n, msg_id);
}

int vphb_tce_table_write_recv(vphb_conn *c, uint16_t msg_id)
{
    vphb_reply *r;
    int e = vphb_wait(c, msg_id, &r);
    if (e < 0) return e;
    e = vphb_reply_status(r);
    if (e < 0) { vphb_reply_free(r); return e; }
    vphb_reply_free(r);
    return 0;
}

int vphb_tce_table_write(vphb_conn *c, const struct vphb_tce_table_write_req *req)
{
    uint16_t id;
    int e = vphb_tce_table_write_send(c, req, &id);
    return e < 0 ? e : vphb_tce_table_write_recv(c, id);
}

int vphb_vfio_device_irq_decode(const vphb_reply *r, struct vphb_vfio_device_irq_event *ev)
{
    if (r->command != 1024) return -EINVAL;
    const msgpack_object *o;
    int bad = 0;
    o = vphb_get(r, "fd");
    ev->has_fd = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) ev->fd = (int32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "index");
    ev->has_index = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) ev->index = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "vector");
    ev->has_vector = o != NULL;
    if (o != NULL) { uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) ev->vector = (uint32_t)t; else bad = 1; }
    else bad = 1;
    o = vphb_get(r, "token");
    ev->has_token = o != NULL;
    if (o != NULL) { int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) ev->token = (int32_t)t; else bad = 1; }
    else bad = 1;
    if (bad) { vphb_set_message_("VFIO_DEVICE_IRQ frame: a field is missing or of the wrong type", NULL, 0); return -EBADMSG; }
    return 0;
}
