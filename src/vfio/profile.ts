/**
 * Behaviour profiles: the one table of the places where the Linux kernel answers wrongly (a bug) or
 * where vphb used to answer "the right way" instead of the kernel's way. Each row is one named
 * switch; the model reads the switch where the behaviour lives and nowhere else.
 *
 * - `linux` (the default) answers as today's kernel (v6.10+) does, its bugs included: a VMM tested
 *   against vphb meets on a PowerNV host exactly what it met here.
 * - `strict` keeps every kernel rule (check order, errnos, accounting) but answers the kernel's bugs
 *   correctly: refund, roll back, EINVAL, EBUSY.
 *
 * Rows that are plain kernel rules (K1-K3, K6, K8's check order, K10, K13, K15) have no switch:
 * both profiles follow the kernel there. PROTOCOL.md "Behaviour profiles" lists every switch with
 * both behaviours and the kernel function that shows the linux one.
 */

export type ProfileName = 'linux' | 'strict';

export const PROFILE_NAMES: readonly ProfileName[] = ['linux', 'strict'];

export interface Quirks {
  readonly profile: ProfileName;
  /**
   * K4 (tce_iommu_create_table): TCE_CREATE charges the table, and when creating it then fails
   * (ENOMEM for a level over the allocator limit, EINVAL at ≥ 55 bus bits) the charge stays.
   * strict: refunded.
   */
  readonly failedCreateKeepsCharge: boolean;
  /**
   * K5 (tce_iommu_ioctl MAP_DMA/UNMAP_DMA/TCE_CREATE, tce_iommu_create_default_window): a call that
   * materialises the pending default window and then fails leaves the window, with its charge.
   * strict: the window goes away again (pending once more).
   */
  readonly failedCallKeepsDefaultWindow: boolean;
  /**
   * K7 (iommu_tce_put_param_check, iommu_tce_clear_param_check are `a || b` macros): MAP_DMA or
   * UNMAP_DMA with an iova not aligned to the window page returns 1 and maps/unmaps nothing.
   * strict: EINVAL.
   */
  readonly misalignedIovaReturnsOne: boolean;
  /**
   * K9 (tce_iommu_unregister_pages drops mm_iommu_put's EBUSY): UNREGISTER_MEMORY of a range TCEs
   * still map returns 0; the range leaves the container but stays pinned and accounted.
   * strict: EBUSY, nothing changes.
   */
  readonly unregisterMappedSucceeds: boolean;
  /**
   * tce_iommu_build/tce_iommu_build_v2: MAP_DMA writes page by page; a failure clears the entries
   * this call wrote (including entries it replaced) and returns the error.
   * strict: every page is checked first, a failed map leaves the previous entries in place.
   */
  readonly failedMapClearsRange: boolean;
  /**
   * tce_iommu_prereg_ua_to_hpa → mm_iommu_lookup: a v2 MAP_DMA (and KVM's hardware path) finds
   * preregistered memory in the whole process (mm), whichever container registered it.
   * strict: only memory this container registered itself.
   */
  readonly preregLookupWholeMm: boolean;
  /**
   * K8 (mm_iommu_do_alloc): a preregistered range backs IOMMU pages up to min(its natural
   * alignment, the backing page size): the host page unless the range is hugetlbfs-backed
   * (REGISTER_MEMORY `page_shift`). strict: up to its natural alignment alone.
   */
  readonly preregPageSizeFromBacking: boolean;
  /** K8 (mm_iommu_do_alloc: vzalloc(0) fails): REGISTER_MEMORY of size 0 is ENOMEM. strict: EINVAL. */
  readonly registerSizeZeroEnomem: boolean;
  /**
   * K12 (kvmppc_ioba_validate → iommu_tce_check_ioba): the in-kernel hcalls check that the first
   * page of the ioba range lies in the window; H_STUFF_TCE and H_PUT_TCE_INDIRECT running past the
   * window end succeed for the part inside. strict: the whole range must lie in the window.
   */
  readonly iobaChecksFirstPageOnly: boolean;
  /**
   * K11 (kvmppc_h_put_tce_indirect): pass 2 translates every entry, so a TCE without permission
   * bits whose page lies in no memory slot is H_PARAMETER at that entry (earlier ones applied).
   * strict: clears and poison TCEs are stored as given.
   */
  readonly indirectTranslatesEveryEntry: boolean;
  /**
   * K14 (kvm_spapr_tce_attach_iommu_group / kvm_spapr_tce_release_iommu_group): every
   * SET_SPAPR_TCE of an existing link takes one more reference and a group DEL drops one, so after
   * two SETs the link survives one DEL. strict: a link is idempotent and DEL drops it.
   */
  readonly linkRefcounted: boolean;
}

const LINUX: Quirks = Object.freeze({
  profile: 'linux',
  failedCreateKeepsCharge: true,
  failedCallKeepsDefaultWindow: true,
  misalignedIovaReturnsOne: true,
  unregisterMappedSucceeds: true,
  failedMapClearsRange: true,
  preregLookupWholeMm: true,
  preregPageSizeFromBacking: true,
  registerSizeZeroEnomem: true,
  iobaChecksFirstPageOnly: true,
  indirectTranslatesEveryEntry: true,
  linkRefcounted: true,
} as const);

const STRICT: Quirks = Object.freeze({
  profile: 'strict',
  failedCreateKeepsCharge: false,
  failedCallKeepsDefaultWindow: false,
  misalignedIovaReturnsOne: false,
  unregisterMappedSucceeds: false,
  failedMapClearsRange: false,
  preregLookupWholeMm: false,
  preregPageSizeFromBacking: false,
  registerSizeZeroEnomem: false,
  iobaChecksFirstPageOnly: false,
  indirectTranslatesEveryEntry: false,
  linkRefcounted: false,
} as const);

export const PROFILES: Readonly<Record<ProfileName, Quirks>> = Object.freeze({ linux: LINUX, strict: STRICT });

export const DEFAULT_PROFILE: ProfileName = 'linux';

export function isProfileName(v: unknown): v is ProfileName {
  return v === 'linux' || v === 'strict';
}

/** The quirk table of a profile (linux when absent). */
export function quirksOf(profile: ProfileName = DEFAULT_PROFILE): Quirks {
  return PROFILES[profile];
}
