/* libvphb against a live vphb server: test_live UNIX_SOCKET TCP_HOST:PORT TOKEN */
#include "vphb.h"
#include "check.h"
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define GiB (1ull << 30)
#define MiB (1ull << 20)

static void test_handshake(vphb_conn *c)
{
    CHECK(strcmp(vphb_server_name(c), "") != 0);
    CHECK_EQ(vphb_host_page_size(c), 65536);
    CHECK(vphb_max_frame_size(c) >= 1u << 20);
    CHECK(vphb_max_inflight(c) > 0);
    CHECK_EQ(vphb_server_op_code(c, "VFIO_IOMMU_MAP_DMA"), VPHB_OP_VFIO_IOMMU_MAP_DMA);
    CHECK_EQ(vphb_server_op_code(c, "NO_SUCH_OP"), -ENOENT);
    CHECK(strcmp(vphb_op_name(VPHB_OP_TCE_PUT_BATCH), "TCE_PUT_BATCH") == 0);
}

/* 200 PINGs on the wire before any reply is read, collected in reverse order. */
static void test_pipelined_ping(vphb_conn *c)
{
    enum { N = 200 };
    uint16_t ids[N];
    uint8_t data[N][4];
    for (int i = 0; i < N; i++) {
        memcpy(data[i], &i, 4);
        struct vphb_ping_req req = { .has_data = true, .data = data[i], .data_len = 4 };
        CHECK_EQ(vphb_ping_send(c, &req, &ids[i]), 0);
    }
    for (int i = 0; i < N; i++) for (int j = i + 1; j < N; j++) if (ids[i] == ids[j]) { CHECK(!"duplicate msg_id"); i = j = N; }
    for (int i = N - 1; i >= 0; i--) {
        struct vphb_ping_rep rep;
        memset(&rep, 0, sizeof rep);
        CHECK_EQ(vphb_ping_recv(c, ids[i], &rep), 0);
        CHECK(rep.has_data && rep.data_len == 4 && memcmp(rep.data, data[i], 4) == 0);
        vphb_reply_free(rep.reply);
    }
}

static void test_errors(vphb_conn *c)
{
    struct vphb_vfio_group_open_req g = { .group = 999 };
    struct vphb_vfio_group_open_rep gr;
    CHECK_EQ(vphb_vfio_group_open(c, &g, &gr), -ENOENT);
    CHECK(strstr(vphb_last_message(), "999") != NULL);
    struct vphb_close_req cl = { .fd = 77 };
    CHECK_EQ(vphb_close(c, &cl), -EBADF);
    /* generic API: an unknown field is EINVAL naming it */
    vphb_field f[] = { VPHB_UINT("group", 1), VPHB_UINT("bogus_field", 3) };
    CHECK_EQ(vphb_call(c, VPHB_OP_VFIO_GROUP_OPEN, f, 2, NULL), -EINVAL);
    CHECK(strstr(vphb_last_message(), "bogus_field") != NULL);
    /* an unknown op code */
    CHECK_EQ(vphb_call(c, 4000, NULL, 0, NULL), -ENOTTY);
    /* the connection still serves */
    struct vphb_ping_rep pr;
    memset(&pr, 0, sizeof pr);
    CHECK_EQ(vphb_ping(c, &(struct vphb_ping_req){ 0 }, &pr), 0);
    vphb_reply_free(pr.reply);
}

