/* Generated from protocol/ops.json by clients/c/gen-c.mjs: do not edit. */
#ifndef VPHB_OPS_H
#define VPHB_OPS_H

#include "vphb.h"

#define VPHB_PROTOCOL_MINOR 0

#define VPHB_OP_VERSION 1
#define VPHB_OP_PING 2
#define VPHB_OP_TOPOLOGY 3
#define VPHB_OP_CLOSE 4
#define VPHB_OP_HOST_STATE 5
#define VPHB_OP_VFIO_OPEN_CONTAINER 256
#define VPHB_OP_VFIO_GET_API_VERSION 257
#define VPHB_OP_VFIO_CHECK_EXTENSION 258
#define VPHB_OP_VFIO_SET_IOMMU 259
#define VPHB_OP_VFIO_GROUP_OPEN 260
#define VPHB_OP_VFIO_GROUP_GET_STATUS 261
#define VPHB_OP_VFIO_GROUP_SET_CONTAINER 262
#define VPHB_OP_VFIO_GROUP_UNSET_CONTAINER 263
#define VPHB_OP_VFIO_GROUP_GET_DEVICE_FD 264
#define VPHB_OP_VFIO_IOMMU_SPAPR_TCE_GET_INFO 265
#define VPHB_OP_VFIO_IOMMU_ENABLE 266
#define VPHB_OP_VFIO_IOMMU_DISABLE 267
#define VPHB_OP_VFIO_IOMMU_MAP_DMA 268
#define VPHB_OP_VFIO_IOMMU_UNMAP_DMA 269
#define VPHB_OP_VFIO_IOMMU_SPAPR_REGISTER_MEMORY 270
#define VPHB_OP_VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY 271
#define VPHB_OP_VFIO_IOMMU_SPAPR_TCE_CREATE 272
#define VPHB_OP_VFIO_IOMMU_SPAPR_TCE_REMOVE 273
#define VPHB_OP_IOMMU_TRANSLATE 274
#define VPHB_OP_VFIO_DEVICE_GET_INFO 275
#define VPHB_OP_VFIO_DEVICE_GET_REGION_INFO 276
#define VPHB_OP_VFIO_DEVICE_GET_IRQ_INFO 277
#define VPHB_OP_VFIO_DEVICE_SET_IRQS 278
#define VPHB_OP_VFIO_DEVICE_RESET 279
#define VPHB_OP_VFIO_DEVICE_REGION_READ 280
#define VPHB_OP_VFIO_DEVICE_REGION_WRITE 281
#define VPHB_OP_VFIO_EEH_PE_OP 282
#define VPHB_OP_DEVICE_RAISE_IRQ 283
#define VPHB_OP_VFIO_IOMMU_GET_INFO 300
#define VPHB_OP_VFIO_IOMMU_DIRTY_PAGES 301
#define VPHB_OP_KVM_CREATE_VM 512
#define VPHB_OP_KVM_CHECK_EXTENSION 513
#define VPHB_OP_KVM_ENABLE_CAP 514
#define VPHB_OP_KVM_SET_USER_MEMORY_REGION 515
#define VPHB_OP_KVM_CREATE_SPAPR_TCE 516
#define VPHB_OP_KVM_CREATE_SPAPR_TCE_64 517
#define VPHB_OP_KVM_CREATE_DEVICE 518
#define VPHB_OP_KVM_SET_DEVICE_ATTR 519
#define VPHB_OP_H_PUT_TCE 520
#define VPHB_OP_H_PUT_TCE_INDIRECT 521
#define VPHB_OP_H_STUFF_TCE 522
#define VPHB_OP_H_GET_TCE 523
#define VPHB_OP_TCE_TABLE_READ 524
#define VPHB_OP_TCE_TABLE_WRITE 525
#define VPHB_OP_TCE_PUT_BATCH 526
#define VPHB_OP_VFIO_DEVICE_IRQ 1024

/** Name of an op code of ops.json, or NULL. */
const char *vphb_op_name(uint16_t code);

/* Each op: struct <op>_req (optional fields have has_<name>), struct <op>_rep (a reply with
 * strings, bytes or nested values keeps them in .reply, to be freed with vphb_reply_free),
 * <op>() = <op>_send() + <op>_recv(). Raw ops (TCE_PUT_BATCH) have hand-written calls in vphb.h. */

