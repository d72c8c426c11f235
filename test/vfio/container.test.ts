/** Section 4: container lifecycle, groups, SET_IOMMU and the backend's attach_group, in check order. */
import { describe, expect, it } from 'vitest';
import { SpaprTceBackend } from '../../src/vfio/spapr-tce.js';
import { GiB, MiB, V1, V2, errno, failure, mixedTopology, world } from './world.js';

describe('container EMPTY', () => {
  it('CHECK_EXTENSION asks every backend: SPAPR_TCE 2, SPAPR_TCE_v2 7 and VFIO_EEH 5 (K15) are supported', () => {
    const { vfio, setup } = world();
    const c = vfio.openContainer();
    expect([1, 2, 3, 4, 5, 7, 8, 9].map((e) => c.checkExtension(e))).toEqual([0, 1, 0, 0, 1, 1, 0, 0]);
    for (const type of [V1, V2]) {
      const { container } = setup([type === V1 ? 1 : 2], type);
      expect([1, 2, 3, 4, 5, 7, 8, 9].map((e) => container.checkExtension(e))).toEqual([0, 1, 0, 0, 1, 1, 0, 0]);
    }
    expect(c.apiVersion()).toBe(0);
    expect(c.state).toBe('EMPTY');
  });

  it('SET_IOMMU without a group is EINVAL; backend ioctls are EINVAL', () => {
    const { vfio } = world();
    const c = vfio.openContainer();
    expect(errno(() => c.setIommu(V2))).toBe('EINVAL');
    // "no group" wins over "no backend claims the type"
    expect(errno(() => c.setIommu(1))).toBe('EINVAL');
    expect(errno(() => c.backendFor('VFIO_IOMMU_MAP_DMA'))).toBe('EINVAL');
  });
});

describe('SET_IOMMU', () => {
  it('already set → EINVAL (before the type is looked at)', () => {
    const { setup } = world();
    const { container } = setup([1], V2);
    expect(container.state).toBe('ACTIVE');
    expect(errno(() => container.setIommu(V2))).toBe('EINVAL');
    expect(errno(() => container.setIommu(99))).toBe('EINVAL');
  });

  it('a type no backend provides → ENODEV; type1 on a sPAPR group → EOPNOTSUPP (no paging domain)', () => {
    const { setup } = world();
    const { container } = setup([1]);
    expect(errno(() => container.setIommu(8))).toBe('ENODEV');
    expect(errno(() => container.setIommu(1))).toBe('EOPNOTSUPP');
    expect(errno(() => container.setIommu(3))).toBe('EOPNOTSUPP');
    expect(container.state).toBe('EMPTY');
  });

  it('VFIO_EEH (5) is claimed as an extension but is no IOMMU type → EINVAL (K15), nothing attached', () => {
    const { setup } = world();
    const { container, files } = setup([1]);
    expect(failure(() => container.setIommu(5)).message).toMatch(/not sPAPR TCE/);
    expect(errno(() => container.setIommu(5))).toBe('EINVAL');
    expect(container.state).toBe('EMPTY');
    container.setIommu(V2);
    expect(files[0]!.group.container).toBe(container);
  });

  it('attaches every group; any failure unwinds all and returns that error', () => {
    const { setup } = world();
    const { container, files } = setup([1, 2]);
    // v1 takes exactly one group: the second attach fails EBUSY, the first is undone.
    expect(errno(() => container.setIommu(V1))).toBe('EBUSY');
    expect(container.state).toBe('EMPTY');
    expect(container.groups.length).toBe(2);
    expect(files.every((f) => f.group.statusFlags === 3)).toBe(true);
    // v2 works for both.
    container.setIommu(V2);
    expect(container.backend!.pes.map((pe) => pe.group)).toEqual([1, 2]);
  });

  it('the backend instance refuses a type that is not sPAPR (EINVAL)', () => {
    expect(() => new SpaprTceBackend(1)).toThrow(/not sPAPR/);
  });

  it('with a backend set, CHECK_EXTENSION is the backend answer', () => {
    const { setup } = world();
    const { container } = setup([1], V1);
    expect(container.checkExtension(7)).toBe(1);
    expect(container.checkExtension(1)).toBe(0);
  });
});

