/**
 * The type1 backend on smmu groups, at the model: SET_IOMMU / CHECK_EXTENSION dispatch, IOVA
 * ranges from reserved regions, MAP/UNMAP errnos in vfio_dma_do_map / vfio_dma_do_unmap order,
 * accounting, attach/detach range maintenance, teardown.
 */
import { describe, expect, it } from 'vitest';
import { Host } from '../../src/hw/host.js';
import { DEFAULT_TOPOLOGY, parseTopology, type TopologySpec } from '../../src/hw/topology.js';
import type { Type1Backend } from '../../src/vfio/type1.js';
import { GiB, MiB, errno, failure, world } from './world.js';

const T1 = 1;
const T2 = 3;
const PAGE = 0x1_0000n; // host PAGE_SIZE: the smallest IOMMU page size type1 reports here
const R = 1;
const RW = 3;
const MSI_WIN = { start: 0x800_0000n, end: 0x80f_ffffn };
const TOP = (1n << 48n) - 1n;

function t1(container: { type1: Type1Backend | undefined }): Type1Backend {
  return container.type1!;
}

/** Snapshot of everything a failed call must leave alone. */
function state(b: Type1Backend, mm: { lockedPages: number }) {
  return {
    dmas: b.dmas.map((d) => ({ ...d, mm: undefined })),
    ranges: b.iovaRanges.map((r) => ({ ...r })),
    avail: b.dmaAvail,
    locked: mm.lockedPages,
    tables: b.domains.map((d) => d.mappings.map((m) => ({ ...m }))),
  };
}

function smmuTopology(extra: Record<string, unknown> = {}, pes?: unknown[]): TopologySpec {
  return parseTopology({
    phbs: [
      { pes: [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }] },
      {
        kind: 'smmu',
        name: 'smmu0',
        pes: pes ?? [
          { pe: 1, group: 7, devices: ['0002:01:00.0'] },
          { pe: 2, group: 8, devices: ['0002:02:00.0'], reserved_regions: [{ start: '0x40000000', size: '0x100000' }] },
        ],
        ...extra,
      },
    ],
  });
}

describe('SET_IOMMU and CHECK_EXTENSION on smmu groups', () => {
  it('an EMPTY container with an smmu group answers TYPE1 1, TYPE1v2 3 and UNMAP_ALL 9; UPDATE_VADDR 10 only once set', () => {
    const w = world();
    const spapr = w.setup([1]).container;
    expect([1, 3, 9].map((e) => spapr.checkExtension(e))).toEqual([0, 0, 0]);
    const { container } = w.setup([7]);
    expect([1, 3, 9, 10, 4, 2, 7].map((e) => container.checkExtension(e))).toEqual([1, 1, 1, 0, 0, 1, 1]);
    container.setIommu(T2);
    expect([1, 3, 9, 10, 4, 2, 7].map((e) => container.checkExtension(e))).toEqual([1, 1, 1, 1, 0, 0, 0]);
  });

  it('sPAPR types on an smmu group → ENODEV (no TCE table group); type1 with a sPAPR group in the container → EOPNOTSUPP, unwound', () => {
    const w = world();
    const a = w.setup([7]).container;
    expect(errno(() => a.setIommu(2))).toBe('ENODEV');
    expect(errno(() => a.setIommu(7))).toBe('ENODEV');
    expect(a.state).toBe('EMPTY');
    const b = w.setup([8, 1]).container;
    expect(failure(() => b.setIommu(T2)).message).toMatch(/group 1: phb0 \(spapr\) has no paging IOMMU domains/);
    expect(b.state).toBe('EMPTY');
    expect(w.host.peOfGroup(8)!.smmuDomain).toBeUndefined();
    expect(errno(() => a.setIommu(9))).toBe('EINVAL'); // an extension type1 answers, not a type it opens
    a.setIommu(T1);
    expect(t1(a).v2).toBe(false);
  });

  it('an smmu group joining a sPAPR container → ENODEV; a sPAPR group joining a type1 container → EOPNOTSUPP; nothing changes', () => {
    const w = world();
    const s = w.setup([1], 7).container;
    const f7 = w.vfio.openGroup(7);
    expect(errno(() => f7.group.setContainer(s))).toBe('ENODEV');
    expect(f7.group.container).toBeUndefined();
    const { container } = w.setup([8], T2);
    const f2 = w.vfio.openGroup(2);
    expect(errno(() => f2.group.setContainer(container))).toBe('EOPNOTSUPP');
    expect(container.groups.map((g) => g.number)).toEqual([8]);
  });

  it('the sPAPR ioctls on a type1 container are ENOTTY, and the type1 ones on a sPAPR container', () => {
    const w = world();
    const a = w.setup([7], T2).container;
    expect(errno(() => a.backendFor('VFIO_IOMMU_SPAPR_TCE_GET_INFO'))).toBe('ENOTTY');
    const b = w.setup([1], 7).container;
    expect(errno(() => b.type1For('VFIO_IOMMU_GET_INFO'))).toBe('ENOTTY');
    expect(errno(() => w.setup([8]).container.type1For('VFIO_IOMMU_GET_INFO'))).toBe('EINVAL');
  });
});