/* VERSION (1) */
struct vphb_version_req {
    uint16_t major;
    uint16_t minor;
    const char *client;
    bool has_token;
    const char *token;
};
struct vphb_version_rep {
    bool has_major;
    uint16_t major;
    bool has_minor;
    uint16_t minor;
    bool has_server;
    const void *server;
    size_t server_len;
    bool has_capabilities;
    const msgpack_object *capabilities;
    vphb_reply *reply;
};
int vphb_version_send(vphb_conn *c, const struct vphb_version_req *req, uint16_t *msg_id);
int vphb_version_recv(vphb_conn *c, uint16_t msg_id, struct vphb_version_rep *rep);
int vphb_version(vphb_conn *c, const struct vphb_version_req *req, struct vphb_version_rep *rep);

/* PING (2) */
struct vphb_ping_req {
    bool has_data;
    const void *data;
    size_t data_len;
};
struct vphb_ping_rep {
    bool has_data;
    const void *data;
    size_t data_len;
    vphb_reply *reply;
};
int vphb_ping_send(vphb_conn *c, const struct vphb_ping_req *req, uint16_t *msg_id);
int vphb_ping_recv(vphb_conn *c, uint16_t msg_id, struct vphb_ping_rep *rep);
int vphb_ping(vphb_conn *c, const struct vphb_ping_req *req, struct vphb_ping_rep *rep);

/* TOPOLOGY (3) */
struct vphb_topology_rep {
    bool has_host_page_shift;
    uint32_t host_page_shift;
    bool has_phbs;
    const msgpack_object *phbs;
    vphb_reply *reply;
};
int vphb_topology_send(vphb_conn *c, uint16_t *msg_id);
int vphb_topology_recv(vphb_conn *c, uint16_t msg_id, struct vphb_topology_rep *rep);
int vphb_topology(vphb_conn *c, struct vphb_topology_rep *rep);

/* CLOSE (4) */
struct vphb_close_req {
    int32_t fd;
};
int vphb_close_send(vphb_conn *c, const struct vphb_close_req *req, uint16_t *msg_id);
int vphb_close_recv(vphb_conn *c, uint16_t msg_id);
int vphb_close(vphb_conn *c, const struct vphb_close_req *req);

/* HOST_STATE (5) */
struct vphb_host_state_rep {
    bool has_phbs;
    const msgpack_object *phbs;
    bool has_containers;
    const msgpack_object *containers;
    bool has_vms;
    const msgpack_object *vms;
    bool has_connections;
    const msgpack_object *connections;
    vphb_reply *reply;
};
int vphb_host_state_send(vphb_conn *c, uint16_t *msg_id);
int vphb_host_state_recv(vphb_conn *c, uint16_t msg_id, struct vphb_host_state_rep *rep);
int vphb_host_state(vphb_conn *c, struct vphb_host_state_rep *rep);

/* VFIO_OPEN_CONTAINER (256) */
struct vphb_vfio_open_container_rep {
    bool has_fd;
    int32_t fd;
};
int vphb_vfio_open_container_send(vphb_conn *c, uint16_t *msg_id);
int vphb_vfio_open_container_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_open_container_rep *rep);
int vphb_vfio_open_container(vphb_conn *c, struct vphb_vfio_open_container_rep *rep);

/* VFIO_GET_API_VERSION (257) */
struct vphb_vfio_get_api_version_req {
    int32_t fd;
};
struct vphb_vfio_get_api_version_rep {
    bool has_ret;
    int32_t ret;
};
int vphb_vfio_get_api_version_send(vphb_conn *c, const struct vphb_vfio_get_api_version_req *req, uint16_t *msg_id);
int vphb_vfio_get_api_version_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_get_api_version_rep *rep);
int vphb_vfio_get_api_version(vphb_conn *c, const struct vphb_vfio_get_api_version_req *req, struct vphb_vfio_get_api_version_rep *rep);

/* VFIO_CHECK_EXTENSION (258) */
struct vphb_vfio_check_extension_req {
    int32_t fd;
    uint32_t extension;
};
struct vphb_vfio_check_extension_rep {
    bool has_ret;
    int32_t ret;
};
int vphb_vfio_check_extension_send(vphb_conn *c, const struct vphb_vfio_check_extension_req *req, uint16_t *msg_id);
int vphb_vfio_check_extension_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_check_extension_rep *rep);
int vphb_vfio_check_extension(vphb_conn *c, const struct vphb_vfio_check_extension_req *req, struct vphb_vfio_check_extension_rep *rep);

/* VFIO_SET_IOMMU (259) */
struct vphb_vfio_set_iommu_req {
    int32_t fd;
    uint32_t type;
};
int vphb_vfio_set_iommu_send(vphb_conn *c, const struct vphb_vfio_set_iommu_req *req, uint16_t *msg_id);
int vphb_vfio_set_iommu_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_set_iommu(vphb_conn *c, const struct vphb_vfio_set_iommu_req *req);

