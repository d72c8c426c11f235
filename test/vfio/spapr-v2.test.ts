/**
 * Section 4, SPAPR_TCE_v2: GET_INFO, REGISTER/UNREGISTER_MEMORY, TCE_CREATE/REMOVE, MAP/UNMAP
 * through preregistered memory, the lazy default window and process binding; each check in order.
 */
import { describe, expect, it } from 'vitest';
import { tableSizeBytes } from '../../src/hw/tce-table.js';
import { windowChargePages } from '../../src/vfio/dma-windows.js';
import type { ProfileName } from '../../src/vfio/profile.js';
import { SpaprTceBackend } from '../../src/vfio/spapr-tce.js';
import { GiB, MiB, TiB, V1, V2, errno, failure, world } from './world.js';

const K64 = 0x1_0000n;
const M2 = 2n * MiB;
const W1 = 1n << 59n;

function v2(groups = [1], limit: bigint | null = null, profile: ProfileName = 'linux') {
  const w = world({ limit, profile });
  const s = w.setup(groups, V2);
  return { ...w, ...s };
}

const reg = (vaddr: bigint, size: bigint) => ({ flags: 0, vaddr, size });
const create = (page_shift: number, window_size: bigint, levels = 1) => ({ flags: 0, page_shift, window_size, levels });

describe('GET_INFO (v2)', () => {
  it('reports DDW: page sizes of the PHB, 2 windows, 5 levels', () => {
    const { backend, mm } = v2();
    expect(backend.getInfo(mm)).toEqual({
      flags: 1,
      dma32_window_start: 0,
      dma32_window_size: 0x8000_0000,
      ddw: { pgsizes: 0x4021_1000n, max_dynamic_windows_supported: 2, levels: 5 },
    });
    const p8 = v2([5]);
    expect(p8.backend.getInfo(p8.mm).ddw!.pgsizes).toBe((1n << 12n) | (1n << 16n) | (1n << 24n) | (1n << 28n));
  });

  it('still reports the 32-bit window after it was removed', () => {
    const { backend, mm } = v2();
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    expect(backend.getInfo(mm).dma32_window_size).toBe(0x8000_0000);
  });
});