describe('GET_INFO and IOVA ranges', () => {
  it('PGSIZES|CAPS; 4K/2M/1G pages folded to the 64K host page; the aperture minus the SW_MSI window', () => {
    const w = world();
    const { container } = w.setup([7], T2);
    expect(t1(container).getInfo()).toEqual({
      flags: 3,
      iova_pgsizes: PAGE | (2n * MiB) | GiB,
      iova_ranges: [{ start: 0n, end: MSI_WIN.start - 1n }, { start: MSI_WIN.end + 1n, end: TOP }],
      migration: { flags: 0, pgsize_bitmap: PAGE, max_dirty_bitmap_size: 1n << 28n },
      dma_avail: 65535,
    });
  });

  it('a group with more reserved regions shrinks the ranges; detaching it gives them back', () => {
    const w = world();
    const { container } = w.setup([7], T2);
    const before = [...t1(container).iovaRanges];
    const f8 = w.vfio.openGroup(8);
    f8.group.setContainer(container);
    expect(t1(container).iovaRanges).toEqual([
      { start: 0n, end: MSI_WIN.start - 1n },
      { start: MSI_WIN.end + 1n, end: 0x3fff_ffffn },
      { start: 0x4010_0000n, end: TOP },
    ]);
    f8.group.unsetContainer();
    expect(t1(container).iovaRanges).toEqual(before);
  });

  it('attaching a group whose reserved region covers a mapping → EINVAL (vfio_iommu_resv_conflict); nothing changes', () => {
    const w = world();
    const { container } = w.setup([7], T2);
    const b = t1(container);
    b.map(w.mm, { flags: RW, vaddr: 0x1000_0000n, iova: 0x4000_0000n, size: PAGE });
    const snap = state(b, w.mm);
    const f8 = w.vfio.openGroup(8);
    expect(failure(() => f8.group.setContainer(container)).message).toMatch(/reserved region reserved \[0x40000000, 0x400fffff\] overlaps an existing DMA mapping/);
    expect(state(b, w.mm)).toEqual(snap);
    expect(f8.group.container).toBeUndefined();
    expect(w.host.peOfGroup(8)!.smmuDomain).toBeUndefined();
    // A direct-relaxable region over the mapping does not conflict and is not excluded.
    const w2 = world({
      topology: smmuTopology({}, [
        { pe: 1, group: 7, devices: ['0002:01:00.0'] },
        { pe: 2, group: 8, devices: ['0002:02:00.0'], reserved_regions: [{ start: '0x40000000', size: '0x100000', type: 'direct-relaxable' }] },
      ]),
    });
    const c2 = w2.setup([7], T2).container;
    t1(c2).map(w2.mm, { flags: RW, vaddr: 0x1000_0000n, iova: 0x4000_0000n, size: PAGE });
    w2.vfio.openGroup(8).group.setContainer(c2);
    expect(t1(c2).iovaRanges).toHaveLength(2);
  });

  it('reserved regions that leave nothing usable → EINVAL at attach', () => {
    const w = world({ topology: smmuTopology({ iova_bits: 32, reserved_regions: [{ start: 0, size: '0x100000000' }] }) });
    expect(failure(() => w.setup([7], T2)).message).toMatch(/leave no usable IOVA range/);
  });

  it('a narrower aperture on another SMMU clips the ranges, refused when it would cut off a mapping (aper_conflict)', () => {
    const topo = smmuTopology();
    const narrow = parseTopology({ phbs: [{ kind: 'smmu', iova_bits: 32, pes: [{ pe: 1, group: 9, devices: ['0003:01:00.0'] }] }] }).phbs[0]!;
    topo.phbs.push({ ...narrow, index: 2, name: 'smmu1' });
    const w = world({ topology: topo });
    const { container } = w.setup([7], T2);
    const b = t1(container);
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: 1n << 40n, size: PAGE });
    const f9 = w.vfio.openGroup(9);
    expect(failure(() => f9.group.setContainer(container)).message).toMatch(/aperture \[0x0, 0xffffffff\] conflicts/);
    b.unmap({ flags: 0, iova: 1n << 40n, size: PAGE });
    f9.group.setContainer(container);
    expect(b.domains).toHaveLength(2);
    expect(b.iovaRanges.at(-1)!.end).toBe(0xffff_ffffn);
    f9.group.unsetContainer();
    expect(b.domains).toHaveLength(1);
    expect(b.iovaRanges.at(-1)!.end).toBe(TOP); // vfio_iommu_aper_expand
  });
});

