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
