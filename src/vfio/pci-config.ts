/**
 * vfio-pci's virtualization of config space (drivers/vfio/pci/vfio_pci_config.c): per byte, which
 * bits come from the virtual copy (`virt`) instead of the function, and which bits the user may
 * write (`write`). Virtual writable bits change the copy; other writable bits are written to the
 * function with a read-modify-write of the access; everything else is dropped.
 */
import {
  PCI_CAP_ID_EXP, PCI_CAP_ID_MSI, PCI_CAP_ID_PM, PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR, PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR, PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_64, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QSIZE, PCI_MSI_MASK_64, PCI_PM_CTRL, PCI_PM_CTRL_PME_ENABLE, PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
} from '../hw/pci/capabilities.js';

const DEVCTL_PAYLOAD = 0x00e0;
const DEVCTL_PHANTOM = 0x0200;
const DEVCTL_READRQ = 0x7000;

/** PMC: PME_Support bits. */
const PCI_PM_CAP_PME_MASK = 0xf800;
import {
  PCI_BASE_ADDRESS_0, PCI_BIST, PCI_CACHE_LINE_SIZE, PCI_CAPABILITY_LIST, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE,
  PCI_DEVICE_ID, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, PCI_LATENCY_TIMER, PCI_ROM_ADDRESS, PCI_STATUS,
  PCI_STATUS_CAP_LIST, PCI_VENDOR_ID,
} from '../hw/pci/config-space.js';
import type { PciFunction } from '../hw/pci/function.js';

export interface ConfigHooks {
  /** The virtual INTx-disable bit changed (vfio masks / unmasks INTx delivery). */
  intxDisable(disabled: boolean): void;
  /** Initiate Function Level Reset was written in the PCI Express device control register. */
  flr(): void;
  /** MSI is the interrupt mode enabled through SET_IRQS (is_msi). */
  msiEnabled(): boolean;
  /** log2 of the MSI vectors last enabled through SET_IRQS (msi_qmax; 0 before any). */
  msiQmax(): number;
}

export class VfioPciConfig {
  readonly fn: PciFunction;
  readonly vconfig: Uint8Array;
  readonly #virt: Uint8Array;
  readonly #write: Uint8Array;
  readonly #hooks: ConfigHooks;

  constructor(fn: PciFunction, hooks: ConfigHooks) {
    this.fn = fn;
    this.#hooks = hooks;
    const size = fn.configSize;
    this.vconfig = fn.config.snapshot();
    this.#virt = new Uint8Array(size);
    this.#write = new Uint8Array(size);
    this.#initPerms();
    this.#fixupBars();
  }