/* VFIO_GROUP_OPEN (260) */
struct vphb_vfio_group_open_req {
    uint32_t group;
};
struct vphb_vfio_group_open_rep {
    bool has_fd;
    int32_t fd;
};
int vphb_vfio_group_open_send(vphb_conn *c, const struct vphb_vfio_group_open_req *req, uint16_t *msg_id);
int vphb_vfio_group_open_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_group_open_rep *rep);
int vphb_vfio_group_open(vphb_conn *c, const struct vphb_vfio_group_open_req *req, struct vphb_vfio_group_open_rep *rep);

/* VFIO_GROUP_GET_STATUS (261) */
struct vphb_vfio_group_get_status_req {
    int32_t fd;
};
struct vphb_vfio_group_get_status_rep {
    bool has_flags;
    uint32_t flags;
};
int vphb_vfio_group_get_status_send(vphb_conn *c, const struct vphb_vfio_group_get_status_req *req, uint16_t *msg_id);
int vphb_vfio_group_get_status_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_group_get_status_rep *rep);
int vphb_vfio_group_get_status(vphb_conn *c, const struct vphb_vfio_group_get_status_req *req, struct vphb_vfio_group_get_status_rep *rep);

/* VFIO_GROUP_SET_CONTAINER (262) */
struct vphb_vfio_group_set_container_req {
    int32_t fd;
    int32_t container;
};
int vphb_vfio_group_set_container_send(vphb_conn *c, const struct vphb_vfio_group_set_container_req *req, uint16_t *msg_id);
int vphb_vfio_group_set_container_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_group_set_container(vphb_conn *c, const struct vphb_vfio_group_set_container_req *req);

/* VFIO_GROUP_UNSET_CONTAINER (263) */
struct vphb_vfio_group_unset_container_req {
    int32_t fd;
};
int vphb_vfio_group_unset_container_send(vphb_conn *c, const struct vphb_vfio_group_unset_container_req *req, uint16_t *msg_id);
int vphb_vfio_group_unset_container_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_group_unset_container(vphb_conn *c, const struct vphb_vfio_group_unset_container_req *req);

/* VFIO_GROUP_GET_DEVICE_FD (264) */
struct vphb_vfio_group_get_device_fd_req {
    int32_t fd;
    const char *name;
};
struct vphb_vfio_group_get_device_fd_rep {
    bool has_fd;
    int32_t fd;
};
int vphb_vfio_group_get_device_fd_send(vphb_conn *c, const struct vphb_vfio_group_get_device_fd_req *req, uint16_t *msg_id);
int vphb_vfio_group_get_device_fd_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_group_get_device_fd_rep *rep);
int vphb_vfio_group_get_device_fd(vphb_conn *c, const struct vphb_vfio_group_get_device_fd_req *req, struct vphb_vfio_group_get_device_fd_rep *rep);

/* VFIO_IOMMU_SPAPR_TCE_GET_INFO (265) */
struct vphb_vfio_iommu_spapr_tce_get_info_req {
    int32_t fd;
};
struct vphb_vfio_iommu_spapr_tce_get_info_rep {
    bool has_flags;
    uint32_t flags;
    bool has_dma32_window_start;
    uint32_t dma32_window_start;
    bool has_dma32_window_size;
    uint32_t dma32_window_size;
    bool has_ddw;
    const msgpack_object *ddw;
    vphb_reply *reply;
};
int vphb_vfio_iommu_spapr_tce_get_info_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_get_info_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_spapr_tce_get_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_spapr_tce_get_info_rep *rep);
int vphb_vfio_iommu_spapr_tce_get_info(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_get_info_req *req, struct vphb_vfio_iommu_spapr_tce_get_info_rep *rep);