describe('MAP_DMA', () => {
  it('errno order of vfio_dma_do_map; every failure changes nothing', () => {
    const w = world({ limit: 64n * MiB });
    const { container } = w.setup([7], T2);
    const b = t1(container);
    b.map(w.mm, { flags: RW, vaddr: 0x1000_0000n, iova: 0x2000_0000n, size: 2n * MiB });
    const snap = state(b, w.mm);
    const cases: [number, bigint, bigint, bigint, string][] = [
      [8 | RW, 0n, 0n, PAGE, 'EINVAL'], // unknown flag
      [0, 0n, 0n, PAGE, 'EINVAL'], // neither READ nor WRITE
      [4 | R, 0n, 0n, PAGE, 'EINVAL'], // VADDR with READ
      [RW, 0n, 0n, 0n, 'EINVAL'], // size 0
      [RW, 0n, 0x1000n, PAGE, 'EINVAL'], // iova not 64K aligned
      [RW, 0x1000n, 0n, PAGE, 'EINVAL'], // vaddr not aligned
      [RW, 0n, 0n, 0x1000n, 'EINVAL'], // size not aligned
      [RW, 0n, (1n << 64n) - PAGE, 2n * PAGE, 'EINVAL'], // iova wraps
      [RW, 0n, 0x2010_0000n, PAGE, 'EEXIST'], // inside a mapping
      [RW, 0n, 0x1ff0_0000n, 2n * MiB, 'EEXIST'], // overlapping its start
      [RW, 0n, MSI_WIN.start, PAGE, 'EINVAL'], // into the SW_MSI window
      [RW, 0n, MSI_WIN.start - PAGE, 2n * PAGE, 'EINVAL'], // straddling into it
      [RW, 0n, TOP + 1n, PAGE, 'EINVAL'], // beyond the 48-bit aperture
      [RW, 0n, 0x3000_0000n, 128n * MiB, 'ENOMEM'], // past RLIMIT_MEMLOCK
      [RW, (1n << 52n) - PAGE, 0x3000_0000n, 2n * PAGE, 'EFAULT'], // not user memory
    ];
    for (const [flags, vaddr, iova, size, want] of cases) {
      expect([flags, iova, errno(() => b.map(w.mm, { flags, vaddr, iova, size }))]).toEqual([flags, iova, want]);
      expect(state(b, w.mm)).toEqual(snap);
    }
  });

  it('pins size / PAGE_SIZE pages per mapping (twice for the same memory at two IOVAs); unmap and teardown refund', () => {
    const w = world({ limit: 8n * MiB });
    const { container, files } = w.setup([7], T2);
    const b = t1(container);
    b.map(w.mm, { flags: R, vaddr: 0n, iova: 0n, size: 4n * MiB });
    expect(w.mm.lockedBytes).toBe(4n * MiB);
    b.map(w.mm, { flags: R, vaddr: 0n, iova: 0x1000_0000n, size: 4n * MiB });
    expect(w.mm.lockedBytes).toBe(8n * MiB);
    expect(errno(() => b.map(w.mm, { flags: R, vaddr: 0n, iova: 0x2000_0000n, size: PAGE }))).toBe('ENOMEM');
    expect(b.unmap({ flags: 0, iova: 0n, size: 4n * MiB })).toEqual({ size: 4n * MiB });
    expect(w.mm.lockedBytes).toBe(4n * MiB);
    for (const f of files) f.close();
    expect(w.mm.lockedPages).toBe(0);
    expect(container.state).toBe('EMPTY');
  });

  it('ENOSPC once dma_entry_limit mappings exist (checked before the IOVA range); unmapping frees an entry', () => {
    const w = world({ topology: smmuTopology({ dma_entry_limit: 2 }) });
    const { container } = w.setup([7], T2);
    const b = t1(container);
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: 0n, size: PAGE });
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: PAGE, size: PAGE });
    expect(b.getInfo().dma_avail).toBe(0);
    expect(errno(() => b.map(w.mm, { flags: RW, vaddr: 0n, iova: 2n * PAGE, size: PAGE }))).toBe('ENOSPC');
    expect(errno(() => b.map(w.mm, { flags: RW, vaddr: 0n, iova: MSI_WIN.start, size: PAGE }))).toBe('ENOSPC');
    expect(errno(() => b.map(w.mm, { flags: RW, vaddr: 0n, iova: PAGE, size: PAGE }))).toBe('EEXIST');
    b.unmap({ flags: 0, iova: 0n, size: PAGE });
    expect(b.getInfo().dma_avail).toBe(1);
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: 2n * PAGE, size: PAGE });
  });

  it('translation: the device reaches vaddr + offset with the mapping permissions; anything else faults', () => {
    const w = world();
    const { container } = w.setup([7, 8], T2);
    t1(container).map(w.mm, { flags: R, vaddr: 0x7f00_0000_0000n, iova: 0x1_0000_0000n, size: 2n * MiB });
    const pe = w.host.peOfGroup(8)!;
    expect(pe.translate(0x1_0000_1234n, 'read')).toEqual({ addr: 0x7f00_0000_1234n, pageSize: 2n * MiB });
    expect(failure(() => pe.translate(0x1_0000_1234n, 'write')).message).toMatch(/does not permit write/);
    expect(failure(() => pe.translate(0x1_0020_0000n, 'read')).message).toMatch(/no mapping/);
    expect(pe.faults).toBe(2);
    // Both groups of the container translate through the same page table.
    expect(w.host.peOfGroup(7)!.translate(0x1_0000_0000n, 'read').addr).toBe(0x7f00_0000_0000n);
  });
});

