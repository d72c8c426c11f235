/**
 * Numbers of the KVM/PAPR interface vphb emulates: hcall return codes and opcodes, KVM
 * capabilities, device types and attributes. Values are the kernel's ABI (include/uapi/linux/kvm.h,
 * arch/powerpc/include/asm/hvcall.h); the names are the kernel's.
 */

/** PAPR hcall return codes (r3). */
export const H_SUCCESS = 0;
export const H_HARDWARE = -1;
export const H_PARAMETER = -4;
/** KVM-internal "exit to userspace": the hcall is not handled in the kernel for this LIOBN. */
export const H_TOO_HARD = 9999;

/** Hcall opcodes. */
export const H_GET_TCE = 0x1c;
export const H_PUT_TCE = 0x20;
export const H_STUFF_TCE = 0x138;
export const H_PUT_TCE_INDIRECT = 0x13c;

/** Most entries one H_PUT_TCE_INDIRECT may carry: the list must fit one 4 KiB page. */
export const INDIRECT_MAX_ENTRIES = 512;

/** TCE permission bits. */
export const TCE_PCI_READ = 0x1;
export const TCE_PCI_WRITE = 0x2;

/** KVM_CHECK_EXTENSION capability numbers vphb answers. */
export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_NR_MEMSLOTS = 10;
export const KVM_CAP_SPAPR_TCE = 63;
export const KVM_CAP_DEVICE_CTRL = 89;
export const KVM_CAP_SPAPR_MULTITCE = 94;
export const KVM_CAP_PPC_ENABLE_HCALL = 104;
export const KVM_CAP_SPAPR_TCE_64 = 125;
export const KVM_CAP_SPAPR_TCE_VFIO = 142;

/** KVM_CREATE_VM types accepted: 0 (default) and KVM_VM_PPC_HV. */
export const KVM_VM_PPC_HV = 1;

/** Memory slots a VM may have (KVM_USER_MEM_SLOTS on ppc). */
export const KVM_USER_MEM_SLOTS = 512;
/** The only memory-region flag ppc KVM accepts. */
export const KVM_MEM_LOG_DIRTY_PAGES = 1;
/** User (and, in vphb, guest-physical) addresses end below 2^52: TASK_SIZE of ppc64. */
export const ADDRESS_LIMIT = 2 ** 52;

/** KVM_CREATE_DEVICE. */
export const KVM_DEV_TYPE_VFIO = 4;
export const KVM_CREATE_DEVICE_TEST = 1;
/** KVM VFIO device attribute group and attributes. */
export const KVM_DEV_VFIO_FILE = 1;
export const KVM_DEV_VFIO_FILE_ADD = 1;
export const KVM_DEV_VFIO_FILE_DEL = 2;
export const KVM_DEV_VFIO_FILE_SET_SPAPR_TCE = 3;

/** KVM_CREATE_SPAPR_TCE_64 page_shift bounds. */
export const TCE_MIN_PAGE_SHIFT = 12;
export const TCE_MAX_PAGE_SHIFT = 34;