describe('attach_group (SET_IOMMU or SET_CONTAINER on an ACTIVE container), in order', () => {
  it('v2 on a PHB without DDW → EINVAL', () => {
    const { setup } = world({ topology: mixedTopology() });
    const { container } = setup([7]);
    expect(errno(() => container.setIommu(V2))).toBe('EINVAL');
    container.setIommu(V1); // v1 is fine there
  });

  it('v1 with a group already → EBUSY (wins over a table-ops mismatch)', () => {
    const w = world({ topology: mixedTopology() });
    const { container } = w.setup([1], V1);
    const g8 = w.vfio.openGroup(8).group; // ioda1 with DDW
    expect(failure(() => g8.setContainer(container)).message).toMatch(/exactly one group/);
    expect(container.groups.length).toBe(1);
    expect(g8.container).toBeUndefined();
  });

  it('v2 without DDW wins over a table-ops mismatch (EINVAL before EPERM)', () => {
    const w = world({ topology: mixedTopology() });
    const { container } = w.setup([1], V2);
    const g7 = w.vfio.openGroup(7).group;
    expect(errno(() => g7.setContainer(container))).toBe('EINVAL');
  });

  it('the same PE twice → EBUSY', () => {
    const w = world();
    const b = new SpaprTceBackend(V2);
    const pe = w.host.peOfGroup(1)!;
    b.attachPe(pe);
    expect(errno(() => b.attachPe(pe))).toBe('EBUSY');
  });

  it('different PHB table programming → EPERM, at SET_IOMMU and at SET_CONTAINER', () => {
    const w = world({ topology: mixedTopology() });
    const { container } = w.setup([1, 8]);
    expect(errno(() => container.setIommu(V2))).toBe('EPERM');
    expect(container.state).toBe('EMPTY');
    const c2 = w.setup([2], V2).container;
    const g8 = w.vfio.group(8);
    g8.unsetContainer();
    expect(errno(() => g8.setContainer(c2))).toBe('EPERM');
    // POWER8 and POWER9 are both IODA2: they mix.
    w.vfio.openGroup(5).group.setContainer(c2);
    expect(c2.groups.length).toBe(2);
  });

  it('the host still using the PE (ownership cannot be taken) → EBUSY, after the type checks', () => {
    const w = world({ topology: mixedTopology() });
    w.host.peOfGroup(2)!.hostDmaActive = true;
    const { container } = w.setup([1], V2);
    expect(failure(() => w.vfio.openGroup(2).group.setContainer(container)).message).toMatch(/host still has DMA/);
    w.host.peOfGroup(8)!.hostDmaActive = true;
    expect(errno(() => w.vfio.openGroup(8).group.setContainer(container))).toBe('EPERM');
  });

  it('existing windows are programmed into a group attached later; a failure there changes nothing', () => {
    const w = world();
    const { container, backend } = w.setup([1], V2);
    backend.removeWindow(w.mm, { flags: 0, start_addr: 0n });
    const start = backend.createWindow(w.mm, { flags: 0, page_shift: 16, window_size: GiB, levels: 1 });
    const start2 = backend.createWindow(w.mm, { flags: 0, page_shift: 21, window_size: 64n * GiB, levels: 2 });
    expect([start, start2]).toEqual([0n, 1n << 59n]);
    const g2 = w.vfio.openGroup(2).group;
    const pe2 = g2.pe;
    // Slot 0 programs, slot 1 fails: slot 0 must be unprogrammed again.
    const orig = pe2.program.bind(pe2);
    let calls = 0;
    pe2.program = (slot, table) => {
      if (++calls === 2) pe2.failNextProgram = 'EIO';
      orig(slot, table);
    };
    expect(errno(() => g2.setContainer(container))).toBe('EIO');
    expect(calls).toBe(2);
    expect(pe2.windows).toEqual([undefined, undefined]);
    expect(g2.container).toBeUndefined();
    expect(container.groups.length).toBe(1);
    pe2.program = orig;
    g2.setContainer(container);
    expect(pe2.windows[0]!.pageShift).toBe(16);
    expect(pe2.windows[1]!.pageShift).toBe(21);
    expect(pe2.windows[0]).toBe(w.host.peOfGroup(1)!.windows[0]); // one shared table
  });

  it('the first group with no window in slot 0 makes the default window pending', () => {
    const w = world();
    const { backend } = w.setup([1, 2], V2);
    expect(backend.defaultWindowPending).toBe(true);
    expect(backend.windows).toEqual([]);
  });
});