describe('UNMAP_DMA', () => {
  function mapped(type: number) {
    const w = world();
    const { container, files } = w.setup([7], type);
    const b = t1(container);
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: 0x100_0000n, size: 1n * MiB });
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: 0x200_0000n, size: 1n * MiB });
    return { w, b, files, container };
  }

  it('v2: whole mappings only (bisecting either end → EINVAL, nothing unmapped); the reply size is the bytes unmapped', () => {
    const { w, b } = mapped(T2);
    const snap = state(b, w.mm);
    expect(errno(() => b.unmap({ flags: 0, iova: 0x108_0000n, size: 1n * MiB }))).toBe('EINVAL');
    expect(errno(() => b.unmap({ flags: 0, iova: 0n, size: 0x108_0000n }))).toBe('EINVAL');
    expect(state(b, w.mm)).toEqual(snap);
    expect(b.unmap({ flags: 0, iova: 0x300_0000n, size: 1n * MiB })).toEqual({ size: 0n });
    expect(b.unmap({ flags: 0, iova: 0n, size: 0x400_0000n })).toEqual({ size: 2n * MiB });
    expect(b.dmas).toHaveLength(0);
    expect(b.getInfo().dma_avail).toBe(65535);
  });

  it('v1 rounds: a mapping starting before iova ends the walk (size 0), one starting inside goes whole', () => {
    const { b } = mapped(T1);
    expect(b.unmap({ flags: 0, iova: 0x108_0000n, size: 0x200_0000n })).toEqual({ size: 0n });
    expect(b.dmas).toHaveLength(2);
    expect(b.unmap({ flags: 0, iova: 0x100_0000n, size: PAGE })).toEqual({ size: 1n * MiB });
    expect(b.dmas.map((d) => d.iova)).toEqual([0x200_0000n]);
  });

  it('argument checks: unknown flags, unaligned, zero size, wrap, ALL with iova/size → EINVAL; ALL unmaps everything', () => {
    const { w, b } = mapped(T2);
    const snap = state(b, w.mm);
    for (const r of [
      { flags: 8, iova: 0n, size: PAGE },
      { flags: 0, iova: 0x1000n, size: PAGE },
      { flags: 0, iova: 0n, size: 0n },
      { flags: 0, iova: 0n, size: 0x1000n },
      { flags: 0, iova: (1n << 64n) - PAGE, size: 2n * PAGE },
      { flags: 2, iova: PAGE, size: 0n },
      { flags: 2, iova: 0n, size: PAGE },
    ]) {
      expect(errno(() => b.unmap(r))).toBe('EINVAL');
    }
    expect(state(b, w.mm)).toEqual(snap);
    expect(b.unmap({ flags: 2, iova: 0n, size: 0n })).toEqual({ size: 2n * MiB });
    expect(w.mm.lockedPages).toBe(0);
  });

  it('GET_DIRTY_BITMAP without dirty tracking → EINVAL (as the kernel, nothing unmapped); with ALL/VADDR → EINVAL', () => {
    const { w, b } = mapped(T2);
    const snap = state(b, w.mm);
    const req = { flags: 1, iova: 0x100_0000n, size: 1n * MiB, bitmapPgsize: PAGE, bitmapSize: 8n };
    expect(failure(() => b.unmap(req)).message).toMatch(/dirty page tracking is not started/);
    expect(errno(() => b.unmap({ ...req, flags: 1 | 2, iova: 0n, size: 0n }))).toBe('EINVAL');
    expect(errno(() => b.unmap({ ...req, flags: 1 | 4 }))).toBe('EINVAL');
    expect(errno(() => b.unmap({ ...req, bitmapSize: 0n }))).toBe('EINVAL');
    expect(state(b, w.mm)).toEqual(snap);
    b.dirtyStart();
    expect(errno(() => b.unmap({ ...req, bitmapPgsize: 2n * MiB, size: 2n * MiB, iova: 0x100_0000n }))).toBe('EINVAL');
    const r = b.unmap(req);
    expect(r.size).toBe(1n * MiB);
    expect([...r.bitmap!]).toEqual([0xff, 0xff, 0, 0, 0, 0, 0, 0]); // 16 pages of 64K, all dirty
  });

  it('VADDR: invalidate keeps the mapping (DMA continues) and blocks attach (EBUSY); MAP VADDR restores it, moving the accounting', () => {
    const { w, b, container } = mapped(T2);
    expect(b.unmap({ flags: 4, iova: 0x100_0000n, size: 1n * MiB })).toEqual({ size: 1n * MiB });
    expect(errno(() => b.unmap({ flags: 4, iova: 0x100_0000n, size: 1n * MiB }))).toBe('EINVAL');
    expect(w.host.peOfGroup(7)!.translate(0x100_0000n, 'write').addr).toBe(0n);
    const f8 = w.vfio.openGroup(8);
    expect(errno(() => f8.group.setContainer(container))).toBe('EBUSY');
    expect(errno(() => b.map(w.mm, { flags: 4, vaddr: 0n, iova: 0x400_0000n, size: 1n * MiB }))).toBe('ENOENT');
    expect(errno(() => b.map(w.mm, { flags: 4, vaddr: 0n, iova: 0x100_0000n, size: PAGE }))).toBe('EINVAL');
    expect(errno(() => b.map(w.mm, { flags: 4, vaddr: 0n, iova: 0x200_0000n, size: 1n * MiB }))).toBe('EINVAL');
    b.map(w.other, { flags: 4, vaddr: 0x5000_0000n, iova: 0x100_0000n, size: 1n * MiB });
    expect([w.mm.lockedBytes, w.other.lockedBytes]).toEqual([1n * MiB, 1n * MiB]);
    expect(b.dmas[0]!.vaddr).toBe(0x5000_0000n);
    f8.group.setContainer(container);
  });
});

