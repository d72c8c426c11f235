/**
 * An open file of the emulated kernel: what a client's handle (fd) refers to. `close()` is
 * close(2) on one fd: it drops that fd's reference, and the object itself may live on while other
 * references (a device fd on its group, KVM's VFIO device on a group) remain.
 */
export interface KernelFile {
  /** Teardown order when a connection dies: lower ranks close first. */
  readonly closeRank: number;
  close(): void;
}

/** Release order of a dying process's files, as the kernel's references make it happen. */
export const CLOSE_RANK = {
  vfioDevice: 0,
  kvmDevice: 1,
  group: 2,
  container: 3,
  kvmTceTable: 4,
  vm: 5,
} as const;