/* QEMU's sPAPR v2 sequence through the typed wrappers: windows at 0 and 2^59, 16 MiB maps. */
static void test_vfio_v2(vphb_conn *c)
{
    struct vphb_vfio_open_container_rep cont;
    CHECK_EQ(vphb_vfio_open_container(c, &cont), 0);
    struct vphb_vfio_check_extension_rep ext;
    CHECK_EQ(vphb_vfio_check_extension(c, &(struct vphb_vfio_check_extension_req){ .fd = cont.fd, .extension = 7 }, &ext), 0);
    CHECK_EQ(ext.ret, 1);
    struct vphb_vfio_group_open_rep grp;
    CHECK_EQ(vphb_vfio_group_open(c, &(struct vphb_vfio_group_open_req){ .group = 1 }, &grp), 0);
    struct vphb_vfio_group_get_status_rep st;
    CHECK_EQ(vphb_vfio_group_get_status(c, &(struct vphb_vfio_group_get_status_req){ .fd = grp.fd }, &st), 0);
    CHECK_EQ(st.flags, 1);
    CHECK_EQ(vphb_vfio_group_set_container(c, &(struct vphb_vfio_group_set_container_req){ .fd = grp.fd, .container = cont.fd }), 0);
    CHECK_EQ(vphb_vfio_set_iommu(c, &(struct vphb_vfio_set_iommu_req){ .fd = cont.fd, .type = 7 }), 0);
    const uint64_t ram = 0x7f0000000000ull;
    CHECK_EQ(vphb_vfio_iommu_spapr_register_memory(c, &(struct vphb_vfio_iommu_spapr_register_memory_req){ .fd = cont.fd, .vaddr = ram, .size = 2 * GiB }), 0);
    struct vphb_vfio_iommu_spapr_tce_get_info_rep info;
    CHECK_EQ(vphb_vfio_iommu_spapr_tce_get_info(c, &(struct vphb_vfio_iommu_spapr_tce_get_info_req){ .fd = cont.fd }, &info), 0);
    CHECK_EQ(info.flags, 1);
    CHECK_EQ(info.dma32_window_size, 2 * GiB); /* phb0 of the default topology */
    uint64_t v = 0;
    CHECK(info.has_ddw && vphb_obj_u64(vphb_obj_get(info.ddw, "max_dynamic_windows_supported"), &v) == 0 && v == 2);
    vphb_reply_free(info.reply);
    CHECK_EQ(vphb_vfio_iommu_spapr_tce_remove(c, &(struct vphb_vfio_iommu_spapr_tce_remove_req){ .fd = cont.fd, .start_addr = 0 }), 0);
    struct vphb_vfio_iommu_spapr_tce_create_rep cr;
    CHECK_EQ(vphb_vfio_iommu_spapr_tce_create(c, &(struct vphb_vfio_iommu_spapr_tce_create_req){ .fd = cont.fd, .page_shift = 12, .window_size = GiB, .levels = 2 }, &cr), 0);
    CHECK_U64(cr.start_addr, 0);
    CHECK_EQ(vphb_vfio_iommu_spapr_tce_create(c, &(struct vphb_vfio_iommu_spapr_tce_create_req){ .fd = cont.fd, .page_shift = 12, .window_size = 2 * GiB, .levels = 2 }, &cr), 0);
    CHECK_U64(cr.start_addr, 1ull << 59);
    /* 128 MAP_DMA of 16 MiB, pipelined */
    uint16_t ids[128];
    for (int n = 0; n < 128; n++) {
        struct vphb_vfio_iommu_map_dma_req m = { .fd = cont.fd, .has_flags = true, .flags = 3, .vaddr = ram + (uint64_t)n * 16 * MiB, .iova = (1ull << 59) + (uint64_t)n * 16 * MiB, .size = 16 * MiB };
        CHECK_EQ(vphb_vfio_iommu_map_dma_send(c, &m, &ids[n]), 0);
    }
    for (int n = 0; n < 128; n++) {
        struct vphb_vfio_iommu_map_dma_rep mr = { .ret = 99 };
        CHECK_EQ(vphb_vfio_iommu_map_dma_recv(c, ids[n], &mr), 0);
        CHECK_EQ(mr.has_ret, 1);
        CHECK_EQ(mr.ret, 0);
    }
    struct vphb_iommu_translate_rep tr;
    CHECK_EQ(vphb_iommu_translate(c, &(struct vphb_iommu_translate_req){ .fd = grp.fd, .iova = (1ull << 59) + GiB + 0x1234, .access = "write" }, &tr), 0);
    CHECK_U64(tr.addr, ram + GiB + 0x1234);
    CHECK_U64(tr.page_size, 4096);
    /* the kernel's errno for an unaligned unmap, and state unchanged after it */
    struct vphb_vfio_iommu_unmap_dma_rep ur = { .ret = 99 };
    CHECK_EQ(vphb_vfio_iommu_unmap_dma(c, &(struct vphb_vfio_iommu_unmap_dma_req){ .fd = cont.fd, .iova = 1ull << 59, .size = 100 }, &ur), -EINVAL);
    CHECK_EQ(vphb_iommu_translate(c, &(struct vphb_iommu_translate_req){ .fd = grp.fd, .iova = 1ull << 59, .access = "read" }, &tr), 0);
    /* an iova not aligned to the window page: the ioctl returns 1 and clears nothing (linux profile, K7) */
    CHECK_EQ(vphb_vfio_iommu_unmap_dma(c, &(struct vphb_vfio_iommu_unmap_dma_req){ .fd = cont.fd, .iova = (1ull << 59) + 0x100, .size = 4096 }, &ur), 0);
    CHECK_EQ(ur.ret, 1);
    CHECK_EQ(vphb_iommu_translate(c, &(struct vphb_iommu_translate_req){ .fd = grp.fd, .iova = 1ull << 59, .access = "read" }, &tr), 0);
    CHECK_EQ(vphb_vfio_iommu_unmap_dma(c, &(struct vphb_vfio_iommu_unmap_dma_req){ .fd = cont.fd, .iova = 1ull << 59, .size = 16 * MiB }, &ur), 0);
    CHECK_EQ(ur.ret, 0);
    CHECK_EQ(vphb_iommu_translate(c, &(struct vphb_iommu_translate_req){ .fd = grp.fd, .iova = 1ull << 59, .access = "read" }, &tr), -EFAULT);
    CHECK_EQ(vphb_close(c, &(struct vphb_close_req){ .fd = grp.fd }), 0);
    CHECK_EQ(vphb_close(c, &(struct vphb_close_req){ .fd = cont.fd }), 0);
}