describe('DIRTY_PAGES', () => {
  it('v1 → EACCES; GET_BITMAP before START → EINVAL; then every mapped page reads dirty', () => {
    const w = world();
    expect(errno(() => t1(w.setup([7], T1).container).dirtyStart())).toBe('EACCES');
    const b = t1(w.setup([8], T2).container);
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: 2n * PAGE, size: 2n * PAGE });
    const req = { iova: 0n, size: 8n * PAGE, pgsize: PAGE, bitmapSize: 8n };
    expect(errno(() => b.dirtyBitmap(req))).toBe('EINVAL');
    b.dirtyStart();
    expect([...b.dirtyBitmap(req)]).toEqual([0b1100, 0, 0, 0, 0, 0, 0, 0]);
    expect(errno(() => b.dirtyBitmap({ ...req, pgsize: 2n * MiB }))).toBe('EINVAL');
    expect(errno(() => b.dirtyBitmap({ ...req, iova: 3n * PAGE, size: 4n * PAGE }))).toBe('EINVAL'); // bisects
    expect(errno(() => b.dirtyBitmap({ ...req, bitmapSize: (1n << 28n) + 8n }))).toBe('EINVAL');
    // Bits across byte boundaries: 20 pages from page 11 of a 64-page range → bits 11..30.
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: 11n * PAGE, size: 20n * PAGE });
    const bits = b.dirtyBitmap({ ...req, size: 64n * PAGE });
    const want = new Uint8Array(8);
    for (const i of [2, 3, ...Array.from({ length: 20 }, (_, k) => 11 + k)]) want[i >> 3]! |= 1 << (i & 7);
    expect([...bits]).toEqual([...want]);
    b.dirtyStop();
    expect(errno(() => b.dirtyBitmap(req))).toBe('EINVAL');
  });
});