/* VFIO_IOMMU_ENABLE (266) */
struct vphb_vfio_iommu_enable_req {
    int32_t fd;
};
int vphb_vfio_iommu_enable_send(vphb_conn *c, const struct vphb_vfio_iommu_enable_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_enable_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_iommu_enable(vphb_conn *c, const struct vphb_vfio_iommu_enable_req *req);

/* VFIO_IOMMU_DISABLE (267) */
struct vphb_vfio_iommu_disable_req {
    int32_t fd;
};
int vphb_vfio_iommu_disable_send(vphb_conn *c, const struct vphb_vfio_iommu_disable_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_disable_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_iommu_disable(vphb_conn *c, const struct vphb_vfio_iommu_disable_req *req);

/* VFIO_IOMMU_MAP_DMA (268) */
struct vphb_vfio_iommu_map_dma_req {
    int32_t fd;
    bool has_flags;
    uint32_t flags;
    uint64_t vaddr;
    uint64_t iova;
    uint64_t size;
};
struct vphb_vfio_iommu_map_dma_rep {
    bool has_ret;
    uint32_t ret;
};
int vphb_vfio_iommu_map_dma_send(vphb_conn *c, const struct vphb_vfio_iommu_map_dma_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_map_dma_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_map_dma_rep *rep);
int vphb_vfio_iommu_map_dma(vphb_conn *c, const struct vphb_vfio_iommu_map_dma_req *req, struct vphb_vfio_iommu_map_dma_rep *rep);

/* VFIO_IOMMU_UNMAP_DMA (269) */
struct vphb_vfio_iommu_unmap_dma_req {
    int32_t fd;
    bool has_flags;
    uint32_t flags;
    uint64_t iova;
    uint64_t size;
    bool has_bitmap_pgsize;
    uint64_t bitmap_pgsize;
    bool has_bitmap_size;
    uint64_t bitmap_size;
};
struct vphb_vfio_iommu_unmap_dma_rep {
    bool has_ret;
    uint32_t ret;
    bool has_size;
    uint64_t size;
    bool has_bitmap;
    const void *bitmap;
    size_t bitmap_len;
    vphb_reply *reply;
};
int vphb_vfio_iommu_unmap_dma_send(vphb_conn *c, const struct vphb_vfio_iommu_unmap_dma_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_unmap_dma_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_unmap_dma_rep *rep);
int vphb_vfio_iommu_unmap_dma(vphb_conn *c, const struct vphb_vfio_iommu_unmap_dma_req *req, struct vphb_vfio_iommu_unmap_dma_rep *rep);

/* VFIO_IOMMU_SPAPR_REGISTER_MEMORY (270) */
struct vphb_vfio_iommu_spapr_register_memory_req {
    int32_t fd;
    bool has_flags;
    uint32_t flags;
    uint64_t vaddr;
    uint64_t size;
    bool has_page_shift;
    uint32_t page_shift;
};
int vphb_vfio_iommu_spapr_register_memory_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_register_memory_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_spapr_register_memory_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_iommu_spapr_register_memory(vphb_conn *c, const struct vphb_vfio_iommu_spapr_register_memory_req *req);

/* VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY (271) */
struct vphb_vfio_iommu_spapr_unregister_memory_req {
    int32_t fd;
    bool has_flags;
    uint32_t flags;
    uint64_t vaddr;
    uint64_t size;
};
int vphb_vfio_iommu_spapr_unregister_memory_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_unregister_memory_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_spapr_unregister_memory_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_iommu_spapr_unregister_memory(vphb_conn *c, const struct vphb_vfio_iommu_spapr_unregister_memory_req *req);

/* VFIO_IOMMU_SPAPR_TCE_CREATE (272) */
struct vphb_vfio_iommu_spapr_tce_create_req {
    int32_t fd;
    bool has_flags;
    uint32_t flags;
    uint32_t page_shift;
    uint64_t window_size;
    uint32_t levels;
};
struct vphb_vfio_iommu_spapr_tce_create_rep {
    bool has_start_addr;
    uint64_t start_addr;
};
int vphb_vfio_iommu_spapr_tce_create_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_create_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_spapr_tce_create_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_spapr_tce_create_rep *rep);
int vphb_vfio_iommu_spapr_tce_create(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_create_req *req, struct vphb_vfio_iommu_spapr_tce_create_rep *rep);

/* VFIO_IOMMU_SPAPR_TCE_REMOVE (273) */
struct vphb_vfio_iommu_spapr_tce_remove_req {
    int32_t fd;
    bool has_flags;
    uint32_t flags;
    uint64_t start_addr;
};
int vphb_vfio_iommu_spapr_tce_remove_send(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_remove_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_spapr_tce_remove_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_iommu_spapr_tce_remove(vphb_conn *c, const struct vphb_vfio_iommu_spapr_tce_remove_req *req);

/* IOMMU_TRANSLATE (274) */
struct vphb_iommu_translate_req {
    int32_t fd;
    uint64_t iova;
    const char *access;
};
struct vphb_iommu_translate_rep {
    bool has_addr;
    uint64_t addr;
    bool has_page_size;
    uint64_t page_size;
};
int vphb_iommu_translate_send(vphb_conn *c, const struct vphb_iommu_translate_req *req, uint16_t *msg_id);
int vphb_iommu_translate_recv(vphb_conn *c, uint16_t msg_id, struct vphb_iommu_translate_rep *rep);
int vphb_iommu_translate(vphb_conn *c, const struct vphb_iommu_translate_req *req, struct vphb_iommu_translate_rep *rep);

/* VFIO_DEVICE_GET_INFO (275) */
struct vphb_vfio_device_get_info_req {
    int32_t fd;
};
struct vphb_vfio_device_get_info_rep {
    bool has_flags;
    uint32_t flags;
    bool has_num_regions;
    uint32_t num_regions;
    bool has_num_irqs;
    uint32_t num_irqs;
};
int vphb_vfio_device_get_info_send(vphb_conn *c, const struct vphb_vfio_device_get_info_req *req, uint16_t *msg_id);
int vphb_vfio_device_get_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_get_info_rep *rep);
int vphb_vfio_device_get_info(vphb_conn *c, const struct vphb_vfio_device_get_info_req *req, struct vphb_vfio_device_get_info_rep *rep);

/* VFIO_DEVICE_GET_REGION_INFO (276) */
struct vphb_vfio_device_get_region_info_req {
    int32_t fd;
    uint32_t index;
};
struct vphb_vfio_device_get_region_info_rep {
    bool has_index;
    uint32_t index;
    bool has_flags;
    uint32_t flags;
    bool has_size;
    uint64_t size;
    bool has_offset;
    uint64_t offset;
};
int vphb_vfio_device_get_region_info_send(vphb_conn *c, const struct vphb_vfio_device_get_region_info_req *req, uint16_t *msg_id);
int vphb_vfio_device_get_region_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_get_region_info_rep *rep);
int vphb_vfio_device_get_region_info(vphb_conn *c, const struct vphb_vfio_device_get_region_info_req *req, struct vphb_vfio_device_get_region_info_rep *rep);