describe('REGISTER_MEMORY, checks in order', () => {
  it('v1 → ENOTTY', () => {
    const w = world();
    expect(errno(() => w.setup([1], V1).backend.registerMemory(w.mm, reg(0n, K64)))).toBe('ENOTTY');
  });

  it('another process → EPERM once bound (wins over bad flags)', () => {
    const { backend, mm, other } = v2();
    backend.registerMemory(mm, reg(0n, K64));
    expect(errno(() => backend.registerMemory(other, { flags: 1, vaddr: 0n, size: 1n }))).toBe('EPERM');
  });

  it('flags → EINVAL; vaddr/size not host-page aligned, zero or wrapping → EINVAL', () => {
    const { backend, mm } = v2();
    expect(failure(() => backend.registerMemory(mm, { flags: 1, vaddr: 1n, size: 1n })).message).toMatch(/flags/);
    expect(failure(() => backend.registerMemory(mm, reg(0x1000n, K64))).message).toMatch(/host page/);
    expect(failure(() => backend.registerMemory(mm, reg(0n, 0x1000n))).message).toMatch(/host page/);
    expect(failure(() => backend.registerMemory(mm, reg((1n << 64n) - K64, 2n * K64))).message).toMatch(/wraps/);
    expect(backend.enabled).toBe(false);
  });

  it('size 0: linux ENOMEM (K8: the empty page array cannot be allocated), strict EINVAL; no trace', () => {
    const l = v2();
    expect(failure(() => l.backend.registerMemory(l.mm, reg(0n, 0n))).message).toMatch(/size 0/);
    expect(errno(() => l.backend.registerMemory(l.mm, reg(0n, 0n)))).toBe('ENOMEM');
    expect([l.backend.enabled, l.mm.lockedPages, l.mm.prereg.regions.length]).toEqual([false, 0, 0]);
    const s = v2([1], null, 'strict');
    expect(errno(() => s.backend.registerMemory(s.mm, reg(0n, 0n)))).toBe('EINVAL');
    // UNREGISTER of size 0: no such region (linux ENOENT), or EINVAL (strict)
    l.backend.registerMemory(l.mm, reg(0n, K64));
    s.backend.registerMemory(s.mm, reg(0n, K64));
    expect(errno(() => l.backend.unregisterMemory(l.mm, reg(0n, 0n)))).toBe('ENOENT');
    expect(errno(() => s.backend.unregisterMemory(s.mm, reg(0n, 0n)))).toBe('EINVAL');
  });

  it('page_shift (hugetlbfs backing) outside host page..63 → EINVAL naming the field', () => {
    const { backend, mm } = v2();
    expect(failure(() => backend.registerMemory(mm, { ...reg(0n, M2), page_shift: 12 })).message).toMatch(/page_shift 12/);
    expect(errno(() => backend.registerMemory(mm, { ...reg(0n, M2), page_shift: 64 }))).toBe('EINVAL');
    expect(mm.prereg.regions).toEqual([]);
  });

  it('the same range again in this container → EBUSY (before memlock)', () => {
    const { backend, mm } = v2([1], 64n * MiB);
    backend.registerMemory(mm, reg(0n, 64n * MiB));
    expect(errno(() => backend.registerMemory(mm, reg(0n, 64n * MiB)))).toBe('EBUSY');
  });

  it('overlapping another registered range without matching it → EINVAL, after memlock and pin (K8)', () => {
    const { backend, mm } = v2([1], 96n * MiB);
    backend.registerMemory(mm, reg(0n, 64n * MiB));
    expect(failure(() => backend.registerMemory(mm, reg(32n * MiB, 64n * MiB))).message).toMatch(/locked memory limit/);
    expect(failure(() => backend.registerMemory(mm, reg(0n, 32n * MiB))).message).toMatch(/overlaps/);
    expect(mm.lockedPages).toBe(1024); // the overlap's charge was undone
    const u = v2();
    u.backend.registerMemory(u.mm, reg(0n, 64n * MiB));
    expect(failure(() => u.backend.registerMemory(u.mm, reg(32n * MiB, 64n * MiB))).message).toMatch(/overlaps/);
    expect(errno(() => u.backend.registerMemory(u.mm, reg((1n << 52n) - 32n * MiB, 64n * MiB)))).toBe('EFAULT');
  });

  it('over the memlock limit → ENOMEM (before the pin), no trace', () => {
    const { backend, mm } = v2([1], 64n * MiB);
    expect(errno(() => backend.registerMemory(mm, reg((1n << 52n) - 128n * MiB, 128n * MiB)))).toBe('ENOMEM');
    expect(mm.lockedPages).toBe(0);
    expect(mm.prereg.regions).toEqual([]);
    expect(backend.enabled).toBe(false);
    expect(backend.mm).toBe(mm); // tce_iommu_mm_set comes first, even for a failing REGISTER
  });

  it('memory that cannot be pinned → EFAULT, no trace', () => {
    const { backend, mm } = v2();
    expect(errno(() => backend.registerMemory(mm, reg((1n << 52n) - K64, 2n * K64)))).toBe('EFAULT');
    expect(mm.lockedPages).toBe(0);
    expect(mm.prereg.regions).toEqual([]);
  });

  it('success enables the container and binds it to the process', () => {
    const { backend, mm } = v2();
    backend.registerMemory(mm, reg(1n << 40n, GiB));
    expect(backend.enabled).toBe(true);
    expect(backend.mm).toBe(mm);
    expect(mm.lockedPages).toBe(16384);
  });
});

