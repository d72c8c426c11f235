/** A VFIO device fd: one PCI function of an open group. It holds a reference to the group file. */
import type { Device } from '../hw/device.js';
import { CLOSE_RANK, type KernelFile } from './kernel-file.js';
import type { GroupFile } from './group.js';

export class VfioDevice implements KernelFile {
  readonly closeRank = CLOSE_RANK.vfioDevice;
  readonly device: Device;
  readonly file: GroupFile;
  readonly #onClose: () => void;
  #open = true;

  constructor(device: Device, file: GroupFile, onClose: () => void) {
    this.device = device;
    this.file = file;
    this.#onClose = onClose;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#onClose();
    this.file.put();
  }
}
