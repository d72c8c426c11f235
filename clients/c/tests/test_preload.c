/* libvphb-vfio.so under a VMM-like program: run as
 *   LD_PRELOAD=build/libvphb-vfio.so VPHB_SOCKET=SOCK test_preload SERVER_PID [devices]
 * The program uses only libc calls, as QEMU does: open64, ioctl, pread64, pwrite64, close.
 * At the end it kills the server (SIGKILL) and checks every later call fails with EIO at once. */
#include "check.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <dlfcn.h>
#include <unistd.h>
#include "vphb.h" /* only for the HOST_STATE probe, resolved from the preloaded library */

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define FAILS(call, err) do { errno = 0; long _r = (long)(call); CHECK_EQ(_r, -1); CHECK_EQ(errno, err); } while (0)

static const uint64_t RAM = 0x7f0000000000ull;
static int container, group;

/* TCEs mapped in the window at bus 0 of the container holding group 1, from HOST_STATE on a
 * connection of our own (libvphb's functions come from the preloaded library). */
static long window0_mapped(void)
{
    int (*connect)(const char *, const vphb_options *, vphb_conn **, char *, size_t) = (int (*)(const char *, const vphb_options *, vphb_conn **, char *, size_t))dlsym(RTLD_DEFAULT, "vphb_connect");
    int (*call)(vphb_conn *, uint16_t, const vphb_field *, size_t, vphb_reply **) = (int (*)(vphb_conn *, uint16_t, const vphb_field *, size_t, vphb_reply **))dlsym(RTLD_DEFAULT, "vphb_call");
    void (*disconnect)(vphb_conn *) = (void (*)(vphb_conn *))dlsym(RTLD_DEFAULT, "vphb_disconnect");
    const msgpack_object *(*get)(const msgpack_object *, const char *) = (const msgpack_object *(*)(const msgpack_object *, const char *))dlsym(RTLD_DEFAULT, "vphb_obj_get");
    void (*rfree)(vphb_reply *) = (void (*)(vphb_reply *))dlsym(RTLD_DEFAULT, "vphb_reply_free");
    if (!connect || !call || !disconnect || !get || !rfree) return -1000;
    vphb_conn *c;
    char msg[128];
    if (connect(getenv("VPHB_SOCKET"), NULL, &c, msg, sizeof msg) < 0) return -1001;
    vphb_reply *r;
    long mapped = -1002;
    if (call(c, VPHB_OP_HOST_STATE, NULL, 0, &r) == 0) {
        const msgpack_object *cs = get(r->map, "containers");
        for (uint32_t i = 0; cs && cs->type == MSGPACK_OBJECT_ARRAY && i < cs->via.array.size; i++) {
            const msgpack_object *g = get(&cs->via.array.ptr[i], "groups"), *ws = get(&cs->via.array.ptr[i], "windows");
            if (!g || g->type != MSGPACK_OBJECT_ARRAY || g->via.array.size != 1 || g->via.array.ptr[0].via.u64 != 1 || !ws) continue;
            for (uint32_t j = 0; j < ws->via.array.size; j++) {
                const msgpack_object *st = get(&ws->via.array.ptr[j], "start_addr"), *m = get(&ws->via.array.ptr[j], "mapped");
                if (st && st->type == MSGPACK_OBJECT_POSITIVE_INTEGER && st->via.u64 == 0 && m) mapped = (long)m->via.u64;
            }
        }
        rfree(r);
    }
    disconnect(c);
    return mapped;
}

