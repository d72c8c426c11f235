/**
 * vfio-pci's interrupt state of one device (drivers/vfio/pci/vfio_pci_intrs.c) and
 * VFIO_DEVICE_SET_IRQS with every check in the kernel's order. Eventfds live in the client: the
 * server keeps the client's token for each armed vector and hands it to `signal` when the vector
 * fires (eventfd_signal).
 */
import { fail } from '../wire/errno.js';
import type { IrqKind } from '../hw/pci/irq.js';
import type { PciFunction } from '../hw/pci/function.js';

export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
export const VFIO_PCI_NUM_IRQS = 5;

export const VFIO_IRQ_INFO_EVENTFD = 1;
export const VFIO_IRQ_INFO_MASKABLE = 2;
export const VFIO_IRQ_INFO_AUTOMASKED = 4;
export const VFIO_IRQ_INFO_NORESIZE = 8;

export const VFIO_IRQ_SET_DATA_NONE = 1;
export const VFIO_IRQ_SET_DATA_BOOL = 2;
export const VFIO_IRQ_SET_DATA_EVENTFD = 4;
export const VFIO_IRQ_SET_ACTION_MASK = 8;
export const VFIO_IRQ_SET_ACTION_UNMASK = 16;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 32;
const DATA_TYPE_MASK = 0x7;
const ACTION_TYPE_MASK = 0x38;

export type IrqType = 'none' | 'intx' | 'msi' | 'msix';

const INDEX_OF: Record<IrqKind, number> = { intx: 0, msi: 1, msix: 2, err: 3, req: 4 };
const TYPE_OF_INDEX: readonly IrqType[] = ['intx', 'msi', 'msix'];

/** An eventfd was signalled: IRQ index, vector and the client's token. */
export type SignalFn = (index: number, vector: number, token: number) => void;

export interface SetIrqs {
  flags: number;
  index: number;
  start: number;
  count: number;
  data: readonly number[] | undefined;
}

export interface ArmedVector {
  index: number;
  vector: number;
  token: number;
}

export class VfioPciIrqs {
  readonly #fn: PciFunction;
  readonly #signal: SignalFn;
  #type: IrqType = 'none';
  /** Per vector of the enabled mode: the client's eventfd token, or null. */
  #ctx: (number | null)[] = [];
  #intxMasked = false;
  #intxPending = false;
  #intxUnmaskFd: number | null = null;
  /** The virtual command register's INTx disable bit. */
  #virqDisabled = false;
  #errTrigger: number | null = null;
  #reqTrigger: number | null = null;
  /** log2 of the MSI vectors last enabled (vfio's msi_qmax): caps the virtual QSIZE. */
  #msiQmax = 0;

  constructor(fn: PciFunction, signal: SignalFn) {
    this.#fn = fn;
    this.#signal = signal;
  }

  get type(): IrqType {
    return this.#type;
  }

  /** Token of the INTx unmask eventfd (recorded; the server never reads it), or null. */
  get intxUnmaskToken(): number | null {
    return this.#intxUnmaskFd;
  }

  get msiQmax(): number {
    return this.#msiQmax;
  }

  get intxMasked(): boolean {
    return this.#intxMasked;
  }

  /** vfio_pci_get_irq_count. */
  count(index: number): number {
    const fn = this.#fn;
    switch (index) {
      case VFIO_PCI_INTX_IRQ_INDEX: return fn.spec.interruptPin !== 0 ? 1 : 0;
      case VFIO_PCI_MSI_IRQ_INDEX: return fn.msiVectors;
      case VFIO_PCI_MSIX_IRQ_INDEX: return fn.msixVectors;
      case VFIO_PCI_ERR_IRQ_INDEX: return fn.caps.pcie !== 0 ? 1 : 0;
      case VFIO_PCI_REQ_IRQ_INDEX: return 1;
      default: return 0;
    }
  }

  /** VFIO_DEVICE_GET_IRQ_INFO (vfio_pci_ioctl_get_irq_info). */
  info(index: number): { index: number; flags: number; count: number } {
    if (index >= VFIO_PCI_NUM_IRQS) throw fail('EINVAL', `IRQ index ${index}: vfio-pci has ${VFIO_PCI_NUM_IRQS} (0 INTx .. 4 REQ)`);
    if (index === VFIO_PCI_ERR_IRQ_INDEX && this.#fn.caps.pcie === 0) {
      throw fail('EINVAL', `IRQ index 3 (ERR): ${this.#fn.address} is not a PCI Express function`);
    }
    let flags = VFIO_IRQ_INFO_EVENTFD;
    if (index === VFIO_PCI_INTX_IRQ_INDEX) flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    else flags |= VFIO_IRQ_INFO_NORESIZE;
    return { index, flags, count: this.count(index) };
  }