describe('groups', () => {
  it('open: unknown group → ENOENT; a group already open → EBUSY', () => {
    const w = world();
    expect(errno(() => w.vfio.openGroup(42))).toBe('ENOENT');
    const f = w.vfio.openGroup(3);
    expect(errno(() => w.vfio.openGroup(3))).toBe('EBUSY');
    f.close();
    w.vfio.openGroup(3);
  });

  it('GET_STATUS: VIABLE 1 | CONTAINER_SET 2', () => {
    const w = world();
    const g = w.vfio.openGroup(1).group;
    expect(g.statusFlags).toBe(1);
    g.setContainer(w.vfio.openContainer());
    expect(g.statusFlags).toBe(3);
  });

  it('SET_CONTAINER: already in a container → EINVAL', () => {
    const w = world();
    const g = w.vfio.openGroup(1).group;
    const c = w.vfio.openContainer();
    g.setContainer(c);
    expect(errno(() => g.setContainer(c))).toBe('EINVAL');
    expect(errno(() => g.setContainer(w.vfio.openContainer()))).toBe('EINVAL');
  });

  it('UNSET_CONTAINER: none → EINVAL; device fds open → EBUSY', () => {
    const w = world();
    const { files } = w.setup([1], V2);
    const g = files[0]!.group;
    const dev = g.openDevice(files[0]!, '0000:01:00.1');
    expect(g.openDevices).toBe(1);
    expect(errno(() => g.unsetContainer())).toBe('EBUSY');
    dev.close();
    g.unsetContainer();
    expect(errno(() => g.unsetContainer())).toBe('EINVAL');
  });

  it('GET_DEVICE_FD: unknown device → ENODEV (first), no container/backend → EINVAL', () => {
    const w = world();
    const f = w.vfio.openGroup(1);
    expect(errno(() => f.group.openDevice(f, '0000:02:00.0'))).toBe('ENODEV');
    expect(errno(() => f.group.openDevice(f, '0000:01:00.0'))).toBe('EINVAL');
    const c = w.vfio.openContainer();
    f.group.setContainer(c);
    expect(errno(() => f.group.openDevice(f, '0000:01:00.0'))).toBe('EINVAL');
    c.setIommu(V2);
    const d = f.group.openDevice(f, '0000:01:00.0');
    expect(d.device.pe.group).toBe(1);
    expect(f.refs).toBe(2);
  });

  it('the group file is refcounted: device fds and other holders keep the group in its container', () => {
    const w = world();
    const { container, files } = w.setup([1], V2);
    const f = files[0]!;
    const dev = f.group.openDevice(f, '0000:01:00.0');
    const kvmRef = f.get(); // e.g. KVM's VFIO device
    f.close(); // the client's fd
    expect(f.refs).toBe(2);
    expect(f.group.container).toBe(container);
    expect(errno(() => w.vfio.openGroup(1))).toBe('EBUSY');
    dev.close();
    expect(f.group.container).toBe(container);
    kvmRef.put();
    expect(f.released).toBe(true);
    expect(f.group.container).toBeUndefined();
    expect(container.state).toBe('EMPTY');
    expect(errno(() => f.put())).toBe('EBADF');
    expect(errno(() => f.get())).toBe('EBADF');
    w.vfio.openGroup(1);
  });
});

