/**
 * The KVM VFIO device (KVM_DEV_TYPE_VFIO): tells KVM which VFIO group files the VM uses and, on
 * sPAPR, links a group to a LIOBN (KVM_DEV_VFIO_FILE_SET_SPAPR_TCE) so that in-kernel TCE hcalls
 * also program the group's hardware table.
 *
 * The device holds its own reference to every group file added, so a group stays open (and in its
 * container) after the VMM closes its fd, until DEL or until the device itself is closed. Links are
 * per (group, hardware window): DEL drops the group's links in every table of the VM; a link whose
 * window is removed or whose group leaves the container is dropped by the table itself.
 */
import { CLOSE_RANK, type KernelFile } from '../vfio/kernel-file.js';
import { fail } from '../wire/errno.js';
import type { GuestTceTable } from './guest-tce-table.js';
import type { LinkableGroup } from './hw-port.js';

export interface DeviceOwner {
  deviceClosed(device: KvmVfioDevice): void;
  tables(): Iterable<GuestTceTable>;
  ownsTable(table: GuestTceTable): boolean;
}

interface GroupEntry {
  readonly group: LinkableGroup;
  readonly release: () => void;
}

export class KvmVfioDevice implements KernelFile {
  readonly closeRank = CLOSE_RANK.kvmDevice;
  readonly #files = new Map<object, GroupEntry>();
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
    table.link(entry.group, target);
  }

  #drop(entry: GroupEntry): void {
    this.#files.delete(entry.group.identity);
    const owner = this.#owner;
    if (owner !== undefined) for (const t of owner.tables()) t.unlinkGroup(entry.group.identity);
    entry.release();
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
