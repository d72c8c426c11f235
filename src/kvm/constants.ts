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
export const H_REMOVE = 0x04;
export const H_ENTER = 0x08;
export const H_READ = 0x0c;
export const H_CLEAR_MOD = 0x10;
export const H_CLEAR_REF = 0x14;
export const H_PROTECT = 0x18;
export const H_GET_TCE = 0x1c;
export const H_PUT_TCE = 0x20;
export const H_SET_DABR = 0x28;
export const H_PAGE_INIT = 0x2c;
export const H_LOGICAL_CI_LOAD = 0x3c;
export const H_LOGICAL_CI_STORE = 0x40;
export const H_EOI = 0x64;
export const H_CPPR = 0x68;
export const H_IPI = 0x6c;
export const H_IPOLL = 0x70;
export const H_XIRR = 0x74;
export const H_REGISTER_VPA = 0xdc;
export const H_CEDE = 0xe0;
export const H_CONFER = 0xe4;
export const H_PROD = 0xe8;
export const H_BULK_REMOVE = 0x124;
export const H_SET_XDABR = 0x134;
export const H_STUFF_TCE = 0x138;
export const H_PUT_TCE_INDIRECT = 0x13c;
export const H_XIRR_X = 0x2fc;
export const H_RANDOM = 0x300;
export const H_SET_MODE = 0x31c;
export const H_RPT_INVALIDATE = 0x448;
/** Highest hcall opcode KVM_CAP_PPC_ENABLE_HCALL takes (MAX_HCALL_OPCODE = H_WATCHDOG). */
export const MAX_HCALL_OPCODE = 0x45c;

/**
 * The hcalls HV KVM implements, i.e. that KVM_CAP_PPC_ENABLE_HCALL may switch: those
 * kvmppc_hcall_impl_hv lists (with XICS and SPAPR_TCE_IOMMU configured) and those of the real-mode
 * table it falls back to (kvmppc_hcall_impl_hv_realmode). vphb serves only the TCE ones; the switch
 * of the others is recorded and reported, as KVM stores it.
 */
export const HV_IMPLEMENTED_HCALLS: ReadonlySet<number> = new Set([
  H_REMOVE, H_ENTER, H_READ, H_CLEAR_MOD, H_CLEAR_REF, H_PROTECT, H_GET_TCE, H_PUT_TCE, H_SET_DABR,
  H_PAGE_INIT, H_LOGICAL_CI_LOAD, H_LOGICAL_CI_STORE, H_EOI, H_CPPR, H_IPI, H_IPOLL, H_XIRR,
  H_REGISTER_VPA, H_CEDE, H_CONFER, H_PROD, H_BULK_REMOVE, H_SET_XDABR, H_STUFF_TCE,
  H_PUT_TCE_INDIRECT, H_XIRR_X, H_RANDOM, H_SET_MODE, H_RPT_INVALIDATE,
]);

/** Enabled in a new VM (default_hcall_list): everything implemented before the switch existed. */
export const DEFAULT_ENABLED_HCALLS: readonly number[] = [
  H_REMOVE, H_ENTER, H_READ, H_PROTECT, H_BULK_REMOVE, H_GET_TCE, H_PUT_TCE, H_SET_DABR, H_SET_XDABR,
  H_CEDE, H_PROD, H_CONFER, H_REGISTER_VPA, H_EOI, H_CPPR, H_IPI, H_IPOLL, H_XIRR, H_XIRR_X,
  H_RPT_INVALIDATE,
];

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
