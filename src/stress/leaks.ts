/**
 * The leak check after a stress run: every group can be opened again, and locked memory is back to
 * what it was before. Without a HOST_STATE op this probes with ordinary ops: it opens each group
 * (EBUSY = still held), and measures the largest preregistration a fresh client gets (binary
 * search over REGISTER_MEMORY, which only accounts): less than at baseline = locked memory was
 * not returned. A HOST_STATE-based probe can implement the same interface.
 */
import type { Client } from '../../clients/ts/index.js';
import { isVphbError } from '../../clients/ts/index.js';

export interface HostSnapshot {
  /** Groups a fresh client could not open. */
  heldGroups: number[];
  /** Bytes a fresh client could lock (bounded by its own limit and the server-wide cap). */
  lockableBytes: bigint;
}

export interface LeakProbe {
  snapshot(): Promise<HostSnapshot>;
}

const UA = 1n << 44n;
const TOP = 1n << 42n; // 4 TiB: above any sensible limit

export class OpsLeakProbe implements LeakProbe {
  readonly #connect: () => Promise<Client>;

  constructor(connect: () => Promise<Client>) {
    this.#connect = connect;
  }

  async snapshot(): Promise<HostSnapshot> {
    const c = await this.#connect();
    try {
      const topo = await c.topology();
      const page = 1n << BigInt(topo.host_page_shift);
      const heldGroups: number[] = [];
      let v2Group: number | undefined;
      const fds: number[] = [];
      for (const phb of topo.phbs) {
        for (const g of phb.groups) {
          try {
            fds.push((await c.call('VFIO_GROUP_OPEN', { group: g.group })).fd);
            if (v2Group === undefined && phb.max_dynamic_windows > 0) v2Group = fds.at(-1);
          } catch (e) {
            if (isVphbError(e) && e.code === 'EBUSY') heldGroups.push(g.group);
            else throw e;
          }
        }
      }
      let lockableBytes = 0n;
      if (v2Group !== undefined) {
        const container = (await c.call('VFIO_OPEN_CONTAINER', {})).fd;
        await c.call('VFIO_GROUP_SET_CONTAINER', { fd: v2Group, container });
        await c.call('VFIO_SET_IOMMU', { fd: container, type: 7 });
        // Largest n (pages) with REGISTER_MEMORY(n pages) accepted.
        let lo = 0n;
        let hi = TOP / page;
        while (lo < hi) {
          const mid = (lo + hi + 1n) / 2n;
          try {
            await c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size: mid * page });
            await c.call('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: container, vaddr: UA, size: mid * page });
            lo = mid;
          } catch (e) {
            if (!isVphbError(e) || e.code !== 'ENOMEM') throw e;
            hi = mid - 1n;
          }
        }
        lockableBytes = lo * page;
      }
      return { heldGroups, lockableBytes };
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

/** What differs between a baseline and a later snapshot, as leak descriptions. */
export function compareSnapshots(before: HostSnapshot, after: HostSnapshot): string[] {
  const leaks: string[] = [];
  const newlyHeld = after.heldGroups.filter((g) => !before.heldGroups.includes(g));
  if (newlyHeld.length > 0) leaks.push(`group(s) ${newlyHeld.join(', ')} still held`);
  if (after.lockableBytes < before.lockableBytes) {
    leaks.push(`${before.lockableBytes - after.lockableBytes} bytes of locked memory not returned`);
  }
  return leaks;
}
