/**
 * The EEH state of one PE as PowerNV keeps it (arch/powerpc/kernel/eeh.c, eeh_pe.c,
 * platforms/powernv/eeh-powernv.c): MMIO and DMA each active or frozen, and a PE reset that may be
 * asserted. A DMA fault or an injected error freezes both halves; UNFREEZE_IO / UNFREEZE_DMA thaw
 * one; a hot or fundamental reset freezes, resets the functions, and deactivating it restores the
 * host's BAR assignment and thaws. The owner (the PE) supplies what freezing and resetting do to its
 * functions; this module holds the state and the numbers.
 */

/** VFIO_EEH_PE_GET_STATE results (arch/powerpc/include/uapi/asm/eeh.h). */
export const EEH_PE_STATE_NORMAL = 0;
export const EEH_PE_STATE_RESET = 1;
export const EEH_PE_STATE_STOPPED_IO_DMA = 2;
export const EEH_PE_STATE_STOPPED_DMA = 4;
export const EEH_PE_STATE_UNAVAIL = 5;

/** Error injection (VFIO_EEH_PE_INJECT_ERR): types and the function range. */
export const EEH_ERR_TYPE_32 = 0;
export const EEH_ERR_TYPE_64 = 1;
export const EEH_ERR_FUNC_MIN = 0;
export const EEH_ERR_FUNC_MAX = 19;

export type EehReset = '' | 'hot' | 'fundamental';

export interface EehHooks {
  /** The PE froze because of an error: report it to the functions' drivers. */
  errorDetected(): void;
  /** A reset was asserted: the functions go to their power-on state. */
  resetFunctions(): void;
  /** The reset was deactivated: restore the host's view of the functions (BARs, command). */
  restoreFunctions(): void;
}

export class PeEeh {
  #mmioFrozen = false;
  #dmaFrozen = false;
  #reset: EehReset = '';
  #freezes = 0;
  #injected = 0;
  #armed = false;
  readonly #hooks: EehHooks;

  constructor(hooks: EehHooks) {
    this.#hooks = hooks;
  }

  get mmioFrozen(): boolean {
    return this.#mmioFrozen;
  }

  get dmaFrozen(): boolean {
    return this.#dmaFrozen;
  }

  get reset(): EehReset {
    return this.#reset;
  }

  /** A VFIO user has enabled EEH on the PE (VFIO_EEH_PE_OP ENABLE) since its group was taken. */
  get armed(): boolean {
    return this.#armed;
  }

  /** Times the PE went from (partly) running to frozen by an error. */
  get freezes(): number {
    return this.#freezes;
  }

  /** Errors injected with INJECT_ERR. */
  get injected(): number {
    return this.#injected;
  }

  /**
   * eeh_pe_get_state on PowerNV: while a reset is asserted the PE is reported operational
   * (pnv_eeh_get_pe_state), so RESET is never returned.
   */
  get state(): number {
    if (this.#reset !== '') return EEH_PE_STATE_NORMAL;
    const mmio = !this.#mmioFrozen;
    const dma = !this.#dmaFrozen;
    if (mmio && dma) return EEH_PE_STATE_NORMAL;
    if (!mmio && !dma) return EEH_PE_STATE_STOPPED_IO_DMA;
    if (mmio && !dma) return EEH_PE_STATE_STOPPED_DMA;
    return EEH_PE_STATE_UNAVAIL;
  }

  /** An error (DMA fault, injected error): MMIO and DMA stop, and the drivers are told once. */
  freeze(): void {
    if (this.#mmioFrozen && this.#dmaFrozen) return;
    this.#mmioFrozen = true;
    this.#dmaFrozen = true;
    this.#freezes++;
    this.#hooks.errorDetected();
  }

  /** EEH_OPT_ENABLE (eeh_pe_change_owner): a frozen PE is thawed; an unfrozen one is left alone. */
  enable(): number {
    this.#armed = true;
    this.#mmioFrozen = false;
    this.#dmaFrozen = false;
    return 0;
  }

  thawMmio(): number {
    this.#mmioFrozen = false;
    return 0;
  }

  thawDma(): number {
    this.#dmaFrozen = false;
    return 0;
  }

  /** EEH_RESET_HOT / EEH_RESET_FUNDAMENTAL: the PE is frozen first (no error report), then reset. */
  assertReset(kind: 'hot' | 'fundamental'): number {
    this.#mmioFrozen = true;
    this.#dmaFrozen = true;
    this.#reset = kind;
    this.#hooks.resetFunctions();
    return 0;
  }

  /** EEH_RESET_DEACTIVATE: deassert, restore the functions, thaw (eeh_pe_reenable_devices). */
  deactivateReset(): number {
    this.#reset = '';
    this.#hooks.restoreFunctions();
    this.#mmioFrozen = false;
    this.#dmaFrozen = false;
    return 0;
  }

  /** The group was released (eeh_dev_release → eeh_pe_change_owner): thawed, faults no longer freeze. */
  release(): void {
    this.#armed = false;
    this.#mmioFrozen = false;
    this.#dmaFrozen = false;
    this.#reset = '';
  }

  /** A DMA fault: the PHB freezes the PE, whether or not a user has enabled EEH. */
  dmaFault(): void {
    this.freeze();
  }

  /** INJECT_ERR, validated by the caller: the PHB freezes the PE. */
  inject(): number {
    this.#injected++;
    this.freeze();
    return 0;
  }
}
