/** Section 5: locked-memory accounting to the byte: charges, refunds, ENOMEM with no trace. */
import { describe, expect, it } from 'vitest';
import { tableSizeBytes } from '../../src/hw/tce-table.js';
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
  it('ENABLE charges tce32_size / PAGE_SIZE; DISABLE and release refund it', () => {
    const w = world({ limit: 2n * GiB });
    const { backend, files } = w.setup([1], V1);
    backend.enable(w.mm);
    expect(w.mm.lockedBytes).toBe(2n * GiB);
    backend.map(w.mm, { flags: 3, vaddr: 0n, iova: 0n, size: 256n * MiB }); // pre-accounted: no charge
    expect(w.mm.lockedBytes).toBe(2n * GiB);
    backend.disable(w.mm);
    expect(w.mm.lockedPages).toBe(0);
    backend.enable(w.mm);
    files[0]!.close();
    expect(w.mm.lockedPages).toBe(0);
  });
});

describe('v2', () => {
  it('window tables charge the worst-case table size (lazy default included); removal and release refund', () => {
    const w = world({ limit: null });
    const { backend, files } = w.setup([1, 2], V2);
    backend.registerMemory(w.mm, { flags: 0, vaddr: 0n, size: 256n * MiB });
    expect(w.mm.lockedBytes).toBe(256n * MiB);
    backend.map(w.mm, { flags: 3, vaddr: 0n, iova: 0n, size: 64n * 1024n }); // materialises the default window
    const def = tableSizeBytes(12, 2n * GiB, 1, 16);
    expect(def).toBe(4n * MiB);
    expect(w.mm.lockedBytes).toBe(256n * MiB + def);
    backend.createWindow(w.mm, { flags: 0, page_shift: 16, window_size: TiB, levels: 2 });
    const big = tableSizeBytes(16, TiB, 2, 16);
    expect(big).toBe((2n ** 11n + 1n) * PAGE); // 2^24 entries, 8192 per 64K block: 2048 leaves + top
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
    const size = tableSizeBytes(16, 64n * GiB, 2, 16);
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
    expect(w.mm.lockedPages).toBe(256 + 64 + 64);
    s1.files[0]!.close();
    expect(w.mm.prereg.regions[0]!.mapped).toBe(4096);
    expect(w.mm.prereg.regions[0]!.users).toBe(1);
    expect(w.mm.lockedPages).toBe(256 + 64);
    expect(w.host.peOfGroup(2)!.translate(0x5008n, 'read').addr).toBe(0x5008n);
    s2.files[0]!.close();
    expect(w.mm.lockedPages).toBe(0);
    expect(w.mm.prereg.regions).toEqual([]);
  });
});
