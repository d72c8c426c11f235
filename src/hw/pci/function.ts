/**
 * One PCI function: its config space (type-0 header, BARs with size masks, expansion ROM BAR,
 * capabilities), its BARs' contents through its device model, MSI-X table and PBA, interrupts and
 * resets. This is the hardware; VFIO's virtualization of it lives in src/vfio.
 */
import { CapBuilder, PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QSIZE, PCI_MSI_MASK_64, PCI_MSI_PENDING_64, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL, PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET,
  type CapLayout } from './capabilities.js';
import {
  ConfigSpace, PCI_BASE_ADDRESS_0, PCI_CFG_SPACE_EXP_SIZE, PCI_CFG_SPACE_SIZE, PCI_CLASS_PROG, PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_WRITABLE, PCI_DEVICE_ID, PCI_HEADER_TYPE, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN,
  PCI_CACHE_LINE_SIZE, PCI_LATENCY_TIMER, PCI_BIST, PCI_REVISION_ID, PCI_ROM_ADDRESS, PCI_STATUS,
  PCI_STATUS_W1C, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID,
} from './config-space.js';
import { IrqLines } from './irq.js';
import type { BarKind, PciFunctionSpec } from './spec.js';

/** What a device model does with its BARs. Offsets are within the BAR; len 1, 2, 4 or 8. */
export interface DeviceModel {
  readonly name: string;
  barRead(bar: number, offset: number, len: number): Uint8Array;
  barWrite(bar: number, offset: number, data: Uint8Array): void;
  /** Back to power-on register values. */
  reset(): void;
}

export interface Bar {
  index: number;
  /** "rom" for the expansion ROM (index 6). */
  kind: BarKind | 'rom';
  size: bigint;
  prefetchable: boolean;
}

export class PciFunction {
  readonly address: string;
  readonly spec: PciFunctionSpec;
  readonly config: ConfigSpace;
  readonly caps: CapLayout;
  readonly irq = new IrqLines();
  /** Implemented BARs by region index (0-5), and the ROM at 6; the upper half of a mem64 BAR is absent. */
  readonly bars: readonly (Bar | undefined)[];
  model: DeviceModel | undefined;
  readonly #msixTable: Uint8Array;
  readonly #msixPba: Uint8Array;
  /** BAR registers as the host assigned them, restored after a reset by whoever owns the function. */
  #assigned: Uint8Array | undefined;
  /** Region indexes the host gave an address (the kernel's resources: a reset does not change them). */
  readonly #assignedIndexes = new Set<number>();

  constructor(address: string, spec: PciFunctionSpec) {
    this.address = address;
    this.spec = spec;
    const cs = new ConfigSpace(spec.pcie ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE);
    this.config = cs;
    cs.set16(PCI_VENDOR_ID, spec.vendorId);
    cs.set16(PCI_DEVICE_ID, spec.deviceId);
    cs.set8(PCI_REVISION_ID, spec.revision);
    cs.set8(PCI_CLASS_PROG, spec.classCode & 0xff);
    cs.set16(PCI_CLASS_PROG + 1, spec.classCode >>> 8);
    cs.set8(PCI_HEADER_TYPE, 0);
    cs.set16(PCI_SUBSYSTEM_VENDOR_ID, spec.subsystemVendorId);
    cs.set16(PCI_SUBSYSTEM_ID, spec.subsystemId);
    cs.set8(PCI_INTERRUPT_PIN, spec.interruptPin);
    cs.setMasks(PCI_COMMAND, 2, PCI_COMMAND_WRITABLE);
    cs.setMasks(PCI_STATUS, 2, 0, PCI_STATUS_W1C);
    cs.setMasks(PCI_CACHE_LINE_SIZE, 1, 0xff);
    cs.setMasks(PCI_LATENCY_TIMER, 1, 0xff);
    cs.setMasks(PCI_BIST, 1, 0);
    cs.setMasks(PCI_INTERRUPT_LINE, 1, 0xff);

    const bars: (Bar | undefined)[] = new Array<Bar | undefined>(7).fill(undefined);
    for (const b of spec.bars) {
      bars[b.index] = { index: b.index, kind: b.kind, size: b.size, prefetchable: b.prefetchable };
      const off = PCI_BASE_ADDRESS_0 + 4 * b.index;
      const size = b.size;
      if (b.kind === 'io') {
        cs.set32(off, 0x1);
        cs.setMasks(off, 4, Number(~(size - 1n) & 0xffff_fffcn));
      } else {
        const type = (b.kind === 'mem64' ? 0x4 : 0) | (b.prefetchable ? 0x8 : 0);
        cs.set32(off, type);
        cs.setMasks(off, 4, Number(~(size - 1n) & 0xffff_fff0n));
        if (b.kind === 'mem64') cs.setMasks(off + 4, 4, Number((~(size - 1n) >> 32n) & 0xffff_ffffn));
      }
    }
    if (spec.romSize > 0n) {
      bars[6] = { index: 6, kind: 'rom', size: spec.romSize, prefetchable: false };
      cs.setMasks(PCI_ROM_ADDRESS, 4, Number(~(spec.romSize - 1n) & 0xffff_f800n) | 0x1);
    }
    this.bars = bars;

    const caps = new CapBuilder(cs);
    if (spec.pm !== null) caps.pm(spec.pm.noSoftReset);
    if (spec.msi !== null) caps.msi(spec.msi);
    if (spec.msix !== null) caps.msix(spec.msix);
    if (spec.pcie) caps.pcie(spec.flr);
    this.caps = caps.layout;
    const vectors = spec.msix?.vectors ?? 0;
    this.#msixTable = new Uint8Array(vectors * PCI_MSIX_ENTRY_SIZE);
    this.#msixPba = new Uint8Array(Math.ceil(vectors / 64) * 8);
    this.#resetMsix();
    cs.sealResetImage();
  }

