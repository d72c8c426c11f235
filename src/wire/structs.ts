/** Structured reply fields named by type in protocol/ops.json. */

export interface OpInfo {
  name: string;
  code: number;
  payload: 'msgpack' | 'raw';
}

/** VERSION reply `capabilities`. */
export interface Capabilities {
  /** Largest frame (header included) the server accepts; larger ones are answered EMSGSIZE. */
  max_frame_size: number;
  /** Commands a client may have outstanding before the server stops reading from it. */
  max_inflight: number;
  /** Host PAGE_SIZE in bytes (alignment unit of preregistration and accounting). */
  host_page_size: number;
  /** Behaviour profile: "linux" (the kernel's answers, bugs included) or "strict". */
  profile: string;
  ops: OpInfo[];
}

/** VFIO_IOMMU_SPAPR_TCE_GET_INFO `ddw`. */
export interface DdwInfo {
  pgsizes: bigint;
  max_dynamic_windows_supported: number;
  levels: number;
}

export interface RangeInfo {
  start: bigint;
  size: bigint;
}

export interface GroupInfo {
  group: number;
  pe: number;
  devices: string[];
  /** The PCI functions behind `devices`, in the same order (issue 7). */
  functions: PciFunctionInfo[];
}

/** TOPOLOGY: one PCI function of a group. */
export interface PciFunctionInfo {
  address: string;
  model: string;
  vendor_id: number;
  device_id: number;
  /** 24-bit class code (base class, subclass, programming interface), e.g. 0x010802. */
  class_code: number;
  /** Config space size: 256 (conventional) or 4096 (PCI Express). */
  config_size: number;
  bars: PciBarInfo[];
}

/** TOPOLOGY: an implemented BAR (or the ROM, index 6). */
export interface PciBarInfo {
  index: number;
  /** "mem32", "mem64", "io" or "rom". */
  kind: string;
  size: bigint;
  prefetchable: boolean;
}

/** TOPOLOGY reply: one PHB. */
export interface PhbInfo {
  index: number;
  kind: string;
  name: string;
  model: string;
  page_shifts: number[];
  max_levels: number;
  window_starts: bigint[];
  max_dynamic_windows: number;
  dma32_window: RangeInfo;
  mmio32: RangeInfo;
  msi: RangeInfo;
  /** Largest single TCE table level in bytes (bigger levels are ENOMEM). */
  max_level_bytes: number;
  groups: GroupInfo[];
}

export type * from './host-state.js';