static void container_and_group(void)
{
    container = open64("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    CHECK(container >= 0);
    if (container < 0) { perror("open /dev/vfio/vfio"); exit(1); }
    CHECK(fcntl(container, F_GETFD) == FD_CLOEXEC); /* a real fd, with the flags asked for */
    CHECK_EQ(ioctl(container, VFIO_GET_API_VERSION), VFIO_API_VERSION);
    CHECK_EQ(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 0);
    CHECK_EQ(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 0);
    CHECK_EQ(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU), 1);
    FAILS(ioctl(container, _IO(VFIO_TYPE, VFIO_BASE + 60)), ENOTTY);
    char b[4];
    FAILS(pread64(container, b, 4, 0), EINVAL);

    FAILS(open64("/dev/vfio/999", O_RDWR), ENOENT);
    group = open64("/dev/vfio/1", O_RDWR);
    CHECK(group >= 0);
    CHECK(fcntl(group, F_GETFD) == 0);
    FAILS(open64("/dev/vfio/1", O_RDWR), EBUSY);
    struct vfio_group_status st = { .argsz = 4 };
    FAILS(ioctl(group, VFIO_GROUP_GET_STATUS, &st), EINVAL);
    st.argsz = sizeof st;
    CHECK_EQ(ioctl(group, VFIO_GROUP_GET_STATUS, &st), 0);
    CHECK_EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE);
    /* a container ioctl on a group is the kernel's ENOTTY */
    FAILS(ioctl(group, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &st), ENOTTY);

    int devnull = open("/dev/null", O_RDWR);
    FAILS(ioctl(group, VFIO_GROUP_SET_CONTAINER, &devnull), EINVAL);
    close(devnull);
    FAILS(ioctl(group, VFIO_GROUP_SET_CONTAINER, &devnull), EBADF);
    CHECK_EQ(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container), 0);
    CHECK_EQ(ioctl(group, VFIO_GROUP_GET_STATUS, &st), 0);
    CHECK_EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
    CHECK_EQ(ioctl(container, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU), 0);

    struct vfio_iommu_spapr_register_memory reg = { .argsz = sizeof reg, .vaddr = RAM, .size = 2 * GiB };
    CHECK_EQ(ioctl(container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg), 0);
    reg.argsz = 20;
    FAILS(ioctl(container, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &reg), EINVAL);

    struct vfio_iommu_spapr_tce_info info;
    memset(&info, 0xaa, sizeof info);
    info.argsz = 12;
    FAILS(ioctl(container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info), EINVAL);
    info.argsz = 16; /* no room for ddw: left untouched */
    CHECK_EQ(ioctl(container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info), 0);
    CHECK_EQ(info.flags, VFIO_IOMMU_SPAPR_INFO_DDW);
    CHECK_U64(info.ddw.pgsizes, 0xaaaaaaaaaaaaaaaaull);
    info.argsz = sizeof info;
    CHECK_EQ(sizeof info, 32);
    CHECK_EQ(ioctl(container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info), 0);
    CHECK_EQ(info.dma32_window_start, 0);
    CHECK_EQ(info.ddw.max_dynamic_windows_supported, 2);
    CHECK_U64(info.ddw.pgsizes, (1ull << 12) | (1ull << 16) | (1ull << 21) | (1ull << 30));

    struct vfio_iommu_spapr_tce_remove rm = { .argsz = sizeof rm, .start_addr = 0 };
    CHECK_EQ(ioctl(container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &rm), 0);
    struct vfio_iommu_spapr_tce_create cr = { .argsz = sizeof cr, .page_shift = 12, .window_size = GiB, .levels = 2 };
    cr.argsz = 32;
    FAILS(ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), EINVAL);
    cr.argsz = sizeof cr;
    cr.flags = 1;
    FAILS(ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), EINVAL);
    cr.flags = 0;
    CHECK_EQ(ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), 0);
    CHECK_U64(cr.start_addr, 0);
    cr.window_size = 2 * GiB;
    CHECK_EQ(ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), 0);
    CHECK_U64(cr.start_addr, 1ull << 59);
    FAILS(ioctl(container, VFIO_IOMMU_SPAPR_TCE_CREATE, &cr), ENOSPC);

    for (int n = 0; n < 128; n++) {
        struct vfio_iommu_type1_dma_map m = { .argsz = sizeof m, .flags = 3, .vaddr = RAM + (uint64_t)n * 16 * MiB,
                                              .iova = (1ull << 59) + (uint64_t)n * 16 * MiB, .size = 16 * MiB };
        CHECK_EQ(ioctl(container, VFIO_IOMMU_MAP_DMA, &m), 0);
    }
    struct vfio_iommu_type1_dma_map m = { .argsz = 28, .flags = 3, .vaddr = RAM, .iova = 0, .size = 4096 };
    FAILS(ioctl(container, VFIO_IOMMU_MAP_DMA, &m), EINVAL);
    m.argsz = sizeof m;
    m.flags = 4;
    FAILS(ioctl(container, VFIO_IOMMU_MAP_DMA, &m), EINVAL);
    /* QEMU's boot clear: UNMAP of every 4 KiB page of the 32-bit window (a sample here) */
    for (uint64_t iova = 0; iova < 4096 * 4096; iova += 4096) {
        struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = iova, .size = 4096 };
        if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) != 0) { CHECK(!"UNMAP_DMA failed"); break; }
    }
    /* deferred, merged UNMAPs take effect: 64 pages mapped, unmapped page by page, and a second
     * connection's HOST_STATE sees the window empty once any other call went out */
    for (int n = 0; n < 64; n++) {
        struct vfio_iommu_type1_dma_map m4 = { .argsz = sizeof m4, .flags = 3, .vaddr = RAM + (uint64_t)n * 4096, .iova = 0x100000 + (uint64_t)n * 4096, .size = 4096 };
        CHECK_EQ(ioctl(container, VFIO_IOMMU_MAP_DMA, &m4), 0);
    }
    CHECK_EQ(window0_mapped(), 64);
    for (int n = 0; n < 64; n++) {
        struct vfio_iommu_type1_dma_unmap u4 = { .argsz = sizeof u4, .iova = 0x100000 + (uint64_t)n * 4096, .size = 4096 };
        CHECK_EQ(ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u4), 0);
    }
    CHECK_EQ(ioctl(container, VFIO_GET_API_VERSION), VFIO_API_VERSION);
    CHECK_EQ(window0_mapped(), 0);
    struct vfio_iommu_type1_dma_unmap u = { .argsz = 16, .iova = 0, .size = 4096 };
    FAILS(ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u), EINVAL);
    u.argsz = sizeof u;
    u.size = 100;
    FAILS(ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u), EINVAL);
    u.size = 4096;
    u.iova = 3 * GiB; /* no window there: the kernel's ENXIO (tce_iommu_find_table) */
    FAILS(ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u), ENXIO);

    /* ordinary fds are untouched */
    int p[2];
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(write(p[1], "xyz", 3), 3);
    int avail = 0;
    CHECK_EQ(ioctl(p[0], FIONREAD, &avail), 0);
    CHECK_EQ(avail, 3);
    CHECK_EQ(pread64(p[0], b, 1, 0), -1); /* ESPIPE from the real pread */
    CHECK_EQ(errno, ESPIPE);
    close(p[0]);
    close(p[1]);
}

