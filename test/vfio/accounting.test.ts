/** Section 5: locked-memory accounting to the byte: charges, refunds, ENOMEM with no trace. */
import { describe, expect, it } from 'vitest';
import { tableSizeBytes } from '../../src/hw/tce-table.js';
import { windowChargePages } from '../../src/vfio/dma-windows.js';
import { Mm } from '../../src/vfio/locked-memory.js';
import { GiB, MiB, TiB, V1, V2, errno, world } from './world.js';

const PAGE = 65536n;
const pages = (bytes: bigint) => Number(bytes / PAGE);

describe('Mm', () => {
  it('charges against the limit in host pages; ENOMEM changes nothing', () => {
    const mm = new Mm(10n * PAGE + 100n, 16); // a partial page does not count
    expect(mm.limitPages).toBe(10);
    mm.charge(6, 'a');
    expect(errno(() => mm.charge(5, 'b'))).toBe('ENOMEM');
    expect(mm.lockedPages).toBe(6);
    mm.charge(4, 'c');
    expect(mm.lockedBytes).toBe(10n * PAGE);
    mm.uncharge(10);
    expect(mm.lockedPages).toBe(0);
    const unlimited = new Mm(null, 16);
    unlimited.charge(2 ** 40, 'lots');
    expect(unlimited.limitPages).toBeNull();
  });

  it('the message names what needed the memory', () => {
    const mm = new Mm(0n, 16);
    expect(() => mm.charge(1, 'a window table')).toThrow(/a window table needs 1 pages, 0 of 0/);
  });
});

describe('v1', () => {
  it('ENABLE charges tce32_size / PAGE_SIZE; the first MAP also charges the default table (K3); DISABLE and release refund', () => {
    const w = world({ limit: 2n * GiB + 128n * PAGE });
    const { backend, files } = w.setup([1], V1);
    expect(backend.defaultWindowPending).toBe(true);
    backend.enable(w.mm);
    expect(w.mm.lockedPages).toBe(32768); // 2 GiB / 64 KiB
    backend.map(w.mm, { flags: 3, vaddr: 0n, iova: 0n, size: 256n * MiB }); // pages pre-accounted, table charged
    expect(w.mm.lockedPages).toBe(32768 + 128); // the 2 GiB 4K default table: 4 MiB, twice
    backend.disable(w.mm);
    expect(w.mm.lockedPages).toBe(128);
    backend.enable(w.mm);
    files[0]!.close();
    expect(w.mm.lockedPages).toBe(0);
  });

  it('under a limit with room for ENABLE alone, the first MAP is ENOMEM (the kernel charges both)', () => {
    const w = world({ limit: 2n * GiB + 127n * PAGE });
    const { backend } = w.setup([1], V1);
    backend.enable(w.mm);
    expect(errno(() => backend.map(w.mm, { flags: 3, vaddr: 0n, iova: 0n, size: 64n * 1024n }))).toBe('ENOMEM');
    expect(w.mm.lockedPages).toBe(32768);
    expect(backend.windows).toEqual([]);
    expect(backend.defaultWindowPending).toBe(true);
  });
});

describe('K1, K2: the kernel\'s table figures', () => {
  it('a window charges twice its worst-case table (hardware table + userspace view)', () => {
    expect(windowChargePages(12, GiB, 1, 16)).toBe(64); // 1 GiB of 4K pages: 2 MiB table, twice
    expect(windowChargePages(12, 2n * GiB, 1, 16)).toBe(128); // the default window
    expect(windowChargePages(16, TiB, 2, 16)).toBe(2 * 2049);
    expect(windowChargePages(16, 256n * MiB, 1, 16)).toBe(2); // one 64K block per copy
  });

  it('TCE_CREATE of 256 MiB with 64K pages covers 512 MiB: one host page of TCEs (8192 entries)', () => {
    const w = world({ limit: null });
    const { backend } = w.setup([1], V2);
    backend.registerMemory(w.mm, { flags: 0, vaddr: 0n, size: GiB });
    backend.removeWindow(w.mm, { flags: 0, start_addr: 0n }); // cancel the pending default window
    const before = w.mm.lockedPages;
    const start = backend.createWindow(w.mm, { flags: 0, page_shift: 16, window_size: 256n * MiB, levels: 1 });
    expect(start).toBe(0n); // slot 0, freed by the cancel
    const win = backend.windows.find((x) => x.slot === 0)!;
    expect(win.table.entries).toBe(8192);
    expect(win.table.busEnd - win.table.busStart).toBe(512n * MiB);
    expect(w.mm.lockedPages - before).toBe(2);
    // The part beyond the requested 256 MiB maps like any other.
    expect(backend.map(w.mm, { flags: 3, vaddr: 0n, iova: start + 500n * MiB, size: 64n * 1024n })).toBe(0);
    expect(win.table.get(8000)).toBe(3n);
    expect(errno(() => backend.map(w.mm, { flags: 3, vaddr: 0n, iova: start + 512n * MiB, size: 64n * 1024n }))).toBe('ENXIO');
  });
});

