/**
 * A VFIO group (/dev/vfio/N): one PE and its devices. The group exists for the life of the host;
 * it is open through at most one file at a time (a second open is EBUSY, as the kernel's
 * single-opener rule). The file is refcounted: the client's fd, each device fd opened from it and
 * any kernel user (KVM's VFIO device) hold references; the group leaves its container only when
 * the last reference goes.
 */
import { fail } from '../wire/errno.js';
import type { Pe } from '../hw/pe.js';
import { CLOSE_RANK, type KernelFile } from './kernel-file.js';
import { VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE } from './constants.js';
import type { Container } from './container.js';
import { VfioDevice } from './device.js';

export class Group {
  readonly pe: Pe;
  /** IOMMU group number. */
  readonly number: number;
  #file: GroupFile | undefined;
  #container: Container | undefined;
  #openDevices = 0;

  constructor(pe: Pe) {
    this.pe = pe;
    this.number = pe.group;
  }

  /** The open file, if someone holds the group. */
  get file(): GroupFile | undefined {
    return this.#file;
  }

  get container(): Container | undefined {
    return this.#container;
  }

  get openDevices(): number {
    return this.#openDevices;
  }

  /** open("/dev/vfio/N"): EBUSY while any reference to an earlier open exists. */
  open(): GroupFile {
    if (this.#file !== undefined) {
      throw fail('EBUSY', `group ${this.number} is already open (${this.#file.refs} reference(s))`);
    }
    const file = new GroupFile(this, () => this.#released());
    this.#file = file;
    return file;
  }

  /** VFIO_GROUP_GET_STATUS flags: VIABLE (all devices are VFIO's) and CONTAINER_SET. */
  get statusFlags(): number {
    return VFIO_GROUP_FLAGS_VIABLE | (this.#container === undefined ? 0 : VFIO_GROUP_FLAGS_CONTAINER_SET);
  }

  /** VFIO_GROUP_SET_CONTAINER: EINVAL if already in one; the container's attach errors otherwise. */
  setContainer(container: Container): void {
    if (this.#container !== undefined) throw fail('EINVAL', `group ${this.number} is already in a container`);
    container.addGroup(this);
    this.#container = container;
  }

  /** VFIO_GROUP_UNSET_CONTAINER: EINVAL not in one; EBUSY while device fds are open. */
  unsetContainer(): void {
    if (this.#container === undefined) throw fail('EINVAL', `group ${this.number} is not in a container`);
    if (this.#openDevices > 0) {
      throw fail('EBUSY', `group ${this.number} has ${this.#openDevices} device fd(s) open`);
    }
    this.#leaveContainer();
  }

  /**
   * VFIO_GROUP_GET_DEVICE_FD: ENODEV no such device in the group; EINVAL the group is not in a
   * container with an IOMMU backend. The device fd holds a reference to the group file.
   */
  openDevice(file: GroupFile, address: string): VfioDevice {
    const device = this.pe.devices.find((d) => d.address === address);
    if (device === undefined) throw fail('ENODEV', `group ${this.number} has no device ${JSON.stringify(address)}`);
    if (this.#container?.backend === undefined) {
      throw fail('EINVAL', `group ${this.number} is not in a container with an IOMMU backend`);
    }
    file.get();
    this.#openDevices++;
    return new VfioDevice(device, file, () => {
      this.#openDevices--;
    });
  }

  #leaveContainer(): void {
    const c = this.#container;
    this.#container = undefined;
    c?.removeGroup(this);
  }

  /** Last reference to the file gone: the group leaves its container and may be opened again. */
  #released(): void {
    this.#leaveContainer();
    this.pe.eeh.release();
    this.#file = undefined;
  }
}

/**
 * An open group file. `get()`/`put()` take and drop references (KVM's VFIO device holds one);
 * close(2) of the client's fd is one `put()`.
 */
export class GroupFile implements KernelFile {
  readonly closeRank = CLOSE_RANK.group;
  readonly group: Group;
  readonly #onRelease: () => void;
  #refs = 1;

  constructor(group: Group, onRelease: () => void) {
    this.group = group;
    this.#onRelease = onRelease;
  }

  get refs(): number {
    return this.#refs;
  }

  get released(): boolean {
    return this.#refs === 0;
  }

  get(): this {
    if (this.#refs === 0) throw fail('EBADF', `group ${this.group.number} file is already released`);
    this.#refs++;
    return this;
  }

  put(): void {
    if (this.#refs === 0) throw fail('EBADF', `group ${this.group.number} file is already released`);
    this.#refs--;
    if (this.#refs === 0) this.#onRelease();
  }

  close(): void {
    this.put();
  }
}
