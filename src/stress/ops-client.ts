/**
 * One stress client: random valid op sequences over every op family, each reply checked against
 * the reference model (handle numbers, group ownership, translations, table contents, echo data).
 * Expected failures (EBUSY for a group held elsewhere, ENOMEM at a memory limit) are counted by
 * errno, not as divergences.
 */
import { Client, isVphbError, type PhbInfo } from '../../clients/ts/index.js';
import { diverged, emptyReport, noteErrno, type StressReport } from './report.js';
import { HandleModel, Ownership, prng } from './reference.js';

export interface OpsClientOptions {
  id: number;
  connect: () => Promise<Client>;
  seed: number;
  deadline: number;
  /** Shared with the other clients of this process; undefined when they live elsewhere. */
  ownership: Ownership | undefined;
  /** Called once connected and busy (the fault mode kills the process from then on). */
  onReady?: () => void;
}

const UA = 1n << 40n;
const GPA_SIZE = 1n << 30n;

class Diverged extends Error {}

export async function runOpsClient(o: OpsClientOptions): Promise<StressReport> {
  const r = emptyReport('ops', 1);
  const rnd = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const c = await o.connect();
  const handles = new HandleModel();
  const topo = await c.topology();
  r.ops++;
  o.onReady?.();
  const pageShift = BigInt(topo.host_page_shift);
  const groups = topo.phbs.flatMap((phb) => phb.groups.map((g) => ({ phb, group: g.group, devices: g.devices })));

  function check(cond: boolean, what: string): void {
    if (!cond) throw new Diverged(what);
  }

  /** One call; `expect` lists the errnos that are legitimate answers here. */
  async function call<T>(op: string, fn: () => Promise<T>, expect: readonly string[] = []): Promise<T | undefined> {
    r.ops++;
    try {
      return await fn();
    } catch (e) {
      if (!isVphbError(e)) throw e;
      noteErrno(r, e.code);
      if (!expect.includes(e.code)) throw new Diverged(`${op}: unexpected ${e.code} (${e.message})`);
      return undefined;
    }
  }

  async function newFd(op: string, kind: string, fn: () => Promise<{ fd?: number | undefined }>, expect: readonly string[] = []): Promise<number | undefined> {
    const want = handles.nextFd();
    const reply = await call(op, fn, expect);
    if (reply === undefined) return undefined;
    check(reply.fd === want, `${op}: got fd ${reply.fd}, the lowest free is ${want}`);
    handles.add(want, kind);
    return want;
  }

  async function close(fd: number): Promise<void> {
    await call('CLOSE', () => c.close(fd));
    handles.remove(fd);
  }

  // ---- scenarios ---------------------------------------------------------------------------------

  async function basics(): Promise<void> {
    const data = new Uint8Array(Math.floor(rnd() * 64)).map(() => Math.floor(rnd() * 256));
    const p = await call('PING', () => c.ping(data));
    check(Buffer.from(p!.data ?? new Uint8Array()).equals(Buffer.from(data)), 'PING: echo differs');
    const bad = handles.closedFd(rnd);
    const res = await call('CLOSE', () => c.close(bad), ['EBADF']);
    check(res === undefined, `CLOSE of fd ${bad}, which is not open, succeeded`);
  }

  async function vfio(): Promise<void> {
    const g = pick(groups);
    const container = await newFd('VFIO_OPEN_CONTAINER', 'container', () => c.call('VFIO_OPEN_CONTAINER', {}));
    // Clients of other processes are unknown: for them any group may be busy.
    const expect = o.ownership?.expectOpen(g.group) ?? 'either';
    if (expect === 'ok') o.ownership?.claim(g.group, o.id);
    if (expect === 'either') o.ownership?.uncertainOpen(g.group);
    let groupFd: number | undefined;
    try {
      groupFd = await newFd('VFIO_GROUP_OPEN', 'group', () => c.call('VFIO_GROUP_OPEN', { group: g.group }),
        expect === 'ok' ? [] : ['EBUSY']);
    } finally {
      if (expect === 'either') o.ownership?.settled(g.group, groupFd !== undefined, o.id);
    }
    if (groupFd === undefined) {
      await close(container!);
      return;
    }
    check(expect !== 'EBUSY', `VFIO_GROUP_OPEN ${g.group}: opened while another client holds it`);
    try {
      await call('VFIO_GROUP_SET_CONTAINER', () => c.call('VFIO_GROUP_SET_CONTAINER', { fd: groupFd, container: container! }));
      const smmu = g.phb.kind === 'smmu';
      const v2 = !smmu && g.phb.max_dynamic_windows > 0;
      // VFIO_TYPE1v2_IOMMU on an SMMU's groups; SPAPR_TCE_v2 (or v1 without DDW) on a PHB's.
      await call('VFIO_SET_IOMMU', () => c.call('VFIO_SET_IOMMU', { fd: container!, type: smmu ? 3 : v2 ? 7 : 2 }));
      let device: number | undefined;
      if (rnd() < 0.5) {
        device = await newFd('VFIO_GROUP_GET_DEVICE_FD', 'device', () => c.call('VFIO_GROUP_GET_DEVICE_FD', { fd: groupFd, name: pick(g.devices) }));
      }
      if (v2) await dma(container!, groupFd, g.phb);
      if (smmu) await type1Dma(container!, groupFd);
      if (device !== undefined) await close(device);
    } finally {
      // Teardown in the order that frees the group: handles on it first.
      o.ownership?.releasing(g.group);
      await close(groupFd);
      o.ownership?.release(g.group, o.id);
      await close(container!);
    }
  }

  /** The server's profile decides what UNREGISTER of mapped memory answers (PROTOCOL.md, K9). */
  const unregisterMappedSucceeds = c.serverInfo.capabilities.profile !== 'strict';
  /** Size of the region at UA left pinned by such an UNREGISTER, if any. */
  let pinned: bigint | undefined;

  /** A type1 mapping above the reserved MSI window: MAP, a translated DMA, UNMAP of exactly it. */
  async function type1Dma(container: number, groupFd: number): Promise<void> {
    const page = 1n << 16n; // the host page: type1's smallest IOMMU page here
    const size = BigInt(1 + Math.floor(rnd() * 64)) * page;
    const iova = 1n << 32n;
    const m = await call('MAP_DMA type1', () => c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA, iova, size }), ['ENOMEM']);
    if (m === undefined) return;
    const k = BigInt(Math.floor(rnd() * Number(size / page)));
    const t = await call('IOMMU_TRANSLATE type1', () => c.call('IOMMU_TRANSLATE', { fd: groupFd, iova: iova + k * page, access: 'write' }));
    check(t!.addr === UA + k * page, `IOMMU_TRANSLATE type1: ${t!.addr} instead of ${UA + k * page}`);
    const u = await call('UNMAP_DMA type1', () => c.call('VFIO_IOMMU_UNMAP_DMA', { fd: container, iova, size }));
    check(u!.size === size, `UNMAP_DMA type1: unmapped ${u!.size} instead of ${size}`);
  }

  async function dma(container: number, groupFd: number, phb: PhbInfo): Promise<void> {
    const page = 1n << pageShift;
    // Now and then a gigabyte, whose MAP/UNMAP at 4K pages runs in slices on the server.
    const size = rnd() < 0.1 ? 1n << 30n : BigInt(1 + Math.floor(rnd() * 256)) * page;
    // A region left pinned by an UNREGISTER of mapped memory (K9) stays in this mm: a different
    // range over it is EINVAL (mm_iommu_do_alloc's overlap check) until the connection ends.
    const overlapsPinned = pinned !== undefined && pinned !== size;
    const reg = await call('REGISTER_MEMORY', () => c.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', { fd: container, vaddr: UA, size }),
      overlapsPinned ? ['ENOMEM', 'EINVAL'] : pinned === size ? ['ENOMEM', 'EINVAL', 'EBUSY'] : ['ENOMEM']);
    if (reg === undefined) return;
    check(!overlapsPinned, `REGISTER_MEMORY of size ${size} over the pinned region of size ${pinned} succeeded`);
    await call('TCE_REMOVE', () => c.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: 0n }));
    const shift = pick(phb.page_shifts.filter((s) => s <= Number(pageShift)));
    const win = await call('TCE_CREATE', () => c.call('VFIO_IOMMU_SPAPR_TCE_CREATE', { fd: container, page_shift: shift, window_size: 1n << 32n, levels: 2 }), ['ENOMEM']);
    let unregistered = false;
    if (win !== undefined) {
      const iopage = 1n << BigInt(shift);
      const pages = size / iopage;
      const n = 1n + BigInt(Math.floor(rnd() * Number(pages)));
      const first = BigInt(Math.floor(rnd() * Number(pages - n + 1n)));
      const iova = win.start_addr + first * iopage;
      await call('MAP_DMA', () => c.call('VFIO_IOMMU_MAP_DMA', { fd: container, flags: 3, vaddr: UA + first * iopage, iova, size: n * iopage }));
      const k = BigInt(Math.floor(rnd() * Number(n)));
      const t = await call('IOMMU_TRANSLATE', () => c.call('IOMMU_TRANSLATE', { fd: groupFd, iova: iova + k * iopage, access: 'write' }));
      check(t!.addr === UA + (first + k) * iopage, `IOMMU_TRANSLATE: ${t!.addr} instead of ${UA + (first + k) * iopage}`);
      if (unregisterMappedSucceeds) {
        // linux profile (kernel quirk K9): 0, the region leaves the container but stays pinned.
        await call('UNREGISTER_MEMORY while mapped', () => c.call('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: container, vaddr: UA, size }));
        unregistered = true;
        pinned = size;
      } else {
        await call('UNREGISTER_MEMORY busy', () => c.call('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: container, vaddr: UA, size }), ['EBUSY']);
      }
      await call('UNMAP_DMA', () => c.call('VFIO_IOMMU_UNMAP_DMA', { fd: container, iova, size: n * iopage }));
      if (rnd() < 0.5) await call('TCE_REMOVE', () => c.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', { fd: container, start_addr: win.start_addr }));
    }
    if (!unregistered && rnd() < 0.7) await call('UNREGISTER_MEMORY', () => c.call('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', { fd: container, vaddr: UA, size }));
  }

  async function kvm(): Promise<void> {
    const vm = await newFd('KVM_CREATE_VM', 'vm', () => c.call('KVM_CREATE_VM', {}));
    try {
      await call('SET_USER_MEMORY_REGION', () => c.call('KVM_SET_USER_MEMORY_REGION', { fd: vm!, slot: 0, guest_phys_addr: 0n, memory_size: GPA_SIZE, userspace_addr: UA }));
      await call('ENABLE_CAP', () => c.call('KVM_ENABLE_CAP', { fd: vm!, cap: 104, args: [0x138n, 1n] }));
      const liobn = BigInt(1 + Math.floor(rnd() * 1000));
      const entries = 1 << (8 + Math.floor(rnd() * 8));
      const table = await newFd('CREATE_SPAPR_TCE_64', 'table', () => c.call('KVM_CREATE_SPAPR_TCE_64', { fd: vm!, liobn, page_shift: 12, offset: 0n, size: BigInt(entries) }), ['ENOMEM']);
      if (table === undefined) return;
      const ref = new Map<number, bigint>();
      for (let i = 0; i < 8; i++) {
        const idx = Math.floor(rnd() * entries);
        const tce = ((BigInt(Math.floor(rnd() * Number(GPA_SIZE >> 12n))) << 12n) | BigInt(1 + Math.floor(rnd() * 3)));
        const p = await call('H_PUT_TCE', () => c.call('H_PUT_TCE', { fd: vm!, liobn, ioba: BigInt(idx) << 12n, tce }));
        check(p!.ret === 0, `H_PUT_TCE: ret ${p!.ret}`);
        ref.set(idx, tce);
      }
      const n = Math.min(entries, 1 + Math.floor(rnd() * 512));
      const tces = new BigUint64Array(n).map((_, i) => (BigInt(i) << 12n) | 3n);
      const b = await call('TCE_PUT_BATCH', () => c.tcePutBatch(vm!, liobn, 0n, tces));
      check(b!.ret === 0 && b!.written === n, `TCE_PUT_BATCH: ret ${b!.ret} written ${b!.written}`);
      for (let i = 0; i < n; i++) ref.set(i, tces[i]!);
      if (rnd() < 0.3) {
        const s = await call('H_STUFF_TCE', () => c.call('H_STUFF_TCE', { fd: vm!, liobn, ioba: 0n, tce_value: 0n, npages: BigInt(entries) }));
        check(s!.ret === 0, `H_STUFF_TCE: ret ${s!.ret}`);
        ref.clear();
      }
      const read = await call('TCE_TABLE_READ', () => c.call('TCE_TABLE_READ', { fd: table, index: 0n, count: entries }));
      const dv = new DataView(read!.data.buffer, read!.data.byteOffset, read!.data.byteLength);
      for (const idx of [0, Math.floor(rnd() * entries), ...[...ref.keys()].slice(0, 16)]) {
        const got = dv.getBigUint64(idx * 8, true);
        check(got === (ref.get(idx) ?? 0n), `TCE_TABLE_READ[${idx}]: ${got} instead of ${ref.get(idx) ?? 0n}`);
        const g = await call('H_GET_TCE', () => c.call('H_GET_TCE', { fd: vm!, liobn, ioba: BigInt(idx) << 12n }));
        check(g!.tce === got, `H_GET_TCE[${idx}]: ${g!.tce} but the table reads ${got}`);
      }
      await call('H_PUT_TCE bad ioba', () => c.call('H_PUT_TCE', { fd: vm!, liobn, ioba: BigInt(entries) << 12n, tce: 3n }));
      await call('TABLE_READ wrong kind', () => c.call('TCE_TABLE_READ', { fd: vm!, index: 0n, count: 1 }), ['ENOTTY']);
      await close(table);
    } finally {
      await close(vm!);
    }
  }

  const families = [basics, vfio, kvm];
  try {
    while (Date.now() < o.deadline) {
      try {
        await pick(families)();
      } catch (e) {
        if (!(e instanceof Diverged)) throw e;
        diverged(r, `client ${o.id}: ${e.message}`);
        break; // the model no longer knows this connection's state
      }
    }
  } finally {
    o.ownership?.dropClient(o.id);
    await c.end().catch(() => undefined);
  }
  return r;
}