describe('v2', () => {
  it('window tables charge the worst-case table size (lazy default included); removal and release refund', () => {
    const w = world({ limit: null });
    const { backend, files } = w.setup([1, 2], V2);
    backend.registerMemory(w.mm, { flags: 0, vaddr: 0n, size: 256n * MiB });
    expect(w.mm.lockedBytes).toBe(256n * MiB);
    backend.map(w.mm, { flags: 3, vaddr: 0n, iova: 0n, size: 64n * 1024n }); // materialises the default window
    const def = 2n * tableSizeBytes(12, 2n * GiB, 1, 16);
    expect(def).toBe(8n * MiB); // K1: 128 pages
    expect(w.mm.lockedBytes).toBe(256n * MiB + def);
    backend.createWindow(w.mm, { flags: 0, page_shift: 16, window_size: TiB, levels: 2 });
    const big = 2n * tableSizeBytes(16, TiB, 2, 16);
    expect(big).toBe(2n * (2n ** 11n + 1n) * PAGE); // 2^24 entries, 8192 per 64K block: 2048 leaves + top, twice
    expect(w.mm.lockedBytes).toBe(256n * MiB + def + big);
    // Lazily allocated levels do not change the charge.
    backend.map(w.mm, { flags: 3, vaddr: 0n, iova: 1n << 59n, size: 256n * MiB });
    expect(w.mm.lockedBytes).toBe(256n * MiB + def + big);
    backend.removeWindow(w.mm, { flags: 0, start_addr: 0n });
    expect(w.mm.lockedBytes).toBe(256n * MiB + big);
    files[0]!.close();
    files[1]!.close();
    expect(w.mm.lockedPages).toBe(0);
  });

  it('ENOMEM at the limit leaves no trace; exactly at the limit succeeds', () => {
    const size = 2n * tableSizeBytes(16, 64n * GiB, 2, 16);
    const w = world({ limit: size - 1n });
    const s = w.setup([1], V2);
    s.backend.removeWindow(w.mm, { flags: 0, start_addr: 0n });
    expect(errno(() => s.backend.createWindow(w.mm, { flags: 0, page_shift: 16, window_size: 64n * GiB, levels: 2 }))).toBe('ENOMEM');
    expect(w.mm.lockedPages).toBe(0);
    expect(s.backend.windows).toEqual([]);
    const ok = world({ limit: size });
    const t = ok.setup([1], V2);
    t.backend.removeWindow(ok.mm, { flags: 0, start_addr: 0n });
    t.backend.createWindow(ok.mm, { flags: 0, page_shift: 16, window_size: 64n * GiB, levels: 2 });
    expect(ok.mm.lockedBytes).toBe(size);
  });

  it('preregistration: size / PAGE_SIZE once per distinct region per process, shared by its containers', () => {
    const w = world();
    const a = w.setup([1], V2).backend;
    const b = w.setup([2], V2).backend;
    a.registerMemory(w.mm, { flags: 0, vaddr: 0n, size: GiB });
    b.registerMemory(w.mm, { flags: 0, vaddr: 0n, size: GiB });
    expect(w.mm.lockedPages).toBe(pages(GiB));
    expect(w.mm.prereg.regions[0]!.users).toBe(2);
    a.unregisterMemory(w.mm, { flags: 0, vaddr: 0n, size: GiB });
    expect(w.mm.lockedPages).toBe(pages(GiB));
    b.unregisterMemory(w.mm, { flags: 0, vaddr: 0n, size: GiB });
    expect(w.mm.lockedPages).toBe(0);
    // Another process registering the same addresses is accounted to itself.
    const c = w.setup([3], V2).backend;
    c.registerMemory(w.other, { flags: 0, vaddr: 0n, size: GiB });
    expect([w.mm.lockedPages, w.other.lockedPages]).toEqual([0, pages(GiB)]);
  });

  it('a shared region stays while another container maps through it; release of one container keeps the other intact', () => {
    const w = world();
    const s1 = w.setup([1], V2);
    const s2 = w.setup([2], V2);
    for (const s of [s1, s2]) {
      s.backend.registerMemory(w.mm, { flags: 0, vaddr: 0n, size: 16n * MiB });
      s.backend.map(w.mm, { flags: 3, vaddr: 0n, iova: 0n, size: 16n * MiB });
    }
    expect(w.mm.prereg.regions[0]!.mapped).toBe(2 * 4096);
    expect(w.mm.lockedPages).toBe(256 + 128 + 128);
    s1.files[0]!.close();
    expect(w.mm.prereg.regions[0]!.mapped).toBe(4096);
    expect(w.mm.prereg.regions[0]!.users).toBe(1);
    expect(w.mm.lockedPages).toBe(256 + 128);
    expect(w.host.peOfGroup(2)!.translate(0x5008n, 'read').addr).toBe(0x5008n);
    s2.files[0]!.close();
    expect(w.mm.lockedPages).toBe(0);
    expect(w.mm.prereg.regions).toEqual([]);
  });
});