/* VFIO_DEVICE_GET_IRQ_INFO (277) */
struct vphb_vfio_device_get_irq_info_req {
    int32_t fd;
    uint32_t index;
};
struct vphb_vfio_device_get_irq_info_rep {
    bool has_index;
    uint32_t index;
    bool has_flags;
    uint32_t flags;
    bool has_count;
    uint32_t count;
};
int vphb_vfio_device_get_irq_info_send(vphb_conn *c, const struct vphb_vfio_device_get_irq_info_req *req, uint16_t *msg_id);
int vphb_vfio_device_get_irq_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_get_irq_info_rep *rep);
int vphb_vfio_device_get_irq_info(vphb_conn *c, const struct vphb_vfio_device_get_irq_info_req *req, struct vphb_vfio_device_get_irq_info_rep *rep);

/* VFIO_DEVICE_SET_IRQS (278) */
struct vphb_vfio_device_set_irqs_req {
    int32_t fd;
    uint32_t flags;
    uint32_t index;
    uint32_t start;
    uint32_t count;
    bool has_data;
    const int32_t *data;
    size_t data_count;
};
int vphb_vfio_device_set_irqs_send(vphb_conn *c, const struct vphb_vfio_device_set_irqs_req *req, uint16_t *msg_id);
int vphb_vfio_device_set_irqs_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_device_set_irqs(vphb_conn *c, const struct vphb_vfio_device_set_irqs_req *req);

/* VFIO_DEVICE_RESET (279) */
struct vphb_vfio_device_reset_req {
    int32_t fd;
};
int vphb_vfio_device_reset_send(vphb_conn *c, const struct vphb_vfio_device_reset_req *req, uint16_t *msg_id);
int vphb_vfio_device_reset_recv(vphb_conn *c, uint16_t msg_id);
int vphb_vfio_device_reset(vphb_conn *c, const struct vphb_vfio_device_reset_req *req);

/* VFIO_DEVICE_REGION_READ (280) */
struct vphb_vfio_device_region_read_req {
    int32_t fd;
    uint64_t offset;
    uint32_t count;
};
struct vphb_vfio_device_region_read_rep {
    bool has_data;
    const void *data;
    size_t data_len;
    vphb_reply *reply;
};
int vphb_vfio_device_region_read_send(vphb_conn *c, const struct vphb_vfio_device_region_read_req *req, uint16_t *msg_id);
int vphb_vfio_device_region_read_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_region_read_rep *rep);
int vphb_vfio_device_region_read(vphb_conn *c, const struct vphb_vfio_device_region_read_req *req, struct vphb_vfio_device_region_read_rep *rep);

/* VFIO_DEVICE_REGION_WRITE (281) */
struct vphb_vfio_device_region_write_req {
    int32_t fd;
    uint64_t offset;
    const void *data;
    size_t data_len;
};
struct vphb_vfio_device_region_write_rep {
    bool has_count;
    uint32_t count;
};
int vphb_vfio_device_region_write_send(vphb_conn *c, const struct vphb_vfio_device_region_write_req *req, uint16_t *msg_id);
int vphb_vfio_device_region_write_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_device_region_write_rep *rep);
int vphb_vfio_device_region_write(vphb_conn *c, const struct vphb_vfio_device_region_write_req *req, struct vphb_vfio_device_region_write_rep *rep);

