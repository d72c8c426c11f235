/**
 * Transparent MSI on smmu groups: enabling MSI / MSI-X through SET_IRQS maps the ITS doorbell page
 * in the MSI window (one page per doorbell per domain, shared), the device's MSI write reaches the
 * doorbell through the IOMMU and is counted, a full window fails ENOSPC changing nothing, user
 * mappings cannot take the window, and the cookie goes with the last group.
 */
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/hw/topology.js';
import type { VfioDevice } from '../../src/vfio/device.js';
import type { GroupFile } from '../../src/vfio/group.js';
import { msiTargetOf } from '../../src/vfio/type1-msi.js';
import { MiB, errno, failure, world, type World } from './world.js';

const EVENTFD_TRIGGER = 4 | 32;
const MSI = 1;
const MSIX = 2;
const NONE_TRIGGER = 1 | 32;
const DOORBELL = 0x800_0005_0040n; // smmu0's ITS (base 0x80000040000) + GITS_TRANSLATER
const WINDOW = 0x800_0000n;

function device(file: GroupFile, address: string): VfioDevice {
  const dev = file.group.openDevice(file, address);
  dev.sink = () => undefined;
  return dev;
}

function enable(dev: VfioDevice, index: number, count: number, token = 10): void {
  dev.setIrqs({ flags: EVENTFD_TRIGGER, index, start: 0, count, data: Array.from({ length: count }, (_, i) => token + i) });
}

/** A PHB with a one-page (64K) MSI window and two ITSes: groups 7 and 8 target different doorbells. */
function tinyWindow(profile: 'linux' | 'strict' = 'linux'): World {
  return world({
    profile,
    topology: parseTopology({
      phbs: [{
        kind: 'smmu', name: 'tiny', sw_msi: { start: '0x8000000', size: '0x10000' }, its: ['0x8080000', '0x80a0000'],
        pes: [{ pe: 1, group: 7, devices: ['0002:01:00.0'], its: 0 }, { pe: 2, group: 8, devices: ['0002:02:00.0'], its: 1 }],
      }],
    }),
  });
}

