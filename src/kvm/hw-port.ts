/**
 * What KVM needs from VFIO and the hardware to link a guest-view TCE table to a group: the seam
 * between src/kvm and src/vfio. src/kvm/vfio-adapter.ts implements these ports on the real VFIO
 * objects; model tests may use doubles.
 *
 * Addresses are numbers: every user address is below 2^52. TCE values cross the seam as pairs of
 * u32 (low word first), never as bigints, so the hot path allocates nothing per entry.
 */

export interface PreregisteredSpan {
  readonly start: number;
  readonly end: number;
}

/** One hardware DMA window (its TCE table), as seen through one group's link. */
export interface HwTarget {
  /** The window itself: two groups of one container linked to one LIOBN write it once. */
  readonly identity: object;
  /** IOMMU page shift of the hardware table. */
  readonly pageShift: number;
  /** Bus start of the window in bytes. */
  readonly busStart: bigint;
  /** Window size in bytes. */
  readonly size: bigint;
  /**
   * True while the window is still programmed for the group (not removed or replaced, and the
   * group still in that container). A link whose target stops being current is dropped.
   */
  isCurrent(): boolean;
  /**
   * The preregistered memory usable for this window around [ua, ua + len): a span such that every
   * page of this window lying wholly inside [start, end) is preregistered (VFIO v2 REGISTER_MEMORY,
   * backed by pages at least as large as this window's). Undefined when [ua, ua + len) is not.
   * Callers cache the span, so the answer must stay valid until the next write or clear.
   */
  preregisteredSpan(ua: number, len: number): PreregisteredSpan | undefined;
  /**
   * Writes `count` hardware entries from `index` (relative to the window start): entry k is
   * `tces[2k] | tces[2k+1] << 32` (ua | perms, or 0 to clear), replacing what was there and moving
   * preregistered-memory references accordingly (`tces` is only valid during the call). Returns how many entries were written; fewer than
   * `count` means entry `index + result` failed (not preregistered) and was left untouched.
   */
  write(index: number, tces: Uint32Array, count: number): number;
  /** Clears `count` entries from `index`, dropping their preregistered-memory references. */
  clear(index: number, count: number): void;
}

/** A VFIO file (a group, or a device of a group), as the KVM VFIO device holds it. */
export interface LinkableGroup {
  /** The file: the same file always has the same identity. */
  readonly identity: object;
  /**
   * False for a VFIO device file: KVM finds no IOMMU group behind it (vfio_file_iommu_group), so
   * SET_SPAPR_TCE on it fails (EIO).
   */
  readonly isGroup: boolean;
  /** Takes KVM's own reference to the group file (the group stays open); returns the drop. */
  retain(): () => void;
  /** The current hardware windows of the group's container (none when it has no container). */
  windows(): readonly HwTarget[];
}