/* VFIO_EEH_PE_OP (282) */
struct vphb_vfio_eeh_pe_op_req {
    int32_t fd;
    bool has_flags;
    uint32_t flags;
    uint32_t op;
    bool has_type;
    uint32_t type;
    bool has_func;
    uint32_t func;
    bool has_addr;
    uint64_t addr;
    bool has_mask;
    uint64_t mask;
};
struct vphb_vfio_eeh_pe_op_rep {
    bool has_ret;
    int32_t ret;
};
int vphb_vfio_eeh_pe_op_send(vphb_conn *c, const struct vphb_vfio_eeh_pe_op_req *req, uint16_t *msg_id);
int vphb_vfio_eeh_pe_op_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_eeh_pe_op_rep *rep);
int vphb_vfio_eeh_pe_op(vphb_conn *c, const struct vphb_vfio_eeh_pe_op_req *req, struct vphb_vfio_eeh_pe_op_rep *rep);

/* DEVICE_RAISE_IRQ (283) */
struct vphb_device_raise_irq_req {
    int32_t fd;
    uint32_t index;
    bool has_vector;
    uint32_t vector;
};
struct vphb_device_raise_irq_rep {
    bool has_ret;
    int32_t ret;
};
int vphb_device_raise_irq_send(vphb_conn *c, const struct vphb_device_raise_irq_req *req, uint16_t *msg_id);
int vphb_device_raise_irq_recv(vphb_conn *c, uint16_t msg_id, struct vphb_device_raise_irq_rep *rep);
int vphb_device_raise_irq(vphb_conn *c, const struct vphb_device_raise_irq_req *req, struct vphb_device_raise_irq_rep *rep);

/* VFIO_IOMMU_GET_INFO (300) */
struct vphb_vfio_iommu_get_info_req {
    int32_t fd;
};
struct vphb_vfio_iommu_get_info_rep {
    bool has_flags;
    uint32_t flags;
    bool has_iova_pgsizes;
    uint64_t iova_pgsizes;
    bool has_iova_ranges;
    const msgpack_object *iova_ranges;
    bool has_migration;
    const msgpack_object *migration;
    bool has_dma_avail;
    uint32_t dma_avail;
    vphb_reply *reply;
};
int vphb_vfio_iommu_get_info_send(vphb_conn *c, const struct vphb_vfio_iommu_get_info_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_get_info_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_get_info_rep *rep);
int vphb_vfio_iommu_get_info(vphb_conn *c, const struct vphb_vfio_iommu_get_info_req *req, struct vphb_vfio_iommu_get_info_rep *rep);

/* VFIO_IOMMU_DIRTY_PAGES (301) */
struct vphb_vfio_iommu_dirty_pages_req {
    int32_t fd;
    uint32_t flags;
    bool has_iova;
    uint64_t iova;
    bool has_size;
    uint64_t size;
    bool has_bitmap_pgsize;
    uint64_t bitmap_pgsize;
    bool has_bitmap_size;
    uint64_t bitmap_size;
};
struct vphb_vfio_iommu_dirty_pages_rep {
    bool has_bitmap;
    const void *bitmap;
    size_t bitmap_len;
    vphb_reply *reply;
};
int vphb_vfio_iommu_dirty_pages_send(vphb_conn *c, const struct vphb_vfio_iommu_dirty_pages_req *req, uint16_t *msg_id);
int vphb_vfio_iommu_dirty_pages_recv(vphb_conn *c, uint16_t msg_id, struct vphb_vfio_iommu_dirty_pages_rep *rep);
int vphb_vfio_iommu_dirty_pages(vphb_conn *c, const struct vphb_vfio_iommu_dirty_pages_req *req, struct vphb_vfio_iommu_dirty_pages_rep *rep);

/* KVM_CREATE_VM (512) */
struct vphb_kvm_create_vm_req {
    bool has_type;
    uint32_t type;
};
struct vphb_kvm_create_vm_rep {
    bool has_fd;
    int32_t fd;
};
int vphb_kvm_create_vm_send(vphb_conn *c, const struct vphb_kvm_create_vm_req *req, uint16_t *msg_id);
int vphb_kvm_create_vm_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_create_vm_rep *rep);
int vphb_kvm_create_vm(vphb_conn *c, const struct vphb_kvm_create_vm_req *req, struct vphb_kvm_create_vm_rep *rep);

/* KVM_CHECK_EXTENSION (513) */
struct vphb_kvm_check_extension_req {
    bool has_fd;
    int32_t fd;
    uint32_t extension;
};
struct vphb_kvm_check_extension_rep {
    bool has_ret;
    int32_t ret;
};
int vphb_kvm_check_extension_send(vphb_conn *c, const struct vphb_kvm_check_extension_req *req, uint16_t *msg_id);
int vphb_kvm_check_extension_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_check_extension_rep *rep);
int vphb_kvm_check_extension(vphb_conn *c, const struct vphb_kvm_check_extension_req *req, struct vphb_kvm_check_extension_rep *rep);