describe('transparent MSI', () => {
  it('enabling MSI maps the doorbell page at the window base; the device writes base + doorbell offset', () => {
    const w = world();
    const { container, files } = w.setup([7], 3);
    const dev = device(files[0]!, '0002:01:00.0');
    const domain = w.host.peOfGroup(7)!.smmuDomain!;
    expect(domain.cookie!.pages).toEqual([]);
    enable(dev, MSI, 1);
    expect(domain.cookie!.pages).toEqual([{ phys: DOORBELL & ~0xffffn, iova: WINDOW, deliveries: 0 }]);
    expect(msiTargetOf(dev.device)).toBe(WINDOW + 0x40n);
    // What the device's MSI write reaches through the IOMMU: the doorbell, counted.
    expect(w.host.peOfGroup(7)!.translate(WINDOW + 0x40n, 'write').addr).toBe(DOORBELL);
    expect(domain.cookie!.pages[0]!.deliveries).toBe(1);
    expect(errno(() => w.host.peOfGroup(7)!.translate(WINDOW + 0x40n, 'read'))).toBe('EFAULT');
    // The device raising a vector: the message goes through the IOMMU and is delivered.
    expect(dev.device.fn.raise('msi', 0)).toBe(true);
    expect(domain.cookie!.pages[0]!.deliveries).toBe(2);
    // The user cannot map the window, not even next to the doorbell page.
    expect(errno(() => container.type1!.map(w.mm, { flags: 3, vaddr: 0n, iova: WINDOW + 0x1_0000n, size: 0x1_0000n }))).toBe('EINVAL');
  });

  it('one page per doorbell per domain: shared by vectors, devices, MSI and MSI-X, and re-enables', () => {
    const w = world();
    const { files } = w.setup([7, 8], 3);
    const a = device(files[0]!, '0002:01:00.0');
    const b = device(files[1]!, '0002:02:00.0');
    enable(a, MSI, 4);
    enable(b, MSIX, 16);
    a.setIrqs({ flags: NONE_TRIGGER, index: MSI, start: 0, count: 0, data: undefined }); // disable
    enable(a, MSIX, 2);
    const domain = w.host.peOfGroup(8)!.smmuDomain!;
    expect(w.host.peOfGroup(7)!.smmuDomain).toBe(domain);
    expect(domain.cookie!.pages).toHaveLength(1);
    expect([msiTargetOf(a.device), msiTargetOf(b.device)]).toEqual([WINDOW + 0x40n, WINDOW + 0x40n]);
    expect(domain.mappings.filter((m) => m.kind === 'msi')).toHaveLength(1);
  });

  it('a second doorbell takes the next page; the pages stay mapped until the last group leaves', () => {
    const w = tinyWindow();
    const { container, files } = w.setup([7, 8], 3);
    const a = device(files[0]!, '0002:01:00.0');
    enable(a, MSI, 1);
    const b = device(files[1]!, '0002:02:00.0');
    enable(b, MSI, 1);
    const domain = w.host.peOfGroup(7)!.smmuDomain!;
    // The window holds one 64K page: as in the kernel the cookie is not bounded by it, the second
    // doorbell page lands right after the window, in usable IOVA space...
    expect(domain.cookie!.pages.map((p) => [p.phys, p.iova])).toEqual([[0x809_0000n, WINDOW], [0x80b_0000n, WINDOW + 0x1_0000n]]);
    expect(w.host.peOfGroup(8)!.translate(WINDOW + 0x1_0040n, 'write').addr).toBe(0x80b_0040n);
    // ...where a user mapping now collides in the page table: EEXIST, nothing mapped or charged.
    const b1 = container.type1!;
    expect(failure(() => b1.map(w.mm, { flags: 3, vaddr: 0n, iova: WINDOW + 0x1_0000n, size: 0x1_0000n })).code).toBe('EEXIST');
    expect([b1.dmas.length, w.mm.lockedPages, b1.dmaAvail]).toEqual([0, 0, 65535]);
    b.close();
    files[1]!.close();
    expect(domain.cookie!.pages).toHaveLength(2); // MSI pages are never unmapped while the domain lives
    a.close();
    files[0]!.close();
    expect(w.host.peOfGroup(7)!.smmuDomain).toBeUndefined();
    expect(domain.cookie).toBeUndefined();
    expect(domain.mappings).toEqual([]);
  });

  it('window full and the next IOVA taken by guest RAM → ENOSPC at SET_IRQS; nothing changes', () => {
    const w = tinyWindow();
    const { container, files } = w.setup([7, 8], 3);
    const t1 = container.type1!;
    t1.map(w.mm, { flags: 3, vaddr: 0x1_0000_0000n, iova: 0n, size: WINDOW });
    t1.map(w.mm, { flags: 3, vaddr: 0x2_0000_0000n, iova: WINDOW + 0x1_0000n, size: 256n * MiB });
    enable(device(files[0]!, '0002:01:00.0'), MSI, 1);
    const b = device(files[1]!, '0002:02:00.0');
    const domain = w.host.peOfGroup(8)!.smmuDomain!;
    const before = { pages: domain.cookie!.pages.length, next: domain.cookie!.next, mappings: domain.mappings.length };
    expect(failure(() => enable(b, MSI, 1)).code).toBe('ENOSPC');
    expect(b.irqs.type).toBe('none');
    expect(b.device.fn.raise('msi', 0)).toBe(false);
    expect({ pages: domain.cookie!.pages.length, next: domain.cookie!.next, mappings: domain.mappings.length }).toEqual(before);
    expect(errno(() => enable(b, MSIX, 1))).toBe('ENOSPC');
    // Unmapping the guest RAM after the window frees the IOVA: now the doorbell page fits there.
    t1.unmap({ flags: 0, iova: WINDOW + 0x1_0000n, size: 256n * MiB });
    enable(b, MSI, 1);
    expect(msiTargetOf(b.device)).toBe(WINDOW + 0x1_0040n);
  });

  it('strict profile: a doorbell page that does not fit in the window is ENOSPC even when the IOVA after it is free', () => {
    const w = tinyWindow('strict');
    const { files } = w.setup([7, 8], 3);
    enable(device(files[0]!, '0002:01:00.0'), MSI, 1);
    const b = device(files[1]!, '0002:02:00.0');
    expect(failure(() => enable(b, MSI, 1)).code).toBe('ENOSPC');
    const cookie = w.host.peOfGroup(8)!.smmuDomain!.cookie!;
    expect([cookie.pages.length, cookie.next, cookie.end]).toEqual([1, WINDOW + 0x1_0000n, WINDOW + 0x1_0000n]);
    expect(b.irqs.type).toBe('none');
  });

  it('the MSI page lives in the domain of the device: another SMMU gets its own cookie and page', () => {
    const topo = parseTopology({
      phbs: [
        { kind: 'smmu', name: 's0', pes: [{ pe: 1, group: 7, devices: ['0002:01:00.0'] }] },
        { kind: 'smmu', name: 's1', its: ['0x9000000'], pes: [{ pe: 1, group: 9, devices: ['0003:01:00.0'] }] },
      ],
    });
    const w = world({ topology: topo });
    const { container, files } = w.setup([7, 9], 3);
    enable(device(files[1]!, '0003:01:00.0'), MSIX, 1);
    const [d0, d1] = container.type1!.domains;
    expect([d0!.cookie!.pages.length, d1!.cookie!.pages.length]).toEqual([0, 1]);
    expect(d1!.cookie!.pages[0]!.iova).toBe(WINDOW);
    expect(errno(() => w.host.peOfGroup(7)!.translate(WINDOW + 0x40n, 'write'))).toBe('EFAULT');
    expect(w.host.peOfGroup(9)!.translate(WINDOW + 0x40n, 'write').addr).toBe(0x901_0040n);
  });

  it('sPAPR devices need no doorbell mapping', () => {
    const w = world();
    const { files } = w.setup([2], 7);
    const dev = device(files[0]!, '0000:02:00.0');
    enable(dev, MSI, 1);
    expect(msiTargetOf(dev.device)).toBeUndefined();
    expect(dev.device.fn.raise('msi', 0)).toBe(true);
  });
});