describe('teardown and isolation', () => {
  it('the last group leaving unpins everything, frees the domain and the MSI cookie; the PE no longer translates', () => {
    const w = world();
    const { container, files } = w.setup([7, 8], T2);
    const b = t1(container);
    b.map(w.mm, { flags: RW, vaddr: 0n, iova: 0n, size: 1n * MiB });
    const pe7 = w.host.peOfGroup(7)!;
    const domain = pe7.smmuDomain!;
    expect(domain.cookie).toEqual({ base: MSI_WIN.start, next: MSI_WIN.start, pages: [] });
    files[0]!.close();
    expect(pe7.smmuDomain).toBeUndefined();
    expect(b.dmas).toHaveLength(1);
    expect(errno(() => pe7.translate(0n, 'read'))).toBe('EFAULT');
    files[1]!.close();
    expect([w.mm.lockedPages, b.dmas.length, domain.mappings.length, container.state]).toEqual([0, 0, 0, 'EMPTY']);
    expect(domain.cookie).toBeUndefined();
    // The groups are free again for another process.
    const again = w.setup([7, 8], T1);
    expect(again.container.type1!.iovaRanges).toHaveLength(3);
  });

  it('a group is exclusive: opened elsewhere → EBUSY', () => {
    const w = world();
    w.setup([7], T2);
    expect(errno(() => w.vfio.openGroup(7))).toBe('EBUSY');
  });
});

describe('the default topology', () => {
  it('has smmu0 with groups 7 and 8 after the sPAPR ones; group 8 reports one more reserved region', () => {
    const host = new Host(DEFAULT_TOPOLOGY);
    const smmu = host.phbs.find((p) => p.spec.kind === 'smmu')!;
    expect(smmu.spec).toMatchObject({ name: 'smmu0', model: 'SMMUv3', pageShifts: [12, 21, 30] });
    expect(smmu.spec.smmu).toMatchObject({ iovaBits: 48, swMsi: { start: 0x800_0000n, size: 0x10_0000n }, dmaEntryLimit: 65535 });
    expect(smmu.pes.map((p) => p.group)).toEqual([7, 8]);
  });
});