  /** Every armed eventfd. */
  armed(): ArmedVector[] {
    const out: ArmedVector[] = [];
    const idx = this.#type === 'none' ? -1 : TYPE_OF_INDEX.indexOf(this.#type);
    this.#ctx.forEach((t, v) => {
      if (t !== null) out.push({ index: idx, vector: v, token: t });
    });
    if (this.#errTrigger !== null) out.push({ index: VFIO_PCI_ERR_IRQ_INDEX, vector: 0, token: this.#errTrigger });
    if (this.#reqTrigger !== null) out.push({ index: VFIO_PCI_REQ_IRQ_INDEX, vector: 0, token: this.#reqTrigger });
    return out;
  }

  // ---- VFIO_DEVICE_SET_IRQS -------------------------------------------------------------------

  setIrqs(req: SetIrqs): void {
    const { flags, index, start, count } = req;
    // vfio_set_irqs_validate_and_prepare
    if (index >= VFIO_PCI_NUM_IRQS) throw fail('EINVAL', `index ${index}: vfio-pci has ${VFIO_PCI_NUM_IRQS} IRQ indexes`);
    if (count >= 0xffff_ffff - start) throw fail('EINVAL', `start ${start} + count ${count} overflows`);
    if (flags & ~(DATA_TYPE_MASK | ACTION_TYPE_MASK)) throw fail('EINVAL', `flags 0x${flags.toString(16)}: unknown bits`);
    const max = this.count(index);
    if (start >= max || start + count > max) {
      throw fail('EINVAL', `start ${start}, count ${count}: index ${index} has ${max} vector(s)`);
    }
    let size: number;
    switch (flags & DATA_TYPE_MASK) {
      case VFIO_IRQ_SET_DATA_NONE: size = 0; break;
      case VFIO_IRQ_SET_DATA_BOOL: size = 1; break;
      case VFIO_IRQ_SET_DATA_EVENTFD: size = 4; break;
      default: throw fail('EINVAL', `flags 0x${flags.toString(16)}: exactly one of DATA_NONE, DATA_BOOL, DATA_EVENTFD`);
    }
    let data: readonly number[] = [];
    if (size > 0) {
      const got = req.data ?? [];
      if (got.length < count) throw fail('EINVAL', `data has ${got.length} entries, count is ${count}`);
      data = got.slice(0, count);
      if (size === 1) {
        data.forEach((b, i) => {
          if (b < 0 || b > 0xff) throw fail('EINVAL', `data[${i}] ${b}: a DATA_BOOL entry is a u8`);
        });
      }
    }
    // vfio_pci_set_irqs_ioctl: the handler for index and action.
    const action = flags & ACTION_TYPE_MASK;
    const run = this.#handler(index, action);
    if (run === undefined) {
      throw fail('ENOTTY', `index ${index} does not support action 0x${action.toString(16)}`);
    }
    run.call(this, index, start, count, flags, data);
  }

  #handler(index: number, action: number): ((index: number, start: number, count: number, flags: number, data: readonly number[]) => void) | undefined {
    switch (index) {
      case VFIO_PCI_INTX_IRQ_INDEX:
        if (action === VFIO_IRQ_SET_ACTION_MASK) return this.#intxMask;
        if (action === VFIO_IRQ_SET_ACTION_UNMASK) return this.#intxUnmaskAction;
        if (action === VFIO_IRQ_SET_ACTION_TRIGGER) return this.#intxTrigger;
        return undefined;
      case VFIO_PCI_MSI_IRQ_INDEX:
      case VFIO_PCI_MSIX_IRQ_INDEX:
        return action === VFIO_IRQ_SET_ACTION_TRIGGER ? this.#msiTrigger : undefined;
      case VFIO_PCI_ERR_IRQ_INDEX:
        return action === VFIO_IRQ_SET_ACTION_TRIGGER && this.#fn.caps.pcie !== 0 ? this.#errTriggerSet : undefined;
      case VFIO_PCI_REQ_IRQ_INDEX:
        return action === VFIO_IRQ_SET_ACTION_TRIGGER ? this.#reqTriggerSet : undefined;
      default:
        return undefined;
    }
  }

  // ---- INTx ------------------------------------------------------------------------------------

  #sendIntx(): boolean {
    const t = this.#ctx[0];
    if (this.#type !== 'intx' || this.#virqDisabled || t === null || t === undefined) return false;
    this.#signal(VFIO_PCI_INTX_IRQ_INDEX, 0, t);
    return true;
  }

  #maskIntx(): void {
    if (this.#type === 'intx') this.#intxMasked = true;
  }

  /** Unmask: a line still asserted signals again and stays masked. */
  #unmaskIntx(): void {
    if (this.#type !== 'intx' || !this.#intxMasked || this.#virqDisabled) return;
    if (this.#intxPending) {
      this.#intxPending = false;
      this.#sendIntx();
      return;
    }
    this.#intxMasked = false;
  }

  #intxMask(_index: number, start: number, count: number, flags: number, data: readonly number[]): void {
    if (this.#type !== 'intx' || start !== 0 || count !== 1) throw fail('EINVAL', 'INTx MASK needs INTx enabled, start 0, count 1');
    if (flags & VFIO_IRQ_SET_DATA_NONE) this.#maskIntx();
    else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
      if (data[0]) this.#maskIntx();
    } else {
      throw fail('ENOTTY', 'INTx MASK with DATA_EVENTFD is not implemented by vfio-pci');
    }
  }

  #intxUnmaskAction(_index: number, start: number, count: number, flags: number, data: readonly number[]): void {
    if (this.#type !== 'intx' || start !== 0 || count !== 1) throw fail('EINVAL', 'INTx UNMASK needs INTx enabled, start 0, count 1');
    if (flags & VFIO_IRQ_SET_DATA_NONE) this.#unmaskIntx();
    else if (flags & VFIO_IRQ_SET_DATA_BOOL) {
      if (data[0]) this.#unmaskIntx();
    } else {
      const fd = data[0]!;
      this.#intxUnmaskFd = fd >= 0 ? fd : null;
    }
  }

  #intxDisable(): void {
    this.#type = 'none';
    this.#ctx = [];
    this.#intxMasked = false;
    this.#intxPending = false;
    this.#intxUnmaskFd = null;
  }

  #intxTrigger(_index: number, start: number, count: number, flags: number, data: readonly number[]): void {
    if (this.#type === 'intx' && count === 0 && flags & VFIO_IRQ_SET_DATA_NONE) {
      this.#intxDisable();
      return;
    }
    if (!(this.#type === 'intx' || this.#type === 'none') || start !== 0 || count !== 1) {
      throw fail('EINVAL', `INTx TRIGGER: needs start 0, count 1 and no ${this.#type} enabled`);
    }
    if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
      const fd = data[0]!;
      if (this.#type === 'none') {
        // vfio_intx_enable: the virtual INTx disable bit carries over as the mask.
        this.#type = 'intx';
        this.#ctx = [null];
        this.#intxMasked = this.#virqDisabled;
        this.#intxPending = false;
      }
      this.#ctx[0] = fd >= 0 ? fd : null;
      return;
    }
    if (this.#type !== 'intx') throw fail('EINVAL', 'INTx TRIGGER loopback needs INTx enabled');
    if (flags & VFIO_IRQ_SET_DATA_NONE || data[0]) this.#sendIntx();
  }

  /** The virtual command register's INTx-disable bit changed. */
  setVirqDisabled(disabled: boolean): void {
    if (disabled === this.#virqDisabled) return;
    if (disabled) {
      this.#virqDisabled = true;
      this.#maskIntx();
    } else {
      this.#virqDisabled = false;
      this.#unmaskIntx();
    }
  }

  // ---- MSI / MSI-X -------------------------------------------------------------------------------

  #msiDisable(msix: boolean): void {
    this.#type = 'none';
    this.#ctx = [];
    if (msix) this.#fn.setMsix(0);
    else this.#fn.setMsi(0);
  }

  #msiTrigger(index: number, start: number, count: number, flags: number, data: readonly number[]): void {
    const want: IrqType = index === VFIO_PCI_MSIX_IRQ_INDEX ? 'msix' : 'msi';
    const msix = want === 'msix';
    if (this.#type === want && count === 0 && flags & VFIO_IRQ_SET_DATA_NONE) {
      this.#msiDisable(msix);
      return;
    }
    if (!(this.#type === want || this.#type === 'none')) {
      throw fail('EINVAL', `${want.toUpperCase()} TRIGGER while ${this.#type} is enabled`);
    }
    if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
      if (this.#type === want) {
        // vfio_msi_set_block on the enabled vectors.
        if (start >= this.#ctx.length || start + count > this.#ctx.length) {
          throw fail('EINVAL', `vectors ${start}..${start + count - 1}: ${this.#ctx.length} enabled`);
        }
        for (let i = 0; i < count; i++) this.#ctx[start + i] = data[i]! >= 0 ? data[i]! : null;
        return;
      }
      const nvec = start + count;
      this.#type = want;
      this.#ctx = new Array<number | null>(nvec).fill(null);
      if (msix) this.#fn.setMsix(nvec);
      else {
        this.#fn.setMsi(nvec);
        this.#msiQmax = Math.ceil(Math.log2(nvec)); // fls(nvec * 2 - 1) - 1
      }
      for (let i = 0; i < count; i++) this.#ctx[start + i] = data[i]! >= 0 ? data[i]! : null;
      return;
    }
    if (this.#type !== want || start + count > this.#ctx.length) {
      throw fail('EINVAL', `${want.toUpperCase()} loopback needs ${want} enabled with vectors ${start}..${start + count - 1}`);
    }
    for (let i = start; i < start + count; i++) {
      const t = this.#ctx[i];
      if (t === null || t === undefined) continue;
      if (flags & VFIO_IRQ_SET_DATA_NONE || data[i - start]) this.#signal(index, i, t);
    }
  }

  // ---- ERR / REQ ---------------------------------------------------------------------------------

  /** vfio_pci_set_ctx_trigger_single: returns the new trigger. */
  #single(index: number, cur: number | null, count: number, flags: number, data: readonly number[]): number | null {
    if (flags & VFIO_IRQ_SET_DATA_NONE) {
      if (cur !== null) {
        if (count) this.#signal(index, 0, cur);
        else return null;
      }
      return cur;
    }
    if (flags & VFIO_IRQ_SET_DATA_BOOL) {
      if (!count) throw fail('EINVAL', 'DATA_BOOL needs count 1');
      if (data[0] && cur !== null) this.#signal(index, 0, cur);
      return cur;
    }
    if (!count) throw fail('EINVAL', 'DATA_EVENTFD needs count 1');
    const fd = data[0]!;
    if (fd === -1) return null;
    if (fd >= 0) return fd;
    return cur;
  }

  #errTriggerSet(index: number, start: number, count: number, flags: number, data: readonly number[]): void {
    if (start !== 0 || count > 1) throw fail('EINVAL', 'ERR TRIGGER needs start 0 and count at most 1');
    this.#errTrigger = this.#single(index, this.#errTrigger, count, flags, data);
  }

  #reqTriggerSet(index: number, start: number, count: number, flags: number, data: readonly number[]): void {
    if (start !== 0 || count > 1) throw fail('EINVAL', 'REQ TRIGGER needs start 0 and count at most 1');
    this.#reqTrigger = this.#single(index, this.#reqTrigger, count, flags, data);
  }

  // ---- the function raised an interrupt --------------------------------------------------------

  /** The host's interrupt handlers: true when an eventfd was signalled. */
  onHardware(kind: IrqKind, vector: number): boolean {
    switch (kind) {
      case 'intx':
        if (this.#type !== 'intx') return false;
        if (this.#intxMasked) {
          this.#intxPending = true;
          return false;
        }
        this.#intxMasked = true;
        return this.#sendIntx();
      case 'msi':
      case 'msix': {
        if (this.#type !== kind) return false;
        const t = this.#ctx[vector];
        if (t === null || t === undefined) return false;
        this.#signal(INDEX_OF[kind], vector, t);
        return true;
      }
      case 'err':
      case 'req': {
        const t = kind === 'err' ? this.#errTrigger : this.#reqTrigger;
        if (t === null) return false;
        this.#signal(INDEX_OF[kind], 0, t);
        return true;
      }
    }
  }

  /** Device release: every mode disabled, every trigger dropped (vfio_pci_core_disable). */
  disableAll(): void {
    if (this.#type === 'msi' || this.#type === 'msix') this.#msiDisable(this.#type === 'msix');
    else this.#intxDisable();
    this.#errTrigger = null;
    this.#reqTrigger = null;
  }
}