static void test_tce_batch(vphb_conn *c)
{
    struct vphb_kvm_create_vm_rep vm;
    CHECK_EQ(vphb_kvm_create_vm(c, &(struct vphb_kvm_create_vm_req){ 0 }, &vm), 0);
    CHECK_EQ(vphb_kvm_set_user_memory_region(c, &(struct vphb_kvm_set_user_memory_region_req){ .fd = vm.fd, .slot = 0, .guest_phys_addr = 0, .memory_size = 256 * MiB, .userspace_addr = 0x100000000ull }), 0);
    struct vphb_kvm_create_spapr_tce_64_rep t;
    const uint64_t liobn = 0x80000001ull;
    CHECK_EQ(vphb_kvm_create_spapr_tce_64(c, &(struct vphb_kvm_create_spapr_tce_64_req){ .fd = vm.fd, .liobn = liobn, .page_shift = 12, .offset = 0, .size = 65536 }, &t), 0);
    static uint64_t tces[4096];
    for (int i = 0; i < 4096; i++) tces[i] = ((uint64_t)i << 12) | 3;
    int32_t ret = 99;
    uint32_t written = 99;
    CHECK_EQ(vphb_tce_put_batch(c, (uint32_t)vm.fd, liobn, 0x10000, tces, 4096, &ret, &written), 0);
    CHECK_EQ(ret, 0);
    CHECK_EQ(written, 4096);
    struct vphb_h_get_tce_rep g;
    CHECK_EQ(vphb_h_get_tce(c, &(struct vphb_h_get_tce_req){ .fd = vm.fd, .liobn = liobn, .ioba = 0x10000 + 4095 * 4096 }, &g), 0);
    CHECK_EQ(g.ret, 0);
    CHECK_U64(g.tce, (4095ull << 12) | 3);
    /* beyond the window: H_PARAMETER, nothing written */
    CHECK_EQ(vphb_tce_put_batch(c, (uint32_t)vm.fd, liobn, 65535ull << 12, tces, 2, &ret, &written), 0);
    CHECK_EQ(ret, -4);
    CHECK_EQ(written, 0);
    CHECK_EQ(vphb_tce_put_batch(c, 42, liobn, 0, tces, 1, &ret, &written), -EBADF);
    CHECK_EQ(vphb_close(c, &(struct vphb_close_req){ .fd = t.fd }), 0);
    CHECK_EQ(vphb_close(c, &(struct vphb_close_req){ .fd = vm.fd }), 0);
}