describe('UNREGISTER_MEMORY, checks in order', () => {
  it('v1 → ENOTTY; no memory context yet → EPERM (wins over bad flags)', () => {
    const w = world();
    expect(errno(() => w.setup([1], V1).backend.unregisterMemory(w.mm, reg(0n, K64)))).toBe('ENOTTY');
    const { backend, mm } = v2();
    expect(failure(() => backend.unregisterMemory(mm, { flags: 1, vaddr: 0n, size: K64 })).message).toMatch(/no memory context/);
  });

  it('a failed REGISTER still binds the process (tce_iommu_mm_set comes first): UNREGISTER is then ENOENT, not EPERM', () => {
    const { backend, mm, other } = v2();
    expect(errno(() => backend.registerMemory(mm, { flags: 1, vaddr: 0n, size: K64 }))).toBe('EINVAL');
    expect(backend.mm).toBe(mm);
    expect(errno(() => backend.unregisterMemory(mm, reg(0n, K64)))).toBe('ENOENT');
    expect(errno(() => backend.getInfo(other))).toBe('EPERM');
  });

  it('flags / alignment → EINVAL; no exact match in this container → ENOENT', () => {
    const { backend, mm } = v2();
    backend.registerMemory(mm, reg(0n, 4n * K64));
    expect(errno(() => backend.unregisterMemory(mm, { flags: 2, vaddr: 0n, size: 4n * K64 }))).toBe('EINVAL');
    expect(errno(() => backend.unregisterMemory(mm, reg(0x800n, 4n * K64)))).toBe('EINVAL');
    expect(errno(() => backend.unregisterMemory(mm, reg(0n, 2n * K64)))).toBe('ENOENT');
    expect(errno(() => backend.unregisterMemory(mm, reg(K64, 4n * K64)))).toBe('ENOENT');
  });

  it('a region registered only by another container of the process → ENOENT', () => {
    const w = world();
    const a = w.setup([1], V2).backend;
    const b = w.setup([2], V2).backend;
    a.registerMemory(w.mm, reg(0n, K64));
    b.registerMemory(w.mm, reg(K64, K64));
    expect(errno(() => b.unregisterMemory(w.mm, reg(0n, K64)))).toBe('ENOENT');
  });

  it('still mapped by TCEs: linux returns 0 (K9), the region leaves the container but stays pinned and accounted', () => {
    const { backend, mm } = v2();
    backend.registerMemory(mm, reg(0n, MiB));
    backend.map(mm, { flags: 3, vaddr: 0x1_0000n, iova: 0x2000n, size: 0x2000n });
    const locked = mm.lockedPages;
    backend.unregisterMemory(mm, reg(0n, MiB));
    expect(backend.preregistered).toEqual([]);
    expect(mm.lockedPages).toBe(locked);
    expect(mm.prereg.regions.map((r) => [r.users, r.mapped])).toEqual([[1, 2]]);
    // The kernel's lookup spans the mm: the TCEs still translate, and clearing them counts down.
    backend.unmap(mm, { flags: 0, iova: 0n, size: 0x4000n });
    expect(mm.prereg.regions.map((r) => [r.users, r.mapped])).toEqual([[1, 0]]);
    // Gone from the container: a second UNREGISTER is ENOENT; the orphan stays until the process goes.
    expect(errno(() => backend.unregisterMemory(mm, reg(0n, MiB)))).toBe('ENOENT');
    expect(mm.lockedPages).toBe(locked);
    // REGISTER of the same range takes the orphan again (mm_iommu_get), no new charge.
    backend.registerMemory(mm, reg(0n, MiB));
    expect(mm.lockedPages).toBe(locked);
    expect(mm.prereg.regions[0]!.users).toBe(2);
  });

  it('strict: still mapped by TCEs → EBUSY and nothing changes; after UNMAP it goes', () => {
    const { backend, mm } = v2([1], null, 'strict');
    backend.registerMemory(mm, reg(0n, MiB));
    backend.map(mm, { flags: 3, vaddr: 0x1_0000n, iova: 0x2000n, size: 0x2000n });
    const locked = mm.lockedPages;
    expect(failure(() => backend.unregisterMemory(mm, reg(0n, MiB))).message).toMatch(/2 TCE\(s\) still map it/);
    expect(mm.lockedPages).toBe(locked);
    expect(mm.prereg.regions.length).toBe(1);
    expect(backend.preregistered[0]!.mapped).toBe(2);
    backend.unmap(mm, { flags: 0, iova: 0n, size: 0x4000n });
    expect(backend.preregistered[0]!.mapped).toBe(0);
    backend.unregisterMemory(mm, reg(0n, MiB));
    expect(mm.prereg.regions).toEqual([]);
    expect(mm.lockedPages).toBe(128); // the default window table remains (K1: 4 MiB twice)
  });
});