/* KVM_ENABLE_CAP (514) */
struct vphb_kvm_enable_cap_req {
    int32_t fd;
    uint32_t cap;
    bool has_flags;
    uint32_t flags;
    bool has_args;
    const uint64_t *args;
    size_t args_count;
};
int vphb_kvm_enable_cap_send(vphb_conn *c, const struct vphb_kvm_enable_cap_req *req, uint16_t *msg_id);
int vphb_kvm_enable_cap_recv(vphb_conn *c, uint16_t msg_id);
int vphb_kvm_enable_cap(vphb_conn *c, const struct vphb_kvm_enable_cap_req *req);

/* KVM_SET_USER_MEMORY_REGION (515) */
struct vphb_kvm_set_user_memory_region_req {
    int32_t fd;
    uint32_t slot;
    bool has_flags;
    uint32_t flags;
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
};
int vphb_kvm_set_user_memory_region_send(vphb_conn *c, const struct vphb_kvm_set_user_memory_region_req *req, uint16_t *msg_id);
int vphb_kvm_set_user_memory_region_recv(vphb_conn *c, uint16_t msg_id);
int vphb_kvm_set_user_memory_region(vphb_conn *c, const struct vphb_kvm_set_user_memory_region_req *req);

/* KVM_CREATE_SPAPR_TCE (516) */
struct vphb_kvm_create_spapr_tce_req {
    int32_t fd;
    uint64_t liobn;
    uint32_t window_size;
};
struct vphb_kvm_create_spapr_tce_rep {
    bool has_fd;
    int32_t fd;
};
int vphb_kvm_create_spapr_tce_send(vphb_conn *c, const struct vphb_kvm_create_spapr_tce_req *req, uint16_t *msg_id);
int vphb_kvm_create_spapr_tce_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_create_spapr_tce_rep *rep);
int vphb_kvm_create_spapr_tce(vphb_conn *c, const struct vphb_kvm_create_spapr_tce_req *req, struct vphb_kvm_create_spapr_tce_rep *rep);

/* KVM_CREATE_SPAPR_TCE_64 (517) */
struct vphb_kvm_create_spapr_tce_64_req {
    int32_t fd;
    uint64_t liobn;
    uint32_t page_shift;
    bool has_flags;
    uint32_t flags;
    uint64_t offset;
    uint64_t size;
};
struct vphb_kvm_create_spapr_tce_64_rep {
    bool has_fd;
    int32_t fd;
};
int vphb_kvm_create_spapr_tce_64_send(vphb_conn *c, const struct vphb_kvm_create_spapr_tce_64_req *req, uint16_t *msg_id);
int vphb_kvm_create_spapr_tce_64_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_create_spapr_tce_64_rep *rep);
int vphb_kvm_create_spapr_tce_64(vphb_conn *c, const struct vphb_kvm_create_spapr_tce_64_req *req, struct vphb_kvm_create_spapr_tce_64_rep *rep);

/* KVM_CREATE_DEVICE (518) */
struct vphb_kvm_create_device_req {
    int32_t fd;
    uint32_t type;
    bool has_flags;
    uint32_t flags;
};
struct vphb_kvm_create_device_rep {
    bool has_fd;
    int32_t fd;
};
int vphb_kvm_create_device_send(vphb_conn *c, const struct vphb_kvm_create_device_req *req, uint16_t *msg_id);
int vphb_kvm_create_device_recv(vphb_conn *c, uint16_t msg_id, struct vphb_kvm_create_device_rep *rep);
int vphb_kvm_create_device(vphb_conn *c, const struct vphb_kvm_create_device_req *req, struct vphb_kvm_create_device_rep *rep);

/* KVM_SET_DEVICE_ATTR (519) */
struct vphb_kvm_set_device_attr_req {
    int32_t fd;
    uint32_t group;
    uint64_t attr;
    bool has_groupfd;
    int32_t groupfd;
    bool has_tablefd;
    int32_t tablefd;
};
int vphb_kvm_set_device_attr_send(vphb_conn *c, const struct vphb_kvm_set_device_attr_req *req, uint16_t *msg_id);
int vphb_kvm_set_device_attr_recv(vphb_conn *c, uint16_t msg_id);
int vphb_kvm_set_device_attr(vphb_conn *c, const struct vphb_kvm_set_device_attr_req *req);

