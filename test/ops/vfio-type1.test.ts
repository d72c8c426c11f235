/**
 * The type1 ops through the real handlers: GET_INFO's structured capability chain, MAP/UNMAP
 * routed by backend (UNMAP replies `size`), DIRTY_PAGES, ENOTTY across backends, IOMMU_TRANSLATE
 * on smmu groups, TOPOLOGY's smmu field, and a dying connection releasing everything.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY } from '../../src/hw/topology.js';
import { createOpContext, createSystem, destroyOpContext, type OpContext } from '../../src/ops/context.js';
import { formatHostState } from '../../src/cli/inspect-format.js';
import { parseTopology } from '../../src/hw/topology.js';
import { phbInfo } from '../../src/ops/basic.js';
import { formatTopology, topologyToConfig } from '../../src/topology-table.js';
import { errno } from '../helpers/errors.js';
import { call, inProcessHost } from '../helpers/handlers.js';

const MiB = 1n << 20n;
const PAGE = 0x1_0000n;

const host = inProcessHost();
const connect = (memlockLimit?: bigint | null): OpContext => host.connect(memlockLimit);

function type1Container(ctx: OpContext, groups: number[], type = 3): { fd: number; groups: number[] } {
  const fd = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
  const gfds = groups.map((group) => {
    const g = call(ctx, 'VFIO_GROUP_OPEN', { group }).fd;
    call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g, container: fd });
    return g;
  });
  expect(call(ctx, 'VFIO_CHECK_EXTENSION', { fd, extension: type }).ret).toBe(1);
  call(ctx, 'VFIO_SET_IOMMU', { fd, type });
  return { fd, groups: gfds };
}

describe('VFIO_IOMMU_GET_INFO', () => {
  it('replies flags, iova_pgsizes and the IOVA_RANGE / MIGRATION / DMA_AVAIL capabilities as fields', () => {
    const ctx = connect();
    const { fd } = type1Container(ctx, [7, 8]);
    expect(call(ctx, 'VFIO_IOMMU_GET_INFO', { fd })).toEqual({
      flags: 3,
      iova_pgsizes: PAGE | (2n * MiB) | (1n << 30n),
      iova_ranges: [
        { start: 0n, end: 0x7ff_ffffn },
        { start: 0x810_0000n, end: 0x3fff_ffffn },
        { start: 0x4010_0000n, end: (1n << 48n) - 1n },
      ],
      migration: { flags: 0, pgsize_bitmap: PAGE, max_dirty_bitmap_size: 1n << 28n },
      dma_avail: 65535,
    });
  });

  it('ENOTTY on a sPAPR container, EINVAL on an EMPTY one; the sPAPR ioctls are ENOTTY on a type1 container', () => {
    const ctx = connect();
    const empty = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
    expect(errno(() => call(ctx, 'VFIO_IOMMU_GET_INFO', { fd: empty }))).toBe('EINVAL');
    const spapr = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
    const g = call(ctx, 'VFIO_GROUP_OPEN', { group: 2 }).fd;
    call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g, container: spapr });
    call(ctx, 'VFIO_SET_IOMMU', { fd: spapr, type: 7 });
    expect(errno(() => call(ctx, 'VFIO_IOMMU_GET_INFO', { fd: spapr }))).toBe('ENOTTY');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_DIRTY_PAGES', { fd: spapr, flags: 1 }))).toBe('ENOTTY');
    const { fd } = type1Container(ctx, [7]);
    expect(errno(() => call(ctx, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', { fd }))).toBe('ENOTTY');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_ENABLE', { fd }))).toBe('ENOTTY');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd, vaddr: 0n, size: PAGE }))).toBe('ENOTTY');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_GET_INFO', { fd: g }))).toBe('ENOTTY');
    // EEH is the sPAPR driver's: a type1 container answers ENOTTY, and VFIO_EEH (5) is not its extension.
    expect(errno(() => call(ctx, 'VFIO_EEH_PE_OP', { fd, op: 4 }))).toBe('ENOTTY');
    expect(call(ctx, 'VFIO_CHECK_EXTENSION', { fd, extension: 5 }).ret).toBe(0);
  });
});

describe('MAP_DMA / UNMAP_DMA on a type1 container', () => {
  it('map, translate through the group and device fds, unmap with the size in the reply', () => {
    const ctx = connect();
    const { fd, groups } = type1Container(ctx, [7]);
    expect(call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd, flags: 3, vaddr: 0x7000_0000n, iova: 0x1000_0000n, size: 4n * MiB })).toEqual({ ret: 0 });
    expect(call(ctx, 'IOMMU_TRANSLATE', { fd: groups[0]!, iova: 0x1000_0040n, access: 'write' })).toEqual({ addr: 0x7000_0040n, page_size: 2n * MiB });
    const dev = call(ctx, 'VFIO_GROUP_GET_DEVICE_FD', { fd: groups[0]!, name: '0002:01:00.0' }).fd;
    expect(call(ctx, 'IOMMU_TRANSLATE', { fd: dev, iova: 0x1020_0000n, access: 'read' }).addr).toBe(0x7020_0000n);
    expect(errno(() => call(ctx, 'IOMMU_TRANSLATE', { fd: dev, iova: 0x800_0000n, access: 'write' }))).toBe('EFAULT');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd, flags: 3, vaddr: 0n, iova: 0x800_0000n, size: PAGE }))).toBe('EINVAL');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd, flags: 3, vaddr: 0n, iova: 0x1000_0000n, size: PAGE }))).toBe('EEXIST');
    expect(call(ctx, 'VFIO_IOMMU_UNMAP_DMA', { fd, iova: 0x1000_0000n, size: 4n * MiB })).toEqual({ ret: 0, size: 4n * MiB });
    expect(call(ctx, 'VFIO_IOMMU_UNMAP_DMA', { fd, iova: 0x1000_0000n, size: 4n * MiB })).toEqual({ ret: 0, size: 0n });
    expect(ctx.mm.lockedPages).toBe(0);
  });

  it('the locked-memory limit is the connection\'s: ENOMEM, nothing mapped', () => {
    const ctx = connect(2n * MiB);
    const { fd } = type1Container(ctx, [8]);
    expect(errno(() => call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd, flags: 1, vaddr: 0n, iova: 0n, size: 4n * MiB }))).toBe('ENOMEM');
    expect(call(ctx, 'VFIO_IOMMU_GET_INFO', { fd }).dma_avail).toBe(65535);
    call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd, flags: 1, vaddr: 0n, iova: 0n, size: 2n * MiB });
    expect(ctx.mm.lockedBytes).toBe(2n * MiB);
  });

  it('DIRTY_PAGES: START, GET_BITMAP (all mapped pages dirty), UNMAP with GET_DIRTY_BITMAP; exactly one flag', () => {
    const ctx = connect();
    const { fd } = type1Container(ctx, [7]);
    call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd, flags: 3, vaddr: 0n, iova: 0n, size: 4n * PAGE });
    expect(errno(() => call(ctx, 'VFIO_IOMMU_DIRTY_PAGES', { fd, flags: 3 }))).toBe('EINVAL');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_DIRTY_PAGES', { fd, flags: 4 }))).toBe('EINVAL');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_UNMAP_DMA', { fd, flags: 1, iova: 0n, size: 4n * PAGE, bitmap_pgsize: PAGE, bitmap_size: 8n }))).toBe('EINVAL');
    expect(call(ctx, 'VFIO_IOMMU_DIRTY_PAGES', { fd, flags: 1 })).toEqual({});
    const got = call(ctx, 'VFIO_IOMMU_DIRTY_PAGES', { fd, flags: 4, iova: 0n, size: 8n * PAGE, bitmap_pgsize: PAGE, bitmap_size: 8n });
    expect([...got.bitmap!]).toEqual([0x0f, 0, 0, 0, 0, 0, 0, 0]);
    const r = call(ctx, 'VFIO_IOMMU_UNMAP_DMA', { fd, flags: 1, iova: 0n, size: 4n * PAGE, bitmap_pgsize: PAGE, bitmap_size: 8n });
    expect(r.size).toBe(4n * PAGE);
    expect([...r.bitmap!]).toEqual([0x0f, 0, 0, 0, 0, 0, 0, 0]);
    const v1 = type1Container(ctx, [8], 1).fd;
    expect(errno(() => call(ctx, 'VFIO_IOMMU_DIRTY_PAGES', { fd: v1, flags: 1 }))).toBe('EACCES');
  });
});

describe('transparent MSI through the handlers', () => {
  it('SET_IRQS enabling MSI maps the doorbell; HOST_STATE shows the type1 container, its domain and the MSI page', () => {
    const ctx = connect();
    const { fd, groups } = type1Container(ctx, [7]);
    call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd, flags: 3, vaddr: 0x7000_0000n, iova: 0n, size: 2n * MiB });
    const dev = call(ctx, 'VFIO_GROUP_GET_DEVICE_FD', { fd: groups[0]!, name: '0002:01:00.0' }).fd;
    call(ctx, 'VFIO_DEVICE_SET_IRQS', { fd: dev, flags: 4 | 32, index: 2, start: 0, count: 2, data: [5, 6] });
    expect(call(ctx, 'IOMMU_TRANSLATE', { fd: dev, iova: 0x800_0040n, access: 'write' }).addr).toBe(0x800_0005_0040n);
    expect(call(ctx, 'DEVICE_RAISE_IRQ', { fd: dev, index: 2, vector: 1 })).toEqual({ ret: 1 });
    const state = call(ctx, 'HOST_STATE', {});
    expect(formatHostState(state)).toMatch(/type1v2 +7 +maps 0x0\+2M; avail 65534; msi 0x8000000->0x80000050000 x2/);
    const c = state.containers.find((x) => x.backend === 'type1v2')!;
    expect(c.groups).toEqual([7]);
    expect(c.type1).toEqual({
      iova_ranges: [{ start: 0n, end: 0x7ff_ffffn }, { start: 0x810_0000n, end: (1n << 48n) - 1n }],
      dma_avail: 65534,
      dirty_tracking: false,
      mappings: [{ iova: 0n, size: 2n * MiB, vaddr: 0x7000_0000n, prot: 3, locked_bytes: 2n * MiB }],
      domains: [{
        phb: 'smmu0', groups: [7], pgsize_bitmap: (1n << 12n) | (1n << 21n) | (1n << 30n), msi_base: 0x800_0000n,
        msi_pages: [{ doorbell: 0x800_0005_0000n, iova: 0x800_0000n, deliveries: 2 }],
      }],
    });
  });

  it('SET_IRQS fails ENOSPC when the doorbell page cannot be mapped, and MSI stays off', () => {
    const topo = {
      ...DEFAULT_TOPOLOGY,
      phbs: [...DEFAULT_TOPOLOGY.phbs.slice(0, 2), {
        ...DEFAULT_TOPOLOGY.phbs[2]!,
        smmu: { ...DEFAULT_TOPOLOGY.phbs[2]!.smmu!, swMsi: { start: 0x800_0000n, size: 0x1_0000n }, its: [0x808_0000n, 0x80a_0000n],
          pes: [{ pe: 1, reserved: [], its: 0 }, { pe: 2, reserved: [], its: 1 }] },
      }],
    };
    const sys = createSystem({ topology: topo });
    const ctx = createOpContext(sys, 99, { memlockLimit: null });
    try {
      const container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
      const gs = [7, 8].map((group) => {
        const g = call(ctx, 'VFIO_GROUP_OPEN', { group }).fd;
        call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g, container });
        return g;
      });
      call(ctx, 'VFIO_SET_IOMMU', { fd: container, type: 3 });
      call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: 0n, iova: 0x801_0000n, size: 2n * MiB });
      const a = call(ctx, 'VFIO_GROUP_GET_DEVICE_FD', { fd: gs[0]!, name: '0002:01:00.0' }).fd;
      const b = call(ctx, 'VFIO_GROUP_GET_DEVICE_FD', { fd: gs[1]!, name: '0002:02:00.0' }).fd;
      call(ctx, 'VFIO_DEVICE_SET_IRQS', { fd: a, flags: 4 | 32, index: 1, start: 0, count: 1, data: [1] });
      expect(errno(() => call(ctx, 'VFIO_DEVICE_SET_IRQS', { fd: b, flags: 4 | 32, index: 1, start: 0, count: 1, data: [2] }))).toBe('ENOSPC');
      expect(call(ctx, 'DEVICE_RAISE_IRQ', { fd: b, index: 1, vector: 0 })).toEqual({ ret: 0 });
      const d = call(ctx, 'HOST_STATE', {}).containers[0]!.type1!.domains[0]!;
      expect(d.msi_pages.map((p) => p.iova)).toEqual([0x800_0000n]);
    } finally {
      destroyOpContext(ctx);
    }
    expect(sys.vfio.containers.size).toBe(0);
  });
});

describe('TOPOLOGY and connection teardown', () => {
  it('TOPOLOGY lists smmu0 with its IOVA width, SW_MSI window, doorbells and each group\'s reserved regions', () => {
    const ctx = connect();
    const smmu = call(ctx, 'TOPOLOGY', {}).phbs.find((p) => p.kind === 'smmu')!;
    expect(smmu.name).toBe('smmu0');
    expect(smmu.page_shifts).toEqual([12, 21, 30]);
    expect(smmu.smmu).toEqual({
      iova_bits: 48,
      page_shifts: [12, 21, 30],
      sw_msi: { start: 0x800_0000n, size: 0x10_0000n },
      reserved_regions: [],
      doorbells: [0x800_0005_0040n],
      dma_entry_limit: 65535,
      groups: [
        { group: 7, reserved_regions: [{ start: 0x800_0000n, size: 0x10_0000n, type: 'sw-msi' }], doorbell: 0x800_0005_0040n },
        {
          group: 8,
          reserved_regions: [{ start: 0x800_0000n, size: 0x10_0000n, type: 'sw-msi' }, { start: 0x4000_0000n, size: 0x10_0000n, type: 'reserved' }],
          doorbell: 0x800_0005_0040n,
        },
      ],
    });
  });

  it('vphb topology renders the smmu PHB with its reserved regions per group', () => {
    const text = formatTopology(call(connect(), 'TOPOLOGY', {}));
    expect(text).toContain('PHB 2 smmu0: smmu SMMUv3, IOMMU pages 4K/2M/1G, IOVA 48 bits, dma_entry_limit 65535, doorbells 0x80000050040\n');
    expect(text).toMatch(/  8 +2 +0002:02:00\.0 +sw-msi 0x8000000\+1M, reserved 0x40000000\+1M\n/);
  });

  it('topology --json of an smmu PHB is a config that parses back to the same PHB (ITS index, own and PHB regions)', () => {
    const topo = parseTopology({
      phbs: [{
        kind: 'smmu', name: 's', iova_bits: 44, page_shifts: [16], sw_msi: { start: '0x8000000', size: '0x20000' }, dma_entry_limit: 9,
        its: ['0x8080000', '0x80a0000'], reserved_regions: [{ start: '0xfee00000', size: '0x100000', type: 'direct-relaxable' }],
        pes: [{ pe: 1, group: 7, devices: ['0002:01:00.0'] }, { pe: 3, group: 9, devices: ['0002:02:00.0'], its: 1, reserved_regions: [{ start: 0, size: 65536 }] }],
      }],
    });
    const reply = { host_page_shift: 16, phbs: topo.phbs.map(phbInfo) };
    const again = parseTopology(topologyToConfig(reply as never));
    expect(again.phbs.map(phbInfo)).toEqual(reply.phbs);
  });

  it('a dying connection releases its type1 container: groups free, pages unlocked, another connection can take them', () => {
    const a = connect();
    const { fd } = type1Container(a, [7, 8]);
    call(a, 'VFIO_IOMMU_MAP_DMA', { fd, flags: 3, vaddr: 0n, iova: 0n, size: 8n * MiB });
    const b = connect();
    expect(errno(() => call(b, 'VFIO_GROUP_OPEN', { group: 7 }))).toBe('EBUSY');
    host.disconnect(a);
    expect(a.mm.lockedPages).toBe(0);
    expect(host.system.host.peOfGroup(7)!.smmuDomain).toBeUndefined();
    expect(host.system.vfio.containers.size).toBe(0);
    const again = type1Container(b, [7, 8], 1);
    expect(call(b, 'VFIO_IOMMU_GET_INFO', { fd: again.fd }).dma_avail).toBe(65535);
  });
});