/* A real IRQ event: arm INTx with token 42, raise it; the frame arrives before RAISE_IRQ's reply. */
static int irq_events, irq_token = -1, irq_seen_before_reply;
static volatile int raise_replied;
static void on_irq(vphb_conn *c, const vphb_reply *f, void *user)
{
    (void)c; (void)user;
    struct vphb_vfio_device_irq_event ev;
    if (vphb_vfio_device_irq_decode(f, &ev) == 0) {
        irq_events++;
        irq_token = ev.token;
        irq_seen_before_reply = !raise_replied;
    }
}
static void test_irq_event(vphb_conn *c)
{
    vphb_on_event(c, on_irq, NULL);
    struct vphb_vfio_group_open_rep g;
    CHECK_EQ(vphb_vfio_group_open(c, &(struct vphb_vfio_group_open_req){ .group = 3 }, &g), 0);
    struct vphb_vfio_group_get_device_fd_rep d;
    /* as the kernel: no device fd before the group is in a container with an IOMMU */
    CHECK_EQ(vphb_vfio_group_get_device_fd(c, &(struct vphb_vfio_group_get_device_fd_req){ .fd = g.fd, .name = "0000:03:00.0" }, &d), -EINVAL);
    struct vphb_vfio_open_container_rep cont;
    CHECK_EQ(vphb_vfio_open_container(c, &cont), 0);
    CHECK_EQ(vphb_vfio_group_set_container(c, &(struct vphb_vfio_group_set_container_req){ .fd = g.fd, .container = cont.fd }), 0);
    CHECK_EQ(vphb_vfio_set_iommu(c, &(struct vphb_vfio_set_iommu_req){ .fd = cont.fd, .type = 7 }), 0);
    CHECK_EQ(vphb_vfio_group_get_device_fd(c, &(struct vphb_vfio_group_get_device_fd_req){ .fd = g.fd, .name = "0000:03:00.0" }, &d), 0);
    int32_t tok = 42;
    CHECK_EQ(vphb_vfio_device_set_irqs(c, &(struct vphb_vfio_device_set_irqs_req){ .fd = d.fd, .flags = 4 | 32, .index = 0, .start = 0, .count = 1, .has_data = true, .data = &tok, .data_count = 1 }), 0);
    /* data shorter than count: EINVAL, nothing armed */
    CHECK_EQ(vphb_vfio_device_set_irqs(c, &(struct vphb_vfio_device_set_irqs_req){ .fd = d.fd, .flags = 4 | 32, .index = 1, .start = 0, .count = 2, .has_data = true, .data = &tok, .data_count = 1 }), -EINVAL);
    struct vphb_device_raise_irq_rep rr;
    raise_replied = 0;
    CHECK_EQ(vphb_device_raise_irq(c, &(struct vphb_device_raise_irq_req){ .fd = d.fd, .index = 0 }, &rr), 0);
    raise_replied = 1;
    CHECK_EQ(rr.ret, 1);
    CHECK_EQ(irq_events, 1);
    CHECK_EQ(irq_token, 42);
    CHECK_EQ(irq_seen_before_reply, 1);
    CHECK_EQ(vphb_close(c, &(struct vphb_close_req){ .fd = d.fd }), 0);
    CHECK_EQ(vphb_close(c, &(struct vphb_close_req){ .fd = g.fd }), 0);
    CHECK_EQ(vphb_close(c, &(struct vphb_close_req){ .fd = cont.fd }), 0);
    vphb_on_event(c, NULL, NULL);
}

static void test_tcp(const char *hostport, const char *token)
{
    char target[300], msg[256];
    snprintf(target, sizeof target, "tcp://%s", hostport);
    vphb_conn *c = NULL;
    CHECK_EQ(vphb_connect(target, &(vphb_options){ .client = "test_live", .token = "wrong" }, &c, msg, sizeof msg), -EACCES);
    CHECK(c == NULL);
    CHECK_EQ(vphb_connect(target, &(vphb_options){ .client = "test_live", .token = token }, &c, msg, sizeof msg), 0);
    if (c == NULL) return;
    struct vphb_vfio_open_container_rep cont;
    CHECK_EQ(vphb_vfio_open_container(c, &cont), 0);
    CHECK_EQ(cont.fd, 0);
    vphb_disconnect(c);
    /* QEMU's spelling tcp:HOST:PORT is TCP too (not a UNIX path) */
    snprintf(target, sizeof target, "tcp:%s", hostport);
    CHECK_EQ(vphb_connect(target, &(vphb_options){ .client = "test_live", .token = "wrong" }, &c, msg, sizeof msg), -EACCES);
    CHECK_EQ(vphb_connect(target, &(vphb_options){ .client = "test_live", .token = token }, &c, msg, sizeof msg), 0);
    if (c == NULL) return;
    CHECK_EQ(vphb_vfio_open_container(c, &cont), 0);
    vphb_disconnect(c);
    CHECK_EQ(vphb_connect("tcp:nohostport", NULL, &c, msg, sizeof msg), -EINVAL);
    CHECK_EQ(vphb_connect("tcp://nohostport", NULL, &c, msg, sizeof msg), -EINVAL);
    CHECK_EQ(vphb_connect("ws://127.0.0.1:1", NULL, &c, msg, sizeof msg), -EPROTONOSUPPORT);
}

/* ---- a scripted fake server: events, and a connection lost under pipelined waiters ---- */

