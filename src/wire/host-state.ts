/**
 * HOST_STATE reply structures: the whole emulated host as data. Field names follow the kernel's
 * where one exists (start_addr, window_size, page_shift, levels, liobn, vaddr, size); absent
 * values (a group nobody holds, a closed fd) are nil on the wire and null here.
 */

/** A PE's EEH state. `state` is what VFIO_EEH_PE_OP GET_STATE would return now. */
export interface HostEeh {
  state: number;
  mmio_frozen: boolean;
  dma_frozen: boolean;
  /** Reset asserted by RESET_HOT / RESET_FUNDAMENTAL and not yet deactivated: "hot", "fundamental" or "". */
  reset: string;
  /** Times the PE was frozen (DMA fault, injected error) since boot. */
  freezes: number;
}

/** One BAR as the hardware holds it (not the value a VFIO user wrote into virtual config space). */
export interface HostBar {
  /** Region index: 0-5 BARs, 6 ROM. */
  index: number;
  /** "mem32", "mem64", "io" or "rom". */
  kind: string;
  size: bigint;
  /** Address programmed in the function's BAR. */
  addr: bigint;
}

/** An armed eventfd. */
export interface HostIrq {
  index: number;
  vector: number;
  token: number;
}

export interface HostDevice {
  address: string;
  model: string;
  vendor_id: number;
  device_id: number;
  class_code: number;
  command: number;
  status: number;
  bars: HostBar[];
  /** Device fds open on it. */
  open: number;
  /** Interrupt mode enabled through SET_IRQS: "none", "intx", "msi" or "msix". */
  irq_type: string;
  armed: HostIrq[];
}

export interface HostPe {
  pe: number;
  group: number;
  /** DMA faults (IOMMU_TRANSLATE EFAULTs) seen since boot. */
  faults: number;
  eeh: HostEeh;
  /** Connection id holding the group file, or null. */
  holder: number | null;
  /** HOST_STATE container id of the group's container, or null. */
  container: number | null;
  devices: HostDevice[];
}

export interface HostPhb {
  index: number;
  name: string;
  model: string;
  pes: HostPe[];
}

export interface HostWindow {
  start_addr: bigint;
  page_shift: number;
  window_size: bigint;
  levels: number;
  /** TCEs with permission bits set. */
  mapped: number;
  /** Bytes of TCE table allocated (what locked-memory accounting charges for it). */
  table_bytes: bigint;
}

export interface HostContainer {
  /** Stable for the container's life within one server; not a handle. */
  id: number;
  /** Connection whose handle table holds the container fd, or null once that fd is closed. */
  connection: number | null;
  fd: number | null;
  /** "none", "spapr_tce" (v1) or "spapr_tce_v2". */
  backend: string;
  groups: number[];
  windows: HostWindow[];
}

export interface HostTceTable {
  liobn: bigint;
  page_shift: number;
  /** Bus offset and size in IOMMU pages, as KVM_CREATE_SPAPR_TCE_64 takes them. */
  offset: bigint;
  size: bigint;
  /** Groups whose hardware window this LIOBN is linked to (KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE). */
  linked_groups: number[];
}

export interface HostVm {
  connection: number;
  fd: number | null;
  tables: HostTceTable[];
}

export interface HostPrereg {
  vaddr: bigint;
  size: bigint;
}

export interface HostConnection {
  id: number;
  /** "unix", "tcp" or "ws". */
  transport: string;
  peer: string;
  /** The `client` string of its VERSION. */
  name: string;
  handles: number;
  locked_bytes: bigint;
  /** RLIMIT_MEMLOCK in bytes, or null for unlimited. */
  locked_limit: bigint | null;
  prereg: HostPrereg[];
}
