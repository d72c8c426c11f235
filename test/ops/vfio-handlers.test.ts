/**
 * The VFIO ops in process, through the real handlers: handle resolution (EBADF / ENOTTY /
 * EBADFD in the kernel's order), IOMMU_TRANSLATE on group and device fds, and connection
 * teardown releasing everything.
 */
import { errno } from '../helpers/errors.js';
import { call, inProcessHost } from '../helpers/handlers.js';
import { describe, expect, it } from 'vitest';
import type { OpContext } from '../../src/ops/context.js';

const MiB = 1n << 20n;

const host = inProcessHost();
const connect = (memlockLimit?: bigint | null): OpContext => host.connect(memlockLimit);

describe('handle resolution', () => {
  it('GROUP_SET_CONTAINER: container fd not open → EBADF, group already set → EINVAL, not a container → EBADFD', () => {
    const ctx = connect();
    const container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
    const g1 = call(ctx, 'VFIO_GROUP_OPEN', { group: 1 }).fd;
    const g2 = call(ctx, 'VFIO_GROUP_OPEN', { group: 2 }).fd;
    expect(errno(() => call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g1, container: 99 }))).toBe('EBADF');
    expect(errno(() => call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g1, container: g2 }))).toBe('EBADFD');
    call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g1, container });
    expect(errno(() => call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g1, container: 99 }))).toBe('EBADF');
    expect(errno(() => call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g1, container: g2 }))).toBe('EINVAL');
    expect(errno(() => call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: container, container }))).toBe('ENOTTY');
    expect(errno(() => call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: 77, container }))).toBe('EBADF');
  });

  it('container ioctls on a group fd → ENOTTY; backend ioctls on an EMPTY container → EINVAL', () => {
    const ctx = connect();
    const container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
    const g = call(ctx, 'VFIO_GROUP_OPEN', { group: 3 }).fd;
    expect(errno(() => call(ctx, 'VFIO_CHECK_EXTENSION', { fd: g, extension: 7 }))).toBe('ENOTTY');
    expect(errno(() => call(ctx, 'VFIO_GROUP_GET_STATUS', { fd: container }))).toBe('ENOTTY');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', { fd: container }))).toBe('EINVAL');
    expect(errno(() => call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd: g, vaddr: 0n, iova: 0n, size: 0n }))).toBe('ENOTTY');
    expect(call(ctx, 'VFIO_GET_API_VERSION', { fd: container })).toEqual({ ret: 0 });
    expect(call(ctx, 'VFIO_CHECK_EXTENSION', { fd: container, extension: 2 })).toEqual({ ret: 1 });
    expect(call(ctx, 'VFIO_CHECK_EXTENSION', { fd: container, extension: 1 })).toEqual({ ret: 0 });
  });

  it('flags default to 0 when absent', () => {
    const ctx = connect();
    const container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
    const g = call(ctx, 'VFIO_GROUP_OPEN', { group: 4 }).fd;
    call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g, container });
    call(ctx, 'VFIO_SET_IOMMU', { fd: container, type: 7 });
    call(ctx, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: 0n, size: MiB });
    call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: 0n, iova: 0n, size: MiB });
    call(ctx, 'VFIO_IOMMU_UNMAP_DMA', { fd: container, iova: 0n, size: MiB });
    call(ctx, 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: container, vaddr: 0n, size: MiB });
    call(ctx, 'VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n });
    expect(call(ctx, 'VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: 1n << 32n, levels: 1 })).toEqual({ start_addr: 0n });
  });
});