static int device;

static void devices(void)
{
    FAILS(ioctl(group, VFIO_GROUP_GET_DEVICE_FD, "0000:09:00.0"), ENODEV);
    device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, "0000:01:00.0");
    CHECK(device >= 0);
    CHECK(fcntl(device, F_GETFD) == FD_CLOEXEC);
    struct vfio_device_info di = { .argsz = 12 };
    FAILS(ioctl(device, VFIO_DEVICE_GET_INFO, &di), EINVAL);
    di.argsz = sizeof di;
    di.cap_offset = 77;
    CHECK_EQ(ioctl(device, VFIO_DEVICE_GET_INFO, &di), 0);
    CHECK(di.flags & VFIO_DEVICE_FLAGS_PCI);
    CHECK_EQ(di.num_regions, 9);
    CHECK_EQ(di.num_irqs, 5);
    CHECK_EQ(di.cap_offset, 0);
    struct vfio_region_info ri = { .argsz = sizeof ri, .index = VFIO_PCI_CONFIG_REGION_INDEX };
    CHECK_EQ(ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
    CHECK_U64(ri.offset, 7ull << 40);
    CHECK(ri.size == 256 || ri.size == 4096);
    CHECK_EQ(ri.flags & VFIO_REGION_INFO_FLAG_MMAP, 0);
    ri.index = 9;
    FAILS(ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri), EINVAL);
    ri.index = 0;
    CHECK_EQ(ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
    CHECK_U64(ri.size, 16384);
    uint8_t cfg[256];
    CHECK_EQ(pread64(device, cfg, 256, (off_t)(7ull << 40)), 256);
    CHECK_EQ(cfg[0] | cfg[1] << 8, 0x1b36);
    CHECK_EQ(cfg[2] | cfg[3] << 8, 0x0010);
    /* BAR sizing through config space */
    uint32_t ones = 0xffffffff, bar0 = 0;
    CHECK_EQ(pwrite64(device, &ones, 4, (off_t)((7ull << 40) + 0x10)), 4);
    CHECK_EQ(pread64(device, &bar0, 4, (off_t)((7ull << 40) + 0x10)), 4);
    CHECK_EQ(bar0 & 0xfffffff0u, 0xffffc000u);
    char b[4];
    FAILS(pread64(device, b, 4, (off_t)(9ull << 40)), EINVAL);
    /* preadv: the vendor and device ids in two iovecs */
    uint16_t ids[2] = { 0, 0 };
    struct iovec iv[2] = { { &ids[0], 2 }, { &ids[1], 2 } };
    CHECK_EQ(preadv(device, iv, 2, (off_t)(7ull << 40)), 4);
    CHECK_EQ(ids[0], 0x1b36);
    CHECK_EQ(ids[1], 0x0010);
    FAILS(preadv(device, iv, 2, (off_t)(9ull << 40)), EINVAL);

    struct vfio_irq_info ii = { .argsz = sizeof ii, .index = VFIO_PCI_INTX_IRQ_INDEX };
    CHECK_EQ(ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &ii), 0);
    CHECK_EQ(ii.count, 1);
    CHECK(ii.flags & VFIO_IRQ_INFO_EVENTFD);

    /* INTx eventfd, then a loopback trigger: vphb's IRQ frame must reach our eventfd */
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    char buf[sizeof(struct vfio_irq_set) + 4];
    struct vfio_irq_set *s = (struct vfio_irq_set *)buf;
    *s = (struct vfio_irq_set){ .argsz = sizeof buf, .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                                .index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1 };
    memcpy(s->data, &efd, 4);
    s->argsz = sizeof *s; /* no room for the fd */
    FAILS(ioctl(device, VFIO_DEVICE_SET_IRQS, s), EINVAL);
    s->argsz = sizeof buf;
    s->index = 9;
    FAILS(ioctl(device, VFIO_DEVICE_SET_IRQS, s), EINVAL);
    s->index = VFIO_PCI_INTX_IRQ_INDEX;
    CHECK_EQ(ioctl(device, VFIO_DEVICE_SET_IRQS, s), 0);
    struct vfio_irq_set t = { .argsz = sizeof t, .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                              .index = VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1 };
    CHECK_EQ(ioctl(device, VFIO_DEVICE_SET_IRQS, &t), 0);
    struct pollfd pf = { .fd = efd, .events = POLLIN };
    CHECK_EQ(poll(&pf, 1, 10000), 1);
    uint64_t v = 0;
    CHECK_EQ(read(efd, &v, 8), 8);
    CHECK_EQ(v, 1);
    close(efd);
    struct vfio_eeh_pe_op eeh = { .argsz = sizeof eeh, .op = VFIO_EEH_PE_ENABLE };
    CHECK_EQ(ioctl(container, VFIO_EEH_PE_OP, &eeh), 0);
    eeh.op = VFIO_EEH_PE_GET_STATE;
    CHECK_EQ(ioctl(container, VFIO_EEH_PE_OP, &eeh), 0);
    eeh.argsz = 8;
    FAILS(ioctl(container, VFIO_EEH_PE_OP, &eeh), EINVAL);
    CHECK_EQ(ioctl(device, VFIO_DEVICE_RESET), 0);
    FAILS(ioctl(device, VFIO_GROUP_GET_STATUS, &t), ENOTTY);
}

static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return (double)ts.tv_sec + ts.tv_nsec / 1e9; }

static void lost(pid_t server)
{
    CHECK_EQ(kill(server, SIGKILL), 0);
    usleep(300000);
    double t0 = now();
    struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .iova = 0, .size = 4096 };
    FAILS(ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u), EIO);
    FAILS(ioctl(container, VFIO_GET_API_VERSION), EIO);
    struct vfio_group_status st = { .argsz = sizeof st };
    FAILS(ioctl(group, VFIO_GROUP_GET_STATUS, &st), EIO);
    if (device > 0) {
        char b[4];
        FAILS(pread64(device, b, 4, (off_t)(7ull << 40)), EIO);
        FAILS(pwrite64(device, b, 4, (off_t)(7ull << 40)), EIO);
    }
    FAILS(open64("/dev/vfio/vfio", O_RDWR), EIO);
    CHECK_EQ(close(group), 0);
    CHECK(now() - t0 < 20); /* answered, not hung (the bound is generous: the machine is loaded) */
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: test_preload SERVER_PID [devices]\n"); return 2; }
    container_and_group();
    if (argc > 2 && strcmp(argv[2], "devices") == 0) devices();
    lost((pid_t)atoi(argv[1]));
    DONE();
}
