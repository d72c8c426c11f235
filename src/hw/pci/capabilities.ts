/**
 * Capability structures in config space: Power Management, MSI (64-bit, optional per-vector
 * masking), MSI-X (table and PBA in a BAR) and PCI Express (endpoint). Each builder lays its
 * capability out at an offset, links it into the list and sets which bits are writable.
 */
import { ConfigSpace, PCI_CAPABILITY_LIST, PCI_STATUS, PCI_STATUS_CAP_LIST } from './config-space.js';
import type { MsiSpec, MsixSpec } from './spec.js';

export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;

/** PM: control/status register offset and bits. */
export const PCI_PM_CTRL = 4;
export const PCI_PM_CTRL_STATE_MASK = 0x3;
export const PCI_PM_CTRL_NO_SOFT_RESET = 0x8;
export const PCI_PM_CTRL_PME_ENABLE = 0x100;
export const PCI_PM_CTRL_PME_STATUS = 0x8000;

/** MSI. */
export const PCI_MSI_FLAGS = 2;
export const PCI_MSI_FLAGS_ENABLE = 0x1;
export const PCI_MSI_FLAGS_QMASK = 0xe;
export const PCI_MSI_FLAGS_QSIZE = 0x70;
export const PCI_MSI_FLAGS_64BIT = 0x80;
export const PCI_MSI_FLAGS_MASKBIT = 0x100;
export const PCI_MSI_ADDRESS_LO = 4;
export const PCI_MSI_ADDRESS_HI = 8;
export const PCI_MSI_DATA_64 = 12;
export const PCI_MSI_MASK_64 = 16;
export const PCI_MSI_PENDING_64 = 20;

/** MSI-X. */
export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x7ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_PBA = 8;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

/** PCI Express. */
export const PCI_EXP_FLAGS = 2;
export const PCI_EXP_DEVCAP = 4;
export const PCI_EXP_DEVCAP_FLR = 0x1000_0000;
export const PCI_EXP_DEVCTL = 8;
export const PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
export const PCI_EXP_DEVSTA = 10;
export const PCI_EXP_LNKCAP = 12;
export const PCI_EXP_LNKSTA = 18;
export const PCI_EXP_CAP_SIZE = 0x3c;

export interface CapRange {
  id: number;
  start: number;
  length: number;
}

/** Where each capability sits (0 = absent) and every capability's byte range. */
export interface CapLayout {
  pm: number;
  msi: number;
  msix: number;
  pcie: number;
  ranges: CapRange[];
}

export class CapBuilder {
  readonly cs: ConfigSpace;
  readonly layout: CapLayout = { pm: 0, msi: 0, msix: 0, pcie: 0, ranges: [] };
  #next = 0x40;
  #lastNextPtr = PCI_CAPABILITY_LIST;

  constructor(cs: ConfigSpace) {
    this.cs = cs;
  }

  #add(id: number, length: number): number {
    const at = this.#next;
    if (at + length > 0x100) throw new RangeError('capabilities do not fit the 256-byte header space');
    this.cs.set8(this.#lastNextPtr, at);
    this.cs.set8(at, id);
    this.cs.set8(at + 1, 0);
    this.#lastNextPtr = at + 1;
    this.#next = (at + length + 3) & ~3;
    this.cs.set16(PCI_STATUS, this.cs.get16(PCI_STATUS) | PCI_STATUS_CAP_LIST);
    this.layout.ranges.push({ id, start: at, length });
    return at;
  }

  pm(noSoftReset: boolean): void {
    const at = this.#add(PCI_CAP_ID_PM, 8);
    this.cs.set16(at + 2, 0x0003); // PM spec 1.2
    this.cs.set16(at + PCI_PM_CTRL, noSoftReset ? PCI_PM_CTRL_NO_SOFT_RESET : 0);
    this.cs.setMasks(at + PCI_PM_CTRL, 2, PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE, PCI_PM_CTRL_PME_STATUS);
    this.layout.pm = at;
  }

  msi(spec: MsiSpec): void {
    const len = spec.perVectorMask ? 24 : 14;
    const at = this.#add(PCI_CAP_ID_MSI, len);
    const qmask = Math.log2(spec.vectors) << 1;
    this.cs.set16(at + PCI_MSI_FLAGS, qmask | PCI_MSI_FLAGS_64BIT | (spec.perVectorMask ? PCI_MSI_FLAGS_MASKBIT : 0));
    this.cs.setMasks(at + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    this.cs.setMasks(at + PCI_MSI_ADDRESS_LO, 4, 0xffff_fffc);
    this.cs.setMasks(at + PCI_MSI_ADDRESS_HI, 4, 0xffff_ffff);
    this.cs.setMasks(at + PCI_MSI_DATA_64, 2, 0xffff);
    if (spec.perVectorMask) {
      this.cs.setMasks(at + PCI_MSI_MASK_64, 4, spec.vectors === 32 ? 0xffff_ffff : (2 ** spec.vectors) - 1);
    }
    this.layout.msi = at;
  }

  msix(spec: MsixSpec): void {
    const at = this.#add(PCI_CAP_ID_MSIX, 12);
    this.cs.set16(at + PCI_MSIX_FLAGS, spec.vectors - 1);
    this.cs.setMasks(at + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    this.cs.set32(at + PCI_MSIX_TABLE, (spec.tableOffset | spec.bar) >>> 0);
    this.cs.set32(at + PCI_MSIX_PBA, (spec.pbaOffset | spec.bar) >>> 0);
    this.layout.msix = at;
  }

  pcie(flr: boolean): void {
    const at = this.#add(PCI_CAP_ID_EXP, PCI_EXP_CAP_SIZE);
    this.cs.set16(at + PCI_EXP_FLAGS, 0x0002); // version 2, PCI Express endpoint
    this.cs.set32(at + PCI_EXP_DEVCAP, flr ? PCI_EXP_DEVCAP_FLR : 0);
    // Device control: error reporting, relaxed ordering, max payload/read request, no snoop.
    this.cs.setMasks(at + PCI_EXP_DEVCTL, 2, 0x7fff);
    this.cs.setMasks(at + PCI_EXP_DEVSTA, 2, 0, 0x000f);
    this.cs.set32(at + PCI_EXP_LNKCAP, 0x0000_0441); // 2.5 GT/s, x4
    this.cs.set16(at + PCI_EXP_LNKSTA, 0x0041);
    this.layout.pcie = at;
  }
}
