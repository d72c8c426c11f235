/**
 * The KVM VFIO device (KVM_DEV_TYPE_VFIO): tells KVM which VFIO group files the VM uses and, on
 * sPAPR, links a group to a LIOBN (KVM_DEV_VFIO_FILE_SET_SPAPR_TCE) so that in-kernel TCE hcalls
 * also program the group's hardware table.
 *
 * The device holds its own reference to every file added (a group, or a device of a group: K13),
 * so a group stays open (and in its container) after the VMM closes its fd, until DEL or until the
 * device itself is closed. Links are per (group, hardware window); a link whose window is removed
 * or whose group leaves the container is dropped by the table itself. DEL of a group:
 * - `linkRefcounted` (K14, the kernel's kvm_spapr_tce_attach_iommu_group and
 *   kvm_spapr_tce_release_iommu_group): KVM's link is per (table, hardware window) with a
 *   reference per SET_SPAPR_TCE of any group; DEL drops one reference from each window of the
 *   group, and the link stops writing only when none is left;
 * - otherwise DEL drops the group's links in every table of the VM.
 */
import { CLOSE_RANK, type KernelFile } from '../vfio/kernel-file.js';
import { fail } from '../wire/errno.js';
import type { GuestTceTable } from './guest-tce-table.js';
import type { HwTarget, LinkableGroup } from './hw-port.js';

export interface DeviceOwner {
  deviceClosed(device: KvmVfioDevice): void;
  tables(): Iterable<GuestTceTable>;
  ownsTable(table: GuestTceTable): boolean;
  /** The profile's switch K14 (see the module comment); absent = false. */
  readonly quirks?: { readonly linkRefcounted: boolean };
}

/** KVM's link of one table to one hardware window (K14): its references and the groups that set it. */
interface LinkRef {
  readonly target: HwTarget;
  refs: number;
  readonly groups: Map<object, LinkableGroup>;
}

interface GroupEntry {
  readonly group: LinkableGroup;
  readonly release: () => void;
}

export class KvmVfioDevice implements KernelFile {
  readonly closeRank = CLOSE_RANK.kvmDevice;
  readonly #files = new Map<object, GroupEntry>();
  /** K14 references, per table, per hardware window identity. */
  readonly #linkRefs = new Map<GuestTceTable, Map<object, LinkRef>>();
  #owner: DeviceOwner | undefined;

  constructor(owner: DeviceOwner) {
    this.#owner = owner;
  }

  get closed(): boolean {
    return this.#owner === undefined;
  }

  /** Group files added, in order. */
  groups(): LinkableGroup[] {
    return [...this.#files.values()].map((e) => e.group);
  }

  /** Whether the group file `identity` was added. */
  hasGroup(identity: object): boolean {
    return this.#files.has(identity);
  }

  /** KVM_DEV_VFIO_FILE_ADD: EEXIST when the file is already there. */
  addGroup(group: LinkableGroup): void {
    if (this.#files.has(group.identity)) throw fail('EEXIST', 'group already added to the KVM VFIO device');
    const release = group.retain();
    this.#files.set(group.identity, { group, release });
  }

  /** KVM_DEV_VFIO_FILE_DEL: ENOENT when the file was not added. Drops its links, then its reference. */
  delGroup(identity: object): void {
    const entry = this.#files.get(identity);
    if (entry === undefined) throw fail('ENOENT', 'group was not added to the KVM VFIO device');
    this.#drop(entry);
  }

  /**
   * SET_SPAPR_TCE's check that the added file has an IOMMU group: a device file has none for KVM
   * (vfio_file_iommu_group) → EIO, before the table fd is looked at.
   */
  checkIommuGroup(identity: object): void {
    const entry = this.#files.get(identity);
    if (entry !== undefined && !entry.group.isGroup) {
      throw fail('EIO', 'a VFIO device file has no IOMMU group for SET_SPAPR_TCE: add and link its group file');
    }
  }

  /**
   * KVM_DEV_VFIO_FILE_SET_SPAPR_TCE. The caller has resolved the fds: `identity` is the object
   * behind groupfd (EBADF when none), `table` the object behind tablefd (EBADF when none; pass
   * undefined when it is open but not a TCE table).
   */
  setSpaprTce(identity: object, table: GuestTceTable | undefined): void {
    const owner = this.#owner;
    const entry = this.#files.get(identity);
    if (owner === undefined || entry === undefined) throw fail('ENOENT', 'group was not added to the KVM VFIO device');
    if (table === undefined || !owner.ownsTable(table)) throw fail('EINVAL', 'tablefd is not a TCE table of this VM');
    const busStart = table.busStart;
    const bytes = table.windowSize;
    const target = entry.group.windows().find(
      (w) => w.pageShift <= table.pageShift && w.busStart === busStart && w.size >= bytes,
    );
    if (target === undefined) {
      throw fail('EINVAL', `group has no hardware window at bus 0x${busStart.toString(16)} with page_shift <= ${table.pageShift} and size >= 0x${bytes.toString(16)}`);
    }
    if (!entry.group.isGroup) throw fail('EIO', 'a VFIO device file has no IOMMU group for SET_SPAPR_TCE');
    if (owner.quirks?.linkRefcounted === true) {
      let perTable = this.#linkRefs.get(table);
      if (perTable === undefined) this.#linkRefs.set(table, (perTable = new Map()));
      let ref = perTable.get(target.identity);
      if (ref === undefined || !ref.target.isCurrent()) perTable.set(target.identity, (ref = { target, refs: 0, groups: new Map() }));
      ref.refs++;
      ref.groups.set(entry.group.identity, entry.group);
    }
    table.link(entry.group, target);
  }

  /** KVM's references on the link of `table` to the window `identity` (K14; 0 when none). */
  linkRefs(table: GuestTceTable, identity: object): number {
    const ref = this.#linkRefs.get(table)?.get(identity);
    return ref === undefined || !ref.target.isCurrent() ? 0 : ref.refs;
  }

  #drop(entry: GroupEntry): void {
    this.#files.delete(entry.group.identity);
    const owner = this.#owner;
    if (owner !== undefined) {
      if (owner.quirks?.linkRefcounted === true) this.#putLinks(owner, entry.group);
      else for (const t of owner.tables()) t.unlinkGroup(entry.group.identity);
    }
    entry.release();
  }

  /**
   * K14: one reference off every link of a table to a current window of `group`; a link left
   * without references stops writing (its links are dropped, those of its groups to other windows
   * restored).
   */
  #putLinks(owner: DeviceOwner, group: LinkableGroup): void {
    const windows = new Set(group.windows().map((w) => w.identity));
    for (const table of owner.tables()) {
      const perTable = this.#linkRefs.get(table);
      if (perTable === undefined) continue;
      for (const [identity, ref] of [...perTable]) {
        if (!ref.target.isCurrent()) {
          perTable.delete(identity);
          continue;
        }
        if (!windows.has(identity)) continue;
        ref.refs--;
        if (ref.refs > 0) continue;
        perTable.delete(identity);
        for (const g of ref.groups.values()) {
          table.unlinkGroup(g.identity);
          for (const other of perTable.values()) if (other.groups.has(g.identity)) table.link(g, other.target);
        }
      }
      if (perTable.size === 0) this.#linkRefs.delete(table);
    }
  }

  /** close(2) of the device fd: every group is dropped as by DEL, then the VM reference. */
  close(): void {
    const owner = this.#owner;
    if (owner === undefined) return;
    for (const entry of [...this.#files.values()]) this.#drop(entry);
    this.#owner = undefined;
    owner.deviceClosed(this);
  }
}