/* H_PUT_TCE (520) */
struct vphb_h_put_tce_req {
    int32_t fd;
    uint64_t liobn;
    uint64_t ioba;
    uint64_t tce;
};
struct vphb_h_put_tce_rep {
    bool has_ret;
    int32_t ret;
};
int vphb_h_put_tce_send(vphb_conn *c, const struct vphb_h_put_tce_req *req, uint16_t *msg_id);
int vphb_h_put_tce_recv(vphb_conn *c, uint16_t msg_id, struct vphb_h_put_tce_rep *rep);
int vphb_h_put_tce(vphb_conn *c, const struct vphb_h_put_tce_req *req, struct vphb_h_put_tce_rep *rep);

/* H_PUT_TCE_INDIRECT (521) */
struct vphb_h_put_tce_indirect_req {
    int32_t fd;
    uint64_t liobn;
    uint64_t ioba;
    uint64_t tce_list;
    const uint64_t *tces;
    size_t tces_count;
};
struct vphb_h_put_tce_indirect_rep {
    bool has_ret;
    int32_t ret;
};
int vphb_h_put_tce_indirect_send(vphb_conn *c, const struct vphb_h_put_tce_indirect_req *req, uint16_t *msg_id);
int vphb_h_put_tce_indirect_recv(vphb_conn *c, uint16_t msg_id, struct vphb_h_put_tce_indirect_rep *rep);
int vphb_h_put_tce_indirect(vphb_conn *c, const struct vphb_h_put_tce_indirect_req *req, struct vphb_h_put_tce_indirect_rep *rep);

/* H_STUFF_TCE (522) */
struct vphb_h_stuff_tce_req {
    int32_t fd;
    uint64_t liobn;
    uint64_t ioba;
    uint64_t tce_value;
    uint64_t npages;
};
struct vphb_h_stuff_tce_rep {
    bool has_ret;
    int32_t ret;
};
int vphb_h_stuff_tce_send(vphb_conn *c, const struct vphb_h_stuff_tce_req *req, uint16_t *msg_id);
int vphb_h_stuff_tce_recv(vphb_conn *c, uint16_t msg_id, struct vphb_h_stuff_tce_rep *rep);
int vphb_h_stuff_tce(vphb_conn *c, const struct vphb_h_stuff_tce_req *req, struct vphb_h_stuff_tce_rep *rep);

/* H_GET_TCE (523) */
struct vphb_h_get_tce_req {
    int32_t fd;
    uint64_t liobn;
    uint64_t ioba;
};
struct vphb_h_get_tce_rep {
    bool has_ret;
    int32_t ret;
    bool has_tce;
    uint64_t tce;
};
int vphb_h_get_tce_send(vphb_conn *c, const struct vphb_h_get_tce_req *req, uint16_t *msg_id);
int vphb_h_get_tce_recv(vphb_conn *c, uint16_t msg_id, struct vphb_h_get_tce_rep *rep);
int vphb_h_get_tce(vphb_conn *c, const struct vphb_h_get_tce_req *req, struct vphb_h_get_tce_rep *rep);

/* TCE_TABLE_READ (524) */
struct vphb_tce_table_read_req {
    int32_t fd;
    uint64_t index;
    uint32_t count;
};
struct vphb_tce_table_read_rep {
    bool has_data;
    const void *data;
    size_t data_len;
    vphb_reply *reply;
};
int vphb_tce_table_read_send(vphb_conn *c, const struct vphb_tce_table_read_req *req, uint16_t *msg_id);
int vphb_tce_table_read_recv(vphb_conn *c, uint16_t msg_id, struct vphb_tce_table_read_rep *rep);
int vphb_tce_table_read(vphb_conn *c, const struct vphb_tce_table_read_req *req, struct vphb_tce_table_read_rep *rep);

/* TCE_TABLE_WRITE (525) */
struct vphb_tce_table_write_req {
    int32_t fd;
    uint64_t index;
    const void *data;
    size_t data_len;
};
int vphb_tce_table_write_send(vphb_conn *c, const struct vphb_tce_table_write_req *req, uint16_t *msg_id);
int vphb_tce_table_write_recv(vphb_conn *c, uint16_t msg_id);
int vphb_tce_table_write(vphb_conn *c, const struct vphb_tce_table_write_req *req);

/* VFIO_DEVICE_IRQ (1024): sent by the server; decode it in the vphb_on_event callback. */
struct vphb_vfio_device_irq_event {
    bool has_fd;
    int32_t fd;
    bool has_index;
    uint32_t index;
    bool has_vector;
    uint32_t vector;
    bool has_token;
    int32_t token;
};
int vphb_vfio_device_irq_decode(const vphb_reply *frame, struct vphb_vfio_device_irq_event *ev);

#endif