describe('TCE_CREATE, checks in order', () => {
  it('v1 → ENOTTY; no group → ENXIO; flags → EINVAL before the pending default window', () => {
    const w = world();
    expect(errno(() => w.setup([1], V1).backend.createWindow(w.mm, create(16, GiB)))).toBe('ENOTTY');
    expect(errno(() => new SpaprTceBackend(V2).createWindow(w.mm, { ...create(16, GiB), flags: 1 }))).toBe('ENXIO');
    const { backend, mm } = v2();
    expect(errno(() => backend.createWindow(mm, { ...create(16, GiB), flags: 1 }))).toBe('EINVAL');
    expect(backend.defaultWindowPending).toBe(true);
  });

  it('materialises the pending default window first (slot 0), then uses the next slot', () => {
    const { backend, mm } = v2();
    expect(backend.createWindow(mm, create(16, 4n * GiB, 2))).toBe(W1);
    expect(backend.windows.map((x) => [x.slot, x.table.pageShift, x.table.windowSize])).toEqual([
      [0, 12, 2n * GiB],
      [1, 16, 4n * GiB],
    ]);
  });

  it('no free slot → ENOSPC (before an unsupported page size)', () => {
    const { backend, mm } = v2();
    backend.createWindow(mm, create(16, GiB));
    expect(errno(() => backend.createWindow(mm, create(24, GiB)))).toBe('ENOSPC');
  });

  it('page_shift not supported → EINVAL (before levels and memlock)', () => {
    const { backend, mm } = v2([1], 0n);
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    expect(failure(() => backend.createWindow(mm, create(24, GiB, 0))).message).toMatch(/page_shift 24/);
  });

  it('levels 0 / above the maximum, window size not a power of two → EINVAL (before memlock)', () => {
    const { backend, mm } = v2([1], 0n);
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    expect(failure(() => backend.createWindow(mm, create(16, GiB, 0))).message).toMatch(/levels 0/);
    expect(failure(() => backend.createWindow(mm, create(16, GiB, 6))).message).toMatch(/levels 6/);
    expect(failure(() => backend.createWindow(mm, create(16, 3n * GiB))).message).toMatch(/power of two/);
  });

  it('over the memlock limit → ENOMEM (before the bus-bit check), no trace', () => {
    const { backend, mm } = v2([1], 64n * MiB);
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    // 1 TiB / 4K in 4 levels: too many bus bits, but the worst-case size is charged first.
    expect(errno(() => backend.createWindow(mm, create(12, TiB, 4)))).toBe('ENOMEM');
    expect(mm.lockedPages).toBe(0);
    expect(backend.windows).toEqual([]);
  });

  it('table resolving bus bits ≥ 55 → EINVAL (before the level-size ENOMEM); linux keeps the charge (K4), strict refunds', () => {
    const { backend, mm } = v2();
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    expect(failure(() => backend.createWindow(mm, create(12, TiB, 4))).message).toMatch(/bus bit 55/);
    expect(mm.lockedPages).toBe(windowChargePages(12, TiB, 4, 16));
    expect(mm.lockedPages).toBe(65548); // 32774 pages of levels, twice
    expect(backend.windows).toEqual([]);
    const s = v2([1], null, 'strict');
    s.backend.removeWindow(s.mm, { flags: 0, start_addr: 0n });
    expect(failure(() => s.backend.createWindow(s.mm, create(12, TiB, 4))).message).toMatch(/bus bit 55/);
    expect(s.mm.lockedPages).toBe(0);
  });

  it('a level bigger than the allocator provides → ENOMEM; linux keeps the charge (K4), strict refunds', () => {
    const { backend, mm } = v2();
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    expect(failure(() => backend.createWindow(mm, create(12, TiB, 1))).message).toMatch(/level blocks/);
    expect(mm.lockedPages).toBe(65536); // 2 GiB of TCEs (1 TiB / 4K × 8), twice, in 64K pages
    expect(backend.windows).toEqual([]);
    // The leak counts against the limit: the same create again needs the charge again.
    const l = v2([1], 65536n * K64 + 1n);
    l.backend.removeWindow(l.mm, { flags: 0, start_addr: 0n });
    expect(errno(() => l.backend.createWindow(l.mm, create(12, TiB, 1)))).toBe('ENOMEM');
    expect(failure(() => l.backend.createWindow(l.mm, create(12, TiB, 1))).message).toMatch(/locked memory limit/);
    const s = v2([1], null, 'strict');
    s.backend.removeWindow(s.mm, { flags: 0, start_addr: 0n });
    expect(failure(() => s.backend.createWindow(s.mm, create(12, TiB, 1))).message).toMatch(/level blocks/);
    expect(s.mm.lockedPages).toBe(0);
    expect(s.backend.windows).toEqual([]);
  });

  it('programming a second group fails → the first is unprogrammed, table freed, charge refunded', () => {
    const { backend, mm, host } = v2([1, 2]);
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    host.peOfGroup(2)!.failNextProgram = 'EIO';
    expect(errno(() => backend.createWindow(mm, create(16, 4n * GiB, 2)))).toBe('EIO');
    expect(host.peOfGroup(1)!.windows).toEqual([undefined, undefined]);
    expect(host.peOfGroup(2)!.windows).toEqual([undefined, undefined]);
    expect(backend.windows).toEqual([]);
    expect(mm.lockedPages).toBe(0);
    // The slot is free again.
    expect(backend.createWindow(mm, create(16, 4n * GiB, 2))).toBe(0n);
    expect(host.peOfGroup(2)!.windows[0]).toBe(host.peOfGroup(1)!.windows[0]);
  });

  it('a failure after materialising the default window: linux keeps it, charged (K5)', () => {
    const w2 = v2();
    expect(errno(() => w2.backend.createWindow(w2.mm, create(24, GiB)))).toBe('EINVAL');
    expect(w2.backend.defaultWindowPending).toBe(false);
    expect(w2.backend.windows.map((x) => [x.slot, x.chargedPages])).toEqual([[0, 128]]);
    expect(w2.mm.lockedPages).toBe(128);
    expect(w2.host.peOfGroup(1)!.windows[0]).toBe(w2.backend.windows[0]!.table);
    expect(w2.backend.mm).toBe(w2.mm);
  });

  it('strict: a failure after materialising the default window takes it back (pending again)', () => {
    const w2 = v2([1], null, 'strict');
    expect(errno(() => w2.backend.createWindow(w2.mm, create(24, GiB)))).toBe('EINVAL');
    expect(w2.backend.defaultWindowPending).toBe(true);
    expect(w2.backend.windows).toEqual([]);
    expect(w2.mm.lockedPages).toBe(0);
    expect(w2.host.peOfGroup(1)!.windows).toEqual([undefined, undefined]);
  });
});

