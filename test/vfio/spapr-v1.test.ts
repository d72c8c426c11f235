/** Section 4, SPAPR_TCE (v1): GET_INFO, ENABLE, DISABLE, MAP_DMA, UNMAP_DMA, each check in order. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY, type TopologySpec } from '../../src/hw/topology.js';
import type { ProfileName } from '../../src/vfio/profile.js';
import { SpaprTceBackend } from '../../src/vfio/spapr-tce.js';
import { GiB, MiB, V1, V2, errno, failure, world } from './world.js';

const KiB4 = 4096n;

function noDma32(): TopologySpec {
  const phb0 = DEFAULT_TOPOLOGY.phbs[0]!;
  return { ...DEFAULT_TOPOLOGY, phbs: [{ ...phb0, dma32: { start: 0n, size: 0n } }] };
}

function enabled(limit: bigint | null = null, profile: ProfileName = 'linux') {
  const w = world({ limit, profile });
  const s = w.setup([3], V1);
  s.backend.enable(w.mm);
  return { ...w, ...s };
}

describe('GET_INFO (v1)', () => {
  it('reports the platform 32-bit window and no DDW', () => {
    const w = world();
    const { backend } = w.setup([1], V1);
    expect(backend.getInfo(w.mm)).toEqual({ flags: 0, dma32_window_start: 0, dma32_window_size: 0x8000_0000 });
  });

  it('no group → ENXIO', () => {
    const w = world();
    expect(errno(() => new SpaprTceBackend(V1).getInfo(w.mm))).toBe('ENXIO');
  });
});

describe('ENABLE', () => {
  it('is a v1 ioctl: v2 → ENOTTY', () => {
    const w = world();
    expect(errno(() => w.setup([1], V2).backend.enable(w.mm))).toBe('ENOTTY');
  });

  it('already enabled → EBUSY (before "no group")', () => {
    const w = world();
    const { backend } = w.setup([1], V1);
    backend.enable(w.mm);
    expect(errno(() => backend.enable(w.mm))).toBe('EBUSY');
    backend.detachPe(w.host.peOfGroup(1)!);
    expect(errno(() => backend.enable(w.mm))).toBe('EBUSY');
  });

  it('no group → ENODEV', () => {
    const w = world();
    expect(errno(() => new SpaprTceBackend(V1).enable(w.mm))).toBe('ENODEV');
  });

  it('no 32-bit window on the platform → EPERM (before the memlock check)', () => {
    const w = world({ topology: noDma32(), limit: 0n });
    const { backend } = w.setup([1], V1);
    expect(failure(() => backend.enable(w.mm)).message).toMatch(/no 32-bit DMA window/);
  });

  it('another process → EPERM, before any other check', () => {
    const w = world();
    const { backend } = w.setup([1], V1);
    backend.enable(w.mm);
    expect(failure(() => backend.enable(w.other)).message).toMatch(/another process/);
  });

  it('over the memlock limit → ENOMEM, leaving no trace', () => {
    const w = world({ limit: 2n * GiB - 1n });
    const { backend } = w.setup([1], V1);
    expect(errno(() => backend.enable(w.mm))).toBe('ENOMEM');
    expect(w.mm.lockedPages).toBe(0);
    expect(backend.enabled).toBe(false);
    expect(backend.mm).toBe(w.mm); // tce_iommu_enable binds the mm before it charges
    const w2 = world({ limit: 2n * GiB });
    const s2 = w2.setup([1], V1);
    s2.backend.enable(w2.mm);
    expect(w2.mm.lockedPages).toBe(32768); // 2 GiB / 64 KiB, the whole default window
  });
});

describe('DISABLE', () => {
  it('always succeeds, refunds ENABLE, leaves mappings; MAP then needs ENABLE again', () => {
    const { backend, mm, host } = enabled();
    backend.map(mm, { flags: 3, vaddr: 0x10000n, iova: 0n, size: KiB4 });
    backend.disable(mm);
    backend.disable(mm);
    expect(mm.lockedPages).toBe(128); // the default table the first MAP charged stays (K3)
    expect(host.peOfGroup(3)!.translate(0n, 'read').addr).toBe(0x10000n);
    expect(errno(() => backend.map(mm, { flags: 3, vaddr: 0x10000n, iova: 0n, size: KiB4 }))).toBe('EPERM');
    backend.enable(mm);
    expect(mm.lockedPages).toBe(32768 + 128);
  });

  it('v2 → ENOTTY', () => {
    const w = world();
    expect(errno(() => w.setup([1], V2).backend.disable(w.mm))).toBe('ENOTTY');
  });
});

describe('MAP_DMA (v1), checks in order', () => {
  it('not enabled → EPERM (wins over bad flags)', () => {
    const w = world();
    const { backend } = w.setup([1], V1);
    expect(failure(() => backend.map(w.mm, { flags: 8, vaddr: 0n, iova: 0n, size: KiB4 })).message).toMatch(/not enabled/);
  });

  it('flags outside READ|WRITE → EINVAL, before the default window is created', () => {
    const { backend, mm } = enabled();
    expect(errno(() => backend.map(mm, { flags: 4 | 1, vaddr: 0n, iova: 1n << 40n, size: KiB4 }))).toBe('EINVAL');
    expect(backend.defaultWindowPending).toBe(true);
  });

  it('no window contains iova → ENXIO (wins over an unaligned size); linux keeps the default window it materialised, charged (K5)', () => {
    const { backend, mm } = enabled();
    expect(errno(() => backend.map(mm, { flags: 3, vaddr: 0n, iova: 1n << 40n, size: 3n }))).toBe('ENXIO');
    expect(backend.defaultWindowPending).toBe(false);
    expect(backend.windows.map((x) => [x.slot, x.chargedPages])).toEqual([[0, 128]]);
    expect(mm.lockedPages).toBe(32768 + 128);
  });

  it('strict: the failed MAP takes the default window back (pending again, refunded)', () => {
    const { backend, mm } = enabled(null, 'strict');
    expect(errno(() => backend.map(mm, { flags: 3, vaddr: 0n, iova: 1n << 40n, size: 3n }))).toBe('ENXIO');
    expect(backend.defaultWindowPending).toBe(true);
    expect(backend.windows).toEqual([]);
    expect(mm.lockedPages).toBe(32768);
  });

  it('size or vaddr not a multiple of the window page → EINVAL (before "neither R nor W")', () => {
    const { backend, mm } = enabled();
    expect(failure(() => backend.map(mm, { flags: 0, vaddr: 0n, iova: 0n, size: 100n })).message).toMatch(/multiples/);
    expect(failure(() => backend.map(mm, { flags: 0, vaddr: 0x800n, iova: 0n, size: KiB4 })).message).toMatch(/multiples/);
  });

  it('neither READ nor WRITE → EINVAL (before the iova checks)', () => {
    const { backend, mm } = enabled();
    expect(failure(() => backend.map(mm, { flags: 0, vaddr: 0n, iova: 0x800n, size: KiB4 })).message).toMatch(/READ or WRITE/);
  });

  it('iova unaligned: linux returns 1 and maps nothing (K7); the range not wholly inside the window → EINVAL (before the pin)', () => {
    const { backend, mm } = enabled();
    const huge = (1n << 52n) - KiB4;
    expect(backend.map(mm, { flags: 3, vaddr: 0x5000n, iova: 0x800n, size: KiB4 })).toBe(1);
    expect(backend.map(mm, { flags: 3, vaddr: huge, iova: 0x800n, size: 2n * KiB4 })).toBe(1); // before the pin
    expect(backend.windows[0]!.table.get(0)).toBe(0n);
    expect(failure(() => backend.map(mm, { flags: 3, vaddr: huge, iova: 2n * GiB - KiB4, size: 2n * KiB4 })).message).toMatch(/past the end/);
  });

  it('strict: iova unaligned → EINVAL', () => {
    const { backend, mm } = enabled(null, 'strict');
    expect(failure(() => backend.map(mm, { flags: 3, vaddr: (1n << 52n) - KiB4, iova: 0x800n, size: KiB4 })).message).toMatch(/not aligned/);
  });

  it('memory that cannot be pinned (beyond the user address space) → EFAULT; linux clears what the call wrote, entries it replaced included', () => {
    const { backend, mm, host } = enabled();
    backend.map(mm, { flags: 3, vaddr: 0x5000n, iova: 0n, size: KiB4 });
    backend.map(mm, { flags: 3, vaddr: 0x6000n, iova: 2n * KiB4, size: KiB4 });
    expect(errno(() => backend.map(mm, { flags: 3, vaddr: (1n << 52n) - 2n * KiB4, iova: 0n, size: 3n * KiB4 }))).toBe('EFAULT');
    const t = backend.windows[0]!.table;
    expect([t.get(0), t.get(1), t.get(2)]).toEqual([0n, 0n, 0x6003n]); // pages 0-1 written then cleared, page 2 failed
    expect(failure(() => host.peOfGroup(3)!.translate(8n, 'write')).message).toMatch(/invalid TCE/);
  });

  it('strict: EFAULT leaves the previous entries in place', () => {
    const { backend, mm, host } = enabled(null, 'strict');
    backend.map(mm, { flags: 3, vaddr: 0x5000n, iova: 0n, size: KiB4 });
    expect(errno(() => backend.map(mm, { flags: 3, vaddr: (1n << 52n) - KiB4, iova: 0n, size: 2n * KiB4 }))).toBe('EFAULT');
    const t = backend.windows[0]!.table;
    expect(t.get(0)).toBe(0x5003n);
    expect(t.get(1)).toBe(0n);
    expect(host.peOfGroup(3)!.translate(8n, 'write').addr).toBe(0x5008n);
  });

  it('maps vaddr | perms, upgrades W-only to R|W, replaces existing entries silently', () => {
    const { backend, mm, host } = enabled();
    const pe = host.peOfGroup(3)!;
    backend.map(mm, { flags: 1, vaddr: 0x7f00_0000_0000n, iova: 0x10_0000n, size: 2n * KiB4 });
    const t = backend.windows[0]!.table;
    expect(t.get(0x100)).toBe(0x7f00_0000_0000n | 1n);
    expect(t.get(0x101)).toBe(0x7f00_0000_1000n | 1n);
    expect(errno(() => pe.translate(0x10_0000n, 'write'))).toBe('EFAULT');
    expect(pe.eeh.dmaFrozen).toBe(true); // the rejected DMA froze the PE (EEH); thaw it to go on
    pe.eeh.thawDma();
    backend.map(mm, { flags: 2, vaddr: 0x3000_0000n, iova: 0x10_1000n, size: KiB4 });
    expect(t.get(0x101)).toBe(0x3000_0000n | 3n);
    expect(pe.translate(0x10_1234n, 'read')).toEqual({ addr: 0x3000_0234n, pageSize: 4096n });
    expect(pe.translate(0x10_1234n, 'write').addr).toBe(0x3000_0234n);
    // size 0 is a no-op
    backend.map(mm, { flags: 3, vaddr: 0n, iova: 0x10_0000n, size: 0n });
    expect(t.get(0x100)).toBe(0x7f00_0000_0000n | 1n);
  });
});

describe('UNMAP_DMA (v1), checks in order', () => {
  it('not enabled → EPERM; flags ≠ 0 → EINVAL; no window → ENXIO; size unaligned → EINVAL; iova unaligned → 1 (linux, K7) or EINVAL (strict); outside → EINVAL', () => {
    const s = world({ profile: 'strict' });
    const b = s.setup([2], V1).backend;
    b.enable(s.mm);
    expect(failure(() => b.unmap(s.mm, { flags: 0, iova: 0x800n, size: KiB4 })).message).toMatch(/not aligned/);
    const w = world();
    const { backend } = w.setup([2], V1);
    expect(errno(() => backend.unmap(w.mm, { flags: 1, iova: 0n, size: KiB4 }))).toBe('EPERM');
    backend.enable(w.mm);
    expect(failure(() => backend.unmap(w.mm, { flags: 1, iova: 1n << 40n, size: 1n })).message).toMatch(/no flags/);
    expect(errno(() => backend.unmap(w.mm, { flags: 0, iova: 1n << 40n, size: 1n }))).toBe('ENXIO');
    expect(failure(() => backend.unmap(w.mm, { flags: 0, iova: 0x800n, size: 1n })).message).toMatch(/multiple/);
    backend.map(w.mm, { flags: 3, vaddr: 0n, iova: 0n, size: KiB4 });
    expect(backend.unmap(w.mm, { flags: 0, iova: 0x800n, size: KiB4 })).toBe(1);
    expect(backend.windows[0]!.table.get(0)).toBe(3n); // nothing cleared
    expect(failure(() => backend.unmap(w.mm, { flags: 0, iova: 2n * GiB - KiB4, size: 2n * KiB4 })).message).toMatch(/past the end/);
  });

  it('clears exactly the range', () => {
    const { backend, mm, host } = enabled();
    backend.map(mm, { flags: 3, vaddr: 0x100_0000n, iova: 0n, size: MiB });
    backend.unmap(mm, { flags: 0, iova: 0x1000n, size: 0x2000n });
    const t = backend.windows[0]!.table;
    expect([0, 1, 2, 3].map((i) => t.get(i) !== 0n)).toEqual([true, false, false, true]);
    expect(failure(() => host.peOfGroup(3)!.translate(0x1000n, 'read')).message).toMatch(/invalid TCE/);
  });
});