describe('teardown in every order', () => {
  const permutations = <T>(xs: T[]): T[][] =>
    xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));

  it.each(permutations(['container', 'group7', 'group8', 'device']).map((p) => [p.join(' → '), p]))('%s leaves nothing behind', (_name, order) => {
    const w = world({ limit: 1n << 30n });
    const { container, files } = w.setup([7, 8], 3);
    container.type1!.map(w.mm, { flags: 3, vaddr: 0n, iova: 0n, size: 16n * MiB });
    const dev = device(files[1]!, '0002:02:00.0');
    enable(dev, MSIX, 4);
    const close: Record<string, () => void> = {
      container: () => container.close(),
      group7: () => files[0]!.close(),
      group8: () => files[1]!.close(),
      device: () => dev.close(),
    };
    for (const step of order as string[]) close[step]!();
    expect(w.mm.lockedPages).toBe(0);
    expect(w.vfio.containers.size).toBe(0);
    expect([7, 8].map((g) => w.host.peOfGroup(g)!.smmuDomain)).toEqual([undefined, undefined]);
    expect(dev.irqs.type).toBe('none');
    // Both groups can be taken again, from scratch.
    const again = w.setup([8, 7], 1);
    expect(again.container.type1!.dmaAvail).toBe(65535);
    expect(again.container.type1!.domains[0]!.cookie!.pages).toEqual([]);
  });
});