describe('TCE_REMOVE, checks in order', () => {
  it('v1 → ENOTTY; no group → ENXIO; flags → EINVAL', () => {
    const w = world();
    expect(errno(() => w.setup([1], V1).backend.removeWindow(w.mm, { flags: 0, start_addr: 0n }))).toBe('ENOTTY');
    expect(errno(() => new SpaprTceBackend(V2).removeWindow(w.mm, { flags: 1, start_addr: 0n }))).toBe('ENXIO');
    const { backend, mm } = v2();
    expect(errno(() => backend.removeWindow(mm, { flags: 1, start_addr: 0n }))).toBe('EINVAL');
    expect(backend.defaultWindowPending).toBe(true);
  });

  it('start 0 while the default window is pending just cancels it', () => {
    const { backend, mm } = v2();
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    expect(backend.defaultWindowPending).toBe(false);
    expect(backend.windows).toEqual([]);
    expect(mm.lockedPages).toBe(0);
    expect(backend.mm).toBe(mm);
    // Nothing there any more: EINVAL.
    expect(errno(() => backend.removeWindow(mm, { flags: 0, start_addr: 0n }))).toBe('EINVAL');
  });

  it('no window contains start_addr → EINVAL; an address inside a window removes it', () => {
    const { backend, mm, host } = v2([1, 2]);
    backend.createWindow(mm, create(16, 4n * GiB, 2)); // default in slot 0, this in slot 1
    expect(errno(() => backend.removeWindow(mm, { flags: 0, start_addr: W1 + 4n * GiB }))).toBe('EINVAL');
    backend.removeWindow(mm, { flags: 0, start_addr: W1 + 0x12345n });
    expect(backend.windows.map((x) => x.slot)).toEqual([0]);
    expect(host.peOfGroup(2)!.windows[1]).toBeUndefined();
  });

  it('clears the TCEs, frees the table, refunds the charge and the prereg references', () => {
    const { backend, mm } = v2();
    backend.registerMemory(mm, reg(0n, 64n * MiB));
    const prereg = mm.lockedPages;
    backend.createWindow(mm, create(16, 4n * GiB, 2));
    const t = backend.windows[1]!.table;
    backend.map(mm, { flags: 3, vaddr: 0n, iova: W1, size: 64n * MiB });
    expect(backend.preregistered[0]!.mapped).toBe(1024);
    backend.removeWindow(mm, { flags: 0, start_addr: W1 });
    expect(t.freed).toBe(true);
    expect(backend.preregistered[0]!.mapped).toBe(0);
    expect(mm.lockedPages).toBe(prereg + 128);
  });
});