describe('IOMMU_TRANSLATE', () => {
  it('through a group fd or a device fd; another kind of fd → ENOTTY; bad access → EINVAL', () => {
    const ctx = connect();
    const container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
    const g = call(ctx, 'VFIO_GROUP_OPEN', { group: 1 }).fd;
    call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g, container });
    call(ctx, 'VFIO_SET_IOMMU', { fd: container, type: 2 });
    const dev = call(ctx, 'VFIO_GROUP_GET_DEVICE_FD', { fd: g, name: '0000:01:00.1' }).fd;
    call(ctx, 'VFIO_IOMMU_ENABLE', { fd: container });
    call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd: container, flags: 1, vaddr: 0x7000_0000n, iova: 0x1000n, size: 0x1000n });
    expect(call(ctx, 'IOMMU_TRANSLATE', { fd: g, iova: 0x1010n, access: 'read' })).toEqual({ addr: 0x7000_0010n, page_size: 4096n });
    expect(call(ctx, 'IOMMU_TRANSLATE', { fd: dev, iova: 0x1010n, access: 'read' })).toEqual({ addr: 0x7000_0010n, page_size: 4096n });
    expect(errno(() => call(ctx, 'IOMMU_TRANSLATE', { fd: dev, iova: 0x1010n, access: 'write' }))).toBe('EFAULT');
    expect(errno(() => call(ctx, 'IOMMU_TRANSLATE', { fd: dev, iova: 0x1010n, access: 'exec' }))).toBe('EINVAL');
    expect(errno(() => call(ctx, 'IOMMU_TRANSLATE', { fd: container, iova: 0n, access: 'read' }))).toBe('ENOTTY');
    expect(errno(() => call(ctx, 'IOMMU_TRANSLATE', { fd: 50, iova: 0n, access: 'read' }))).toBe('EBADF');
    expect(host.system.host.peOfGroup(1)!.faults).toBeGreaterThanOrEqual(1);
  });
});

/**
 * Group 2 in a v2 container on `ctx` with a device fd open, 64 MiB preregistered at 0 and mapped
 * in a second (DDW) window at 1<<59, next to the pending default window.
 */
function mappedV2Group2(ctx: OpContext): { container: number; g: number } {
  const container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
  const g = call(ctx, 'VFIO_GROUP_OPEN', { group: 2 }).fd;
  call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: g, container });
  call(ctx, 'VFIO_SET_IOMMU', { fd: container, type: 7 });
  call(ctx, 'VFIO_GROUP_GET_DEVICE_FD', { fd: g, name: '0000:02:00.0' });
  call(ctx, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: 0n, size: 64n * MiB });
  call(ctx, 'VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: 16, window_size: 1n << 36n, levels: 2 });
  call(ctx, 'VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: 0n, iova: 1n << 59n, size: 64n * MiB });
  return { container, g };
}

describe('connection teardown', () => {
  it('a device fd keeps its group (and the group its container) alive', () => {
    const a = connect();
    const b = connect();
    const { container, g } = mappedV2Group2(a);
    expect(a.mm.lockedPages).toBeGreaterThan(1024);
    expect(errno(() => call(b, 'VFIO_GROUP_OPEN', { group: 2 }))).toBe('EBUSY');
    expect(errno(() => call(a, 'VFIO_GROUP_UNSET_CONTAINER', { fd: g }))).toBe('EBUSY');
    // Closing the group fd alone does not release: the device fd holds the group file.
    a.handles.close(g);
    expect(host.system.host.peOfGroup(2)!.windows.filter(Boolean).length).toBe(2);
    expect(errno(() => call(b, 'VFIO_GROUP_OPEN', { group: 2 }))).toBe('EBUSY');
    a.handles.close(container);
    expect(host.system.vfio.containers.size).toBe(1); // kept alive by the group
  });

  it('destroyOpContext leaves nothing behind', () => {
    const a = connect();
    mappedV2Group2(a);
    const pe = host.system.host.peOfGroup(2)!;
    expect(pe.windows.filter(Boolean).length).toBe(2);
    expect(host.disconnect(a)).toEqual([]);
    expect(a.mm.lockedPages).toBe(0);
    expect(a.mm.prereg.regions).toEqual([]);
    expect(pe.windows).toEqual([undefined, undefined]);
    expect(host.system.vfio.containers.size).toBe(0);
    const b = connect();
    const g2 = call(b, 'VFIO_GROUP_OPEN', { group: 2 }).fd;
    expect(call(b, 'VFIO_GROUP_GET_STATUS', { fd: g2 })).toEqual({ flags: 1 });
  });
});