describe('release', () => {
  it('the last group detach releases the backend: windows, preregistration, accounting', () => {
    const w = world({ limit: 1n << 40n });
    const { container, files, backend } = w.setup([1, 2], V2);
    backend.registerMemory(w.mm, { flags: 0, vaddr: 0x1000_0000n, size: 64n * MiB });
    backend.map(w.mm, { flags: 3, vaddr: 0x1000_0000n, iova: 0n, size: 64n * MiB }); // default window
    backend.createWindow(w.mm, { flags: 0, page_shift: 16, window_size: 4n * GiB, levels: 2 });
    backend.map(w.mm, { flags: 1, vaddr: 0x1000_0000n, iova: 1n << 59n, size: 1n * MiB });
    expect(w.mm.lockedPages).toBeGreaterThan(0);
    const pe1 = w.host.peOfGroup(1)!;
    const pe2 = w.host.peOfGroup(2)!;
    const tables = backend.windows.map((x) => x.table);
    files[0]!.group.unsetContainer();
    expect(pe1.windows).toEqual([undefined, undefined]);
    expect(pe2.windows.filter(Boolean).length).toBe(2);
    expect(container.state).toBe('ACTIVE');
    files[1]!.close(); // last reference: detaches
    expect(container.state).toBe('EMPTY');
    expect(pe2.windows).toEqual([undefined, undefined]);
    expect(tables.every((t) => t.freed)).toBe(true);
    expect(backend.windows).toEqual([]);
    expect(backend.preregistered).toEqual([]);
    expect(w.mm.prereg.regions).toEqual([]);
    expect(w.mm.lockedPages).toBe(0);
    expect(errno(() => container.backendFor('MAP'))).toBe('EINVAL');
    // EMPTY again: a new SET_IOMMU may pick another type.
    files[0]!.group.setContainer(container);
    container.setIommu(V1);
  });

  it('K6: a group leaving clears every TCE of every container table: the other groups lose their mappings, UNREGISTER then succeeds', () => {
    for (const profile of ['linux', 'strict'] as const) {
      const w = world({ profile });
      const { files, backend } = w.setup([1, 2], V2);
      backend.registerMemory(w.mm, { flags: 0, vaddr: 0x1000_0000n, size: 16n * MiB });
      backend.map(w.mm, { flags: 3, vaddr: 0x1000_0000n, iova: 0n, size: 16n * MiB });
      backend.createWindow(w.mm, { flags: 0, page_shift: 16, window_size: 4n * GiB, levels: 2 });
      backend.map(w.mm, { flags: 3, vaddr: 0x1000_0000n, iova: 1n << 59n, size: MiB });
      const pe2 = w.host.peOfGroup(2)!;
      expect(pe2.translate(0x2008n, 'read').addr).toBe(0x1000_2008n);
      expect(w.mm.prereg.regions[0]!.mapped).toBe(4096 + 16);
      files[0]!.group.unsetContainer();
      expect(backend.windows.length).toBe(2); // the tables persist, programmed into group 2
      expect(pe2.windows.filter(Boolean).length).toBe(2);
      expect(failure(() => pe2.translate(0x2008n, 'read')).message).toMatch(/invalid TCE/);
      pe2.eeh.thawDma(); // the rejected DMA froze the PE (EEH)
      expect(failure(() => pe2.translate((1n << 59n) + 8n, 'read')).message).toMatch(/invalid TCE/);
      expect(w.mm.prereg.regions[0]!.mapped).toBe(0);
      backend.unregisterMemory(w.mm, { flags: 0, vaddr: 0x1000_0000n, size: 16n * MiB });
      expect(w.mm.prereg.regions).toEqual([]);
      files[1]!.close();
    }
  });

  it('groups keep a closed container alive; it goes away with its last group', () => {
    const w = world();
    const { container, files } = w.setup([1, 2], V2);
    container.close();
    expect(w.vfio.containers.has(container)).toBe(true);
    files[0]!.close();
    expect(w.vfio.containers.has(container)).toBe(true);
    files[1]!.close();
    expect(w.vfio.containers.has(container)).toBe(false);
    const c2 = w.vfio.openContainer();
    c2.close();
    expect(w.vfio.containers.size).toBe(0);
  });
});