describe('MAP_DMA / UNMAP_DMA (v2)', () => {
  it('not enabled until REGISTER_MEMORY → EPERM', () => {
    const { backend, mm } = v2();
    expect(failure(() => backend.map(mm, { flags: 3, vaddr: 0n, iova: 0n, size: 4096n })).message).toMatch(/preregistered/);
    expect(errno(() => backend.unmap(mm, { flags: 0, iova: 0n, size: 4096n }))).toBe('EPERM');
  });

  it('the first MAP materialises the pending default window (charged); a pending-window error is returned', () => {
    const { backend, mm } = v2([1], 64n * MiB + 128n * 65536n - 1n);
    backend.registerMemory(mm, reg(0n, 64n * MiB));
    expect(errno(() => backend.map(mm, { flags: 3, vaddr: 0n, iova: 0n, size: 4096n }))).toBe('ENOMEM');
    expect(backend.defaultWindowPending).toBe(true);
    const ok = v2([1], 64n * MiB + 128n * 65536n);
    ok.backend.registerMemory(ok.mm, reg(0n, 64n * MiB));
    ok.backend.map(ok.mm, { flags: 3, vaddr: 0n, iova: 0n, size: 4096n });
    expect(ok.backend.windows[0]!.chargedPages).toBe(128); // K1: the 2 GiB default window
    expect(ok.mm.lockedPages).toBe(1024 + 128);
  });

  it('vaddr not in preregistered memory → EINVAL; linux clears what the call wrote (the replaced entry too)', () => {
    const { backend, mm } = v2();
    backend.registerMemory(mm, reg(0n, MiB));
    backend.map(mm, { flags: 3, vaddr: 0n, iova: 0n, size: 4096n });
    expect(failure(() => backend.map(mm, { flags: 3, vaddr: MiB - 4096n, iova: 0n, size: 8192n })).message).toMatch(/not in preregistered memory/);
    const t = backend.windows[0]!.table;
    expect([t.get(0), t.get(1)]).toEqual([0n, 0n]);
    expect(backend.preregistered[0]!.mapped).toBe(0);
  });

  it('strict: vaddr not in memory preregistered with this container → EINVAL, nothing written', () => {
    const { backend, mm } = v2([1], null, 'strict');
    backend.registerMemory(mm, reg(0n, MiB));
    backend.map(mm, { flags: 3, vaddr: 0n, iova: 0n, size: 4096n });
    expect(failure(() => backend.map(mm, { flags: 3, vaddr: MiB - 4096n, iova: 0n, size: 8192n })).message).toMatch(/not in preregistered memory/);
    const t = backend.windows[0]!.table;
    expect(t.get(0)).toBe(3n);
    expect(t.get(1)).toBe(0n);
    expect(backend.preregistered[0]!.mapped).toBe(1);
  });

  it('linux: a container maps memory another container of the process registered (mm-wide lookup); strict: EINVAL', () => {
    const w = world();
    const a = w.setup([1], V2).backend;
    const b = w.setup([2], V2).backend;
    a.registerMemory(w.mm, reg(0n, MiB));
    b.registerMemory(w.mm, reg(MiB, MiB));
    expect(b.map(w.mm, { flags: 3, vaddr: 0x1_0000n, iova: 0n, size: 8192n })).toBe(0);
    expect(w.mm.prereg.regions.map((r) => r.mapped)).toEqual([2, 0]);
    // A's UNREGISTER: 0, but B's TCEs keep the region pinned (mm_iommu_put's EBUSY, dropped).
    a.unregisterMemory(w.mm, reg(0n, MiB));
    expect(w.mm.prereg.regions.map((r) => [r.users, r.mapped])).toEqual([[1, 2], [1, 0]]);
    expect(w.host.peOfGroup(2)!.translate(0x1008n, 'read').addr).toBe(0x1_1008n);
    const s = world({ profile: 'strict' });
    const sa = s.setup([1], V2).backend;
    const sb = s.setup([2], V2).backend;
    sa.registerMemory(s.mm, reg(0n, MiB));
    sb.registerMemory(s.mm, reg(MiB, MiB));
    expect(errno(() => sb.map(s.mm, { flags: 3, vaddr: 0x1_0000n, iova: 0n, size: 8192n }))).toBe('EINVAL');
  });

  it('linux: without page_shift a region backs IOMMU pages up to the host page only (K8); page_shift 24 (hugetlbfs) lifts it to min(alignment, 16M)', () => {
    const { backend, mm } = v2();
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    backend.createWindow(mm, create(21, 64n * GiB, 2));
    backend.registerMemory(mm, reg(0x100_0000n, 4n * MiB)); // 4M-aligned, not hugetlbfs
    expect(mm.prereg.regions[0]!.pageShift).toBe(16);
    expect(failure(() => backend.map(mm, { flags: 3, vaddr: 0x100_0000n, iova: 0n, size: M2 })).message).toMatch(/smaller than the 2\^21/);
    backend.registerMemory(mm, { ...reg(0x1000_0000n, 4n * MiB), page_shift: 24 });
    expect(mm.prereg.regions[1]!.pageShift).toBe(22); // min(4M alignment, 16M pages)
    expect(backend.map(mm, { flags: 3, vaddr: 0x1000_0000n, iova: 0n, size: 4n * MiB })).toBe(0);
    backend.registerMemory(mm, { ...reg(0x2000_0000n, 4n * MiB), page_shift: 20 });
    expect(errno(() => backend.map(mm, { flags: 3, vaddr: 0x2000_0000n, iova: 4n * MiB, size: M2 }))).toBe('EINVAL');
  });

  it('strict: a preregistered region that cannot back the IOMMU page size (its alignment) → EINVAL', () => {
    const { backend, mm } = v2([1], null, 'strict');
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    backend.createWindow(mm, create(21, 64n * GiB, 2));
    backend.registerMemory(mm, reg(0x1_0000n, 4n * MiB)); // 64K-aligned only
    backend.registerMemory(mm, reg(0x100_0000n, 4n * MiB)); // 4M-aligned
    expect(failure(() => backend.map(mm, { flags: 3, vaddr: 0x20_0000n, iova: 0n, size: M2 })).message).toMatch(/smaller than the 2\^21/);
    backend.map(mm, { flags: 3, vaddr: 0x100_0000n, iova: 0n, size: 4n * MiB });
  });

  it('a range spanning two adjacent regions maps; references count per region', () => {
    const { backend, mm } = v2();
    backend.registerMemory(mm, reg(0n, MiB));
    backend.registerMemory(mm, reg(MiB, MiB));
    backend.map(mm, { flags: 2, vaddr: MiB - 8192n, iova: 0n, size: 16384n });
    expect(backend.preregistered.map((l) => l.mapped)).toEqual([2, 2]);
    expect(backend.windows[0]!.table.get(2)).toBe(MiB | 3n);
    // Replacing moves the references.
    backend.map(mm, { flags: 1, vaddr: 0n, iova: 0n, size: 16384n });
    expect(backend.preregistered.map((l) => l.mapped)).toEqual([4, 0]);
    expect(backend.preregistered.map((l) => l.region.mapped)).toEqual([4, 0]);
  });

  it('another process → EPERM for every ioctl but CHECK_EXTENSION', () => {
    const { backend, mm, other, container } = v2();
    backend.registerMemory(mm, reg(0n, MiB));
    const calls: (() => unknown)[] = [
      () => backend.getInfo(other),
      () => backend.map(other, { flags: 3, vaddr: 0n, iova: 0n, size: 4096n }),
      () => backend.unmap(other, { flags: 0, iova: 0n, size: 4096n }),
      () => backend.registerMemory(other, reg(MiB, MiB)),
      () => backend.unregisterMemory(other, reg(0n, MiB)),
      () => backend.createWindow(other, create(16, GiB)),
      () => backend.removeWindow(other, { flags: 0, start_addr: 0n }),
      () => backend.disable(other),
      () => backend.enable(other),
    ];
    expect(calls.map(errno)).toEqual(Array(calls.length).fill('EPERM'));
    expect(container.checkExtension(7)).toBe(1);
    expect(other.lockedPages).toBe(0);
  });

  it('TCE_CREATE and TCE_REMOVE bind the container too', () => {
    const a = v2();
    a.backend.createWindow(a.mm, create(16, GiB));
    expect(errno(() => a.backend.getInfo(a.other))).toBe('EPERM');
    const b = v2();
    b.backend.removeWindow(b.mm, { flags: 0, start_addr: 0n });
    expect(errno(() => b.backend.registerMemory(b.other, reg(0n, K64)))).toBe('EPERM');
  });
});