  get configSize(): number {
    return this.config.size;
  }

  /** Whether the function has a reset method Linux would use: FLR, or PM reset without NoSoftReset. */
  get canReset(): boolean {
    const flr = this.caps.pcie !== 0 && (this.config.get32(this.caps.pcie + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR) !== 0;
    const pm = this.caps.pm !== 0 && (this.config.get16(this.caps.pm + PCI_PM_CTRL) & PCI_PM_CTRL_NO_SOFT_RESET) === 0;
    return flr || pm;
  }

  get command(): number {
    return this.config.get16(PCI_COMMAND);
  }

  /** The hardware BAR value (address bits | type bits) of a region index; bigint for mem64. */
  barAddress(index: number): bigint {
    const b = this.bars[index];
    if (b === undefined) return 0n;
    if (b.kind === 'rom') return BigInt(this.config.get32(PCI_ROM_ADDRESS) & 0xffff_f800);
    const off = PCI_BASE_ADDRESS_0 + 4 * index;
    const lo = BigInt(this.config.get32(off));
    const mask = b.kind === 'io' ? ~3n : ~0xfn;
    const addr = b.kind === 'mem64' ? (BigInt(this.config.get32(off + 4)) << 32n) | lo : lo;
    return addr & mask & 0xffff_ffff_ffff_ffffn;
  }

  /** Host firmware's BAR assignment: programs the BARs and remembers them for after a reset. */
  assign(addresses: ReadonlyMap<number, bigint>): void {
    for (const [index, addr] of addresses) {
      const b = this.bars[index];
      if (b === undefined) continue;
      this.#assignedIndexes.add(index);
      if (b.kind === 'rom') {
        this.config.set32(PCI_ROM_ADDRESS, Number(addr & 0xffff_f800n));
        continue;
      }
      const off = PCI_BASE_ADDRESS_0 + 4 * index;
      const type = this.config.get32(off) & (b.kind === 'io' ? 0x3 : 0xf);
      this.config.set32(off, Number(addr & 0xffff_ffffn & (b.kind === 'io' ? ~3n : ~0xfn)) | type);
      if (b.kind === 'mem64') this.config.set32(off + 4, Number(addr >> 32n));
    }
    this.#assigned = this.config.read(PCI_BASE_ADDRESS_0, PCI_ROM_ADDRESS + 4 - PCI_BASE_ADDRESS_0);
  }

  /** Whether the host assigned region `index` an address (pci_resource_start ≠ 0). */
  isAssigned(index: number): boolean {
    return this.#assignedIndexes.has(index);
  }

  /** Writes the host's BAR assignment back (after a reset cleared it). */
  restoreAssignment(): void {
    if (this.#assigned !== undefined) this.config.bytes.set(this.#assigned, PCI_BASE_ADDRESS_0);
  }

  // ---- config space through the bus ------------------------------------------------------------

  configRead(offset: number, len: number): Uint8Array {
    return this.config.read(offset, len);
  }

  configWrite(offset: number, data: Uint8Array): void {
    this.config.write(offset, data);
  }

  // ---- BARs ------------------------------------------------------------------------------------

  barRead(bar: number, offset: number, len: number): Uint8Array {
    const msix = this.#msixWindow(bar, offset, len);
    if (msix !== undefined) return msix.mem.slice(msix.at, msix.at + len);
    return this.model?.barRead(bar, offset, len) ?? new Uint8Array(len);
  }

  barWrite(bar: number, offset: number, data: Uint8Array): void {
    const msix = this.#msixWindow(bar, offset, data.length);
    if (msix !== undefined) {
      if (msix.mem === this.#msixTable) msix.mem.set(data, msix.at); // the PBA is read-only
      return;
    }
    this.model?.barWrite(bar, offset, data);
  }

  #msixWindow(bar: number, offset: number, len: number): { mem: Uint8Array; at: number } | undefined {
    const m = this.spec.msix;
    if (m === null || bar !== m.bar) return undefined;
    if (offset >= m.tableOffset && offset + len <= m.tableOffset + this.#msixTable.length) {
      return { mem: this.#msixTable, at: offset - m.tableOffset };
    }
    if (offset >= m.pbaOffset && offset + len <= m.pbaOffset + this.#msixPba.length) {
      return { mem: this.#msixPba, at: offset - m.pbaOffset };
    }
    return undefined;
  }

  #resetMsix(): void {
    this.#msixTable.fill(0);
    this.#msixPba.fill(0);
    for (let v = 0; v * PCI_MSIX_ENTRY_SIZE < this.#msixTable.length; v++) {
      this.#msixTable[v * PCI_MSIX_ENTRY_SIZE + 12] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
    }
  }

  // ---- interrupts --------------------------------------------------------------------------------

  /** Vectors the MSI capability offers (Multiple Message Capable), 0 without one. */
  get msiVectors(): number {
    return this.spec.msi?.vectors ?? 0;
  }

  get msixVectors(): number {
    return this.spec.msix?.vectors ?? 0;
  }

  /** The host kernel enabling MSI with `nvec` vectors (0 disables), unmasked. */
  setMsi(nvec: number): void {
    const at = this.caps.msi;
    if (at === 0) return;
    let flags = this.config.get16(at + PCI_MSI_FLAGS) & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    if (nvec > 0) flags |= PCI_MSI_FLAGS_ENABLE | (Math.ceil(Math.log2(nvec)) << 4);
    this.config.set16(at + PCI_MSI_FLAGS, flags);
    if (flags & PCI_MSI_FLAGS_MASKBIT) this.config.set32(at + PCI_MSI_MASK_64, 0);
  }

  /** The host kernel enabling MSI-X (entries unmasked for the vectors it uses) or disabling it. */
  setMsix(nvec: number): void {
    const at = this.caps.msix;
    if (at === 0) return;
    let flags = this.config.get16(at + PCI_MSIX_FLAGS) & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    if (nvec > 0) flags |= PCI_MSIX_FLAGS_ENABLE;
    this.config.set16(at + PCI_MSIX_FLAGS, flags);
    for (let v = 0; v * PCI_MSIX_ENTRY_SIZE < this.#msixTable.length; v++) {
      this.#msixTable[v * PCI_MSIX_ENTRY_SIZE + 12] = v < nvec ? 0 : PCI_MSIX_ENTRY_CTRL_MASKBIT;
    }
  }

  /**
   * The function signals interrupt `kind`/`vector` as its hardware would: an MSI or MSI-X message
   * only while that mode is enabled and the vector unmasked (else the pending bit is set), an INTx
   * assertion only with an interrupt pin and INTx not disabled in the command register. True when
   * a listener delivered it.
   */
  raise(kind: 'intx' | 'msi' | 'msix' | 'err' | 'req', vector: number): boolean {
    const cs = this.config;
    switch (kind) {
      case 'intx': {
        if (this.spec.interruptPin === 0) return false;
        if (cs.get16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) return false;
        return this.irq.emit('intx', 0);
      }
      case 'msi': {
        const at = this.caps.msi;
        if (at === 0) return false;
        const flags = cs.get16(at + PCI_MSI_FLAGS);
        const enabled = 1 << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);
        if (!(flags & PCI_MSI_FLAGS_ENABLE) || vector >= enabled) return false;
        if (flags & PCI_MSI_FLAGS_MASKBIT && (cs.get32(at + PCI_MSI_MASK_64) >>> vector) & 1) {
          cs.set32(at + PCI_MSI_PENDING_64, (cs.get32(at + PCI_MSI_PENDING_64) | (1 << vector)) >>> 0);
          return false;
        }
        return this.irq.emit('msi', vector);
      }
      case 'msix': {
        const at = this.caps.msix;
        if (at === 0 || vector >= this.msixVectors) return false;
        const flags = cs.get16(at + PCI_MSIX_FLAGS);
        if (!(flags & PCI_MSIX_FLAGS_ENABLE)) return false;
        if (flags & PCI_MSIX_FLAGS_MASKALL || this.#msixTable[vector * PCI_MSIX_ENTRY_SIZE + 12]! & PCI_MSIX_ENTRY_CTRL_MASKBIT) {
          this.#msixPba[vector >> 3] = this.#msixPba[vector >> 3]! | (1 << (vector & 7));
          return false;
        }
        return this.irq.emit('msix', vector);
      }
      default:
        return this.irq.emit(kind, 0);
    }
  }

  // ---- resets ------------------------------------------------------------------------------------

  /** Power-on state: config space at reset values (BARs 0, command 0, MSI/MSI-X off), registers reset. */
  reset(): void {
    this.config.reset();
    this.#resetMsix();
    this.model?.reset();
  }
}