  #set(off: number, len: number, virt: number, write: number): void {
    for (let i = 0; i < len; i++) {
      this.#virt[off + i] = (virt >>> (8 * i)) & 0xff;
      this.#write[off + i] = (write >>> (8 * i)) & 0xff;
    }
  }

  #initPerms(): void {
    const ALL = 0xffff_ffff;
    // Type-0 header (init_pci_cap_basic_perm).
    this.#set(PCI_VENDOR_ID, 2, 0xffff, 0);
    this.#set(PCI_DEVICE_ID, 2, 0xffff, 0);
    this.#set(PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE, 0xffff);
    this.#set(PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);
    this.#set(PCI_CACHE_LINE_SIZE, 1, 0, 0xff);
    this.#set(PCI_LATENCY_TIMER, 1, 0, 0xff);
    this.#set(PCI_BIST, 1, 0, 0xff);
    for (let i = 0; i < 6; i++) this.#set(PCI_BASE_ADDRESS_0 + 4 * i, 4, ALL, ALL);
    this.#set(PCI_ROM_ADDRESS, 4, ALL, ALL);
    this.#set(PCI_CAPABILITY_LIST, 1, 0xff, 0);
    this.#set(PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
    this.#set(PCI_INTERRUPT_PIN, 1, 0xff, 0);
    // Capabilities: the next pointer is always virtual.
    for (const cap of this.fn.caps.ranges) {
      this.#set(cap.start + 1, 1, 0xff, 0);
      const at = cap.start;
      if (cap.id === PCI_CAP_ID_PM) {
        // init_pci_cap_pm_perm: PME support, PME enable and status are virtual (and zeroed: the
        // guest cannot take PMEs); the power state is read-only and set by vfio on a write.
        this.#set(at + 2, 2, PCI_PM_CAP_PME_MASK, 0);
        const pmeBits = PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS;
        this.#set(at + PCI_PM_CTRL, 2, pmeBits, ~(pmeBits | PCI_PM_CTRL_STATE_MASK) & 0xffff);
        const pmc = this.vconfig[at + 3]! << 8;
        this.vconfig[at + 3] = (pmc & ~PCI_PM_CAP_PME_MASK) >> 8;
        this.vconfig[at + PCI_PM_CTRL + 1] = this.vconfig[at + PCI_PM_CTRL + 1]! & ~(pmeBits >> 8);
      } else if (cap.id === PCI_CAP_ID_MSI) {
        // The VMM emulates MSI; vfio keeps a virtual copy and enables MSI only through SET_IRQS.
        // Only the low byte of the control register: enable, QMASK and QSIZE (the kernel lets a
        // user rewrite the advertised QMASK in the virtual copy; the function's stays).
        this.#set(at + PCI_MSI_FLAGS, 1, 0xff, 0xff);
        this.#set(at + PCI_MSI_ADDRESS_LO, 4, ALL, ALL);
        this.#set(at + PCI_MSI_ADDRESS_HI, 4, ALL, ALL);
        this.#set(at + PCI_MSI_DATA_64, 2, 0xffff, 0xffff);
        if (this.fn.config.get16(at + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_MASKBIT) this.#set(at + PCI_MSI_MASK_64, 4, 0, ALL);
      } else if (cap.id === PCI_CAP_ID_EXP) {
        // init_pci_cap_exp_perm: FLR, max payload and max read request are virtual; phantom
        // functions are not writable; the rest of device control reaches the function.
        this.#set(at + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR | DEVCTL_PAYLOAD | DEVCTL_READRQ, ~DEVCTL_PHANTOM & 0xffff);
      }
    }
  }

  /** BARs and the ROM read back what the user wrote, masked by size, type bits kept; absent ones 0. */
  #fixupBars(): void {
    const v = new DataView(this.vconfig.buffer, this.vconfig.byteOffset, this.vconfig.byteLength);
    for (let i = 0; i < 6; i++) {
      const off = PCI_BASE_ADDRESS_0 + 4 * i;
      const bar = this.fn.bars[i];
      const upper = i > 0 && this.fn.bars[i - 1]?.kind === 'mem64';
      if (upper) {
        const size = this.fn.bars[i - 1]!.size;
        v.setUint32(off, (v.getUint32(off, true) & Number((~(size - 1n) >> 32n) & 0xffff_ffffn)) >>> 0, true);
        continue;
      }
      if (bar === undefined) {
        v.setUint32(off, 0, true);
        continue;
      }
      const flagBits = this.fn.config.get32(off) & (bar.kind === 'io' ? 0x3 : 0xf);
      const addrMask = Number(~(bar.size - 1n) & (bar.kind === 'io' ? 0xffff_fffcn : 0xffff_fff0n));
      v.setUint32(off, ((v.getUint32(off, true) & addrMask) | flagBits) >>> 0, true);
    }
    const rom = this.fn.bars[6];
    const romMask = rom === undefined ? 0 : Number(~(rom.size - 1n) & 0xffff_f800n) | 0x1;
    v.setUint32(PCI_ROM_ADDRESS, (v.getUint32(PCI_ROM_ADDRESS, true) & romMask) >>> 0, true);
  }

  /**
   * __vfio_pci_memory_enabled: memory decoding on in the virtual command register and the function
   * not in D3hot (PM control/status power state 3).
   */
  get memoryEnabled(): boolean {
    const pm = this.fn.caps.pm;
    if (pm !== 0 && (this.fn.config.get16(pm + PCI_PM_CTRL) & 0x3) === 0x3) return false;
    return (this.command & 0x2) !== 0;
  }

  /** The virtual command register (memory/I/O enable are tracked here too, as vfio does). */
  get command(): number {
    return this.vconfig[PCI_COMMAND]! | (this.vconfig[PCI_COMMAND + 1]! << 8);
  }

  /** Reads `len` bytes at `off`; `frozen`: the function's own bits read as all-ones (EEH). */
  read(off: number, len: number, frozen: boolean): Uint8Array {
    const hw = this.fn.configRead(off, len);
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const virt = this.#virt[off + i]!;
      const h = frozen ? 0xff : hw[i]!;
      out[i] = (h & ~virt) | (this.vconfig[off + i]! & virt);
    }
    return out;
  }

  /** Writes `data` at `off`; `frozen`: writes to the function are dropped (EEH), virtual ones still apply. */
  write(off: number, data: Uint8Array, frozen: boolean): void {
    const oldCmd = this.command;
    const hwCur = this.fn.configRead(off, data.length);
    const hwNew = new Uint8Array(data.length);
    let hwTouched = false;
    let barTouched = false;
    for (let i = 0; i < data.length; i++) {
      const at = off + i;
      const w = this.#write[at]!;
      const virt = this.#virt[at]!;
      const v = data[i]!;
      const vw = w & virt;
      if (vw) this.vconfig[at] = (this.vconfig[at]! & ~vw) | (v & vw);
      const pw = w & ~virt & 0xff;
      if (pw) hwTouched = true;
      hwNew[i] = (hwCur[i]! & ~pw) | (v & pw);
      if ((at >= PCI_BASE_ADDRESS_0 && at < PCI_BASE_ADDRESS_0 + 24) || (at >= PCI_ROM_ADDRESS && at < PCI_ROM_ADDRESS + 4)) barTouched = true;
    }
    if (hwTouched && !frozen) this.fn.configWrite(off, hwNew);
    if (barTouched) this.#fixupBars();
    this.#msiWritten(off, data.length, frozen);
    // vfio_pm_config_write: a write at the PM control register sets the requested power state.
    const pm = this.fn.caps.pm;
    if (pm !== 0 && off === pm + PCI_PM_CTRL && !frozen) {
      const ctl = this.fn.config.get16(pm + PCI_PM_CTRL);
      this.fn.config.set16(pm + PCI_PM_CTRL, (ctl & ~PCI_PM_CTRL_STATE_MASK) | (data[0]! & PCI_PM_CTRL_STATE_MASK));
    }
    // Memory and I/O enable are tracked in the virtual copy too (what BAR access checks).
    if (off <= PCI_COMMAND && off + data.length > PCI_COMMAND) {
      const user = data[PCI_COMMAND - off]!;
      this.vconfig[PCI_COMMAND] = (this.vconfig[PCI_COMMAND]! & ~0x3) | (user & 0x3);
    }
    if ((oldCmd ^ this.command) & PCI_COMMAND_INTX_DISABLE) {
      this.#hooks.intxDisable((this.command & PCI_COMMAND_INTX_DISABLE) !== 0);
    }
    const pcie = this.fn.caps.pcie;
    if (pcie !== 0) {
      const ctl = pcie + PCI_EXP_DEVCTL;
      const flrByte = ctl + 1;
      if (off <= flrByte && off + data.length > ctl && !frozen) {
        // vfio_exp_config_write: the user's max read request is applied to the function.
        const v = this.vconfig[ctl]! | (this.vconfig[ctl + 1]! << 8);
        this.fn.config.set16(ctl, (this.fn.config.get16(ctl) & ~DEVCTL_READRQ) | (v & DEVCTL_READRQ));
      }
      if (off <= flrByte && off + data.length > flrByte && (data[flrByte - off]! & 0x80)) {
        this.vconfig[flrByte] = this.vconfig[flrByte]! & 0x7f;
        // vfio_exp_config_write: only a function advertising FLR is reset.
        if (this.fn.config.get32(pcie + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR) this.#hooks.flr();
      }
    }
  }

  /**
   * vfio_msi_config_write: after a write covering the control register, ENABLE stays only while
   * MSI is enabled through SET_IRQS, QSIZE is capped at msi_qmax, and the word is written to the
   * virtual copy and to the function.
   */
  #msiWritten(off: number, len: number, frozen: boolean): void {
    const at = this.fn.caps.msi;
    if (at === 0) return;
    const reg = at + PCI_MSI_FLAGS;
    if (!(off <= reg && off + len >= reg)) return;
    let flags = this.vconfig[reg]! | (this.vconfig[reg + 1]! << 8);
    if (!this.#hooks.msiEnabled()) flags &= ~PCI_MSI_FLAGS_ENABLE;
    const qmax = this.#hooks.msiQmax();
    if ((flags & PCI_MSI_FLAGS_QSIZE) >> 4 > qmax) flags = (flags & ~PCI_MSI_FLAGS_QSIZE) | (qmax << 4);
    this.vconfig[reg] = flags & 0xff;
    this.vconfig[reg + 1] = flags >> 8;
    if (!frozen) this.fn.configWrite(reg, new Uint8Array([flags & 0xff, flags >> 8]));
  }
}