describe('hardware-table access for KVM', () => {
  it('writes and clears TCEs with preregistered-memory references', () => {
    const { backend, mm } = v2();
    backend.registerMemory(mm, reg(0n, MiB));
    backend.removeWindow(mm, { flags: 0, start_addr: 0n });
    backend.createWindow(mm, create(16, GiB));
    const t = backend.windows[0]!.table;
    expect(backend.hasWindow(t)).toBe(true);
    expect(backend.preregisteredRange(0x1_0000, 0x1_0000)).toBe(true);
    expect(backend.preregisteredRange(0xf_0000, 0x2_0000)).toBe(false);
    const tces = new Uint32Array([0x1_0003, 0, 0x2_0001, 0, 0x20_0003, 0]);
    expect(backend.writeTces(t, 10, tces, 3)).toBe(2); // third page not preregistered
    expect(t.get(10)).toBe(0x1_0003n);
    expect(t.get(12)).toBe(0n);
    expect(backend.preregistered[0]!.mapped).toBe(2);
    backend.clearTces(t, 0, 100);
    expect(backend.preregistered[0]!.mapped).toBe(0);
    expect(2n * tableSizeBytes(16, GiB, 1, 16)).toBe(BigInt(backend.windows[0]!.chargedPages) * K64);
  });
});