struct fake { int lfd; char path[108]; };
static void put_frame(int fd, uint16_t id, uint16_t cmd, uint32_t flags, const char *payload, size_t len)
{
    uint8_t h[16];
    vphb_header hd = { id, cmd, (uint32_t)(16 + len), flags, 0 };
    vphb_header_put(h, &hd);
    if (write(fd, h, 16) != 16 || (len > 0 && write(fd, payload, len) != (ssize_t)len)) perror("fake write");
}
static void *fake_main(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->lfd, NULL, NULL);
    uint8_t h[16], buf[4096];
    if (read(fd, h, 16) != 16) return NULL;
    vphb_header hd;
    vphb_header_get(h, &hd);
    if (read(fd, buf, hd.size - 16) < 0) return NULL;
    /* VERSION reply {major 1, minor 0, server "fake", capabilities {}} */
    static const char rep[] = "\x84\xa5major\x01\xa5minor\x00\xa6server\xa4" "fake\xac" "capabilities\x80";
    put_frame(fd, hd.msg_id, 1, 1, rep, sizeof rep - 1);
    /* an IRQ event {index 4} the client never asked for */
    static const char ev[] = "\x81\xa5index\x04";
    put_frame(fd, 7, 1024, 0, ev, sizeof ev - 1);
    /* read the client's three PINGs, answer the second only, then die */
    uint16_t ids[3];
    for (int i = 0; i < 3; i++) {
        if (read(fd, h, 16) != 16) return NULL;
        vphb_header_get(h, &hd);
        ids[i] = hd.msg_id;
        if (hd.size > 16 && read(fd, buf, hd.size - 16) < 0) return NULL;
    }
    put_frame(fd, ids[1], 2, 1, "\x80", 1);
    usleep(100000);
    close(fd);
    return NULL;
}
static int events_seen, event_index;
static void on_event(vphb_conn *c, const vphb_reply *e, void *user)
{
    (void)c; (void)user;
    uint32_t idx;
    if (e->command == 1024 && vphb_get_u32(e, "index", &idx) == 0) event_index = (int)idx;
    __atomic_add_fetch(&events_seen, 1, __ATOMIC_SEQ_CST);
}
static void test_fake_server(void)
{
    struct fake f;
    snprintf(f.path, sizeof f.path, "/tmp/vphb-ctest-%d.sock", (int)getpid());
    unlink(f.path);
    f.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, f.path);
    CHECK_EQ(bind(f.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ(listen(f.lfd, 1), 0);
    pthread_t th;
    pthread_create(&th, NULL, fake_main, &f);
    vphb_conn *c = NULL;
    char msg[128];
    CHECK_EQ(vphb_connect(f.path, &(vphb_options){ .on_event = on_event }, &c, msg, sizeof msg), 0);
    if (c == NULL) return;
    CHECK(strcmp(vphb_server_name(c), "fake") == 0);
    CHECK_EQ(vphb_start_reader(c), 0);
    uint16_t ids[3];
    for (int i = 0; i < 3; i++) CHECK_EQ(vphb_ping_send(c, &(struct vphb_ping_req){ 0 }, &ids[i]), 0);
    struct vphb_ping_rep rep;
    memset(&rep, 0, sizeof rep);
    CHECK_EQ(vphb_ping_recv(c, ids[1], &rep), 0);
    vphb_reply_free(rep.reply);
    CHECK_EQ(vphb_ping_recv(c, ids[0], &rep), -EIO); /* lost: no hang */
    CHECK_EQ(vphb_ping_recv(c, ids[2], &rep), -EIO);
    CHECK_EQ(vphb_ping_send(c, &(struct vphb_ping_req){ 0 }, &ids[0]), -EIO);
    CHECK(vphb_is_dead(c));
    CHECK_EQ(__atomic_load_n(&events_seen, __ATOMIC_SEQ_CST), 1);
    CHECK_EQ(event_index, 4);
    pthread_join(th, NULL);
    vphb_disconnect(c);
    close(f.lfd);
    unlink(f.path);
}

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: test_live UNIX_SOCKET TCP_HOST:PORT TOKEN\n"); return 2; }
    vphb_conn *c = NULL;
    char msg[256];
    int r = vphb_connect(argv[1], &(vphb_options){ .client = "test_live" }, &c, msg, sizeof msg);
    CHECK_EQ(r, 0);
    if (r < 0) { fprintf(stderr, "connect: %s\n", msg); DONE(); }
    test_handshake(c);
    test_pipelined_ping(c);
    test_errors(c);
    test_vfio_v2(c);
    test_tce_batch(c);
    test_irq_event(c);
    vphb_disconnect(c);
    test_tcp(argv[2], argv[3]);
    test_fake_server();
    DONE();
}
