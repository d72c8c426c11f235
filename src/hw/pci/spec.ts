/** What a PCI function is made of: ids, BARs and capabilities. Built by device-config.ts or a model preset. */

export type BarKind = 'mem32' | 'mem64' | 'io';

export interface BarSpec {
  /** BAR number 0-5; a mem64 BAR also takes index + 1. */
  index: number;
  kind: BarKind;
  /** Bytes, a power of two (mem ≥ 16, io ≥ 4). */
  size: bigint;
  prefetchable: boolean;
}

export interface MsiSpec {
  /** Multiple Message Capable: 1, 2, 4, 8, 16 or 32. */
  vectors: number;
  perVectorMask: boolean;
}

export interface MsixSpec {
  vectors: number;
  /** BAR holding the table and the PBA, and their offsets in it. */
  bar: number;
  tableOffset: number;
  pbaOffset: number;
}

export interface PciFunctionSpec {
  model: 'nvme' | 'generic';
  vendorId: number;
  deviceId: number;
  /** 24-bit class code: base class, subclass, programming interface. */
  classCode: number;
  revision: number;
  subsystemVendorId: number;
  subsystemId: number;
  /** 0 none, 1-4 INTA-INTD. */
  interruptPin: number;
  /** PCI Express: 4 KiB config space and a PCI Express capability. */
  pcie: boolean;
  /** Function Level Reset advertised in the PCI Express device capabilities. */
  flr: boolean;
  bars: BarSpec[];
  /** Expansion ROM size in bytes, 0 for none. */
  romSize: bigint;
  pm: { noSoftReset: boolean } | null;
  msi: MsiSpec | null;
  msix: MsixSpec | null;
}

/** The nvme model's function: QEMU's NVMe ids, BAR0 16 KiB 64-bit with the MSI-X table in it. */
export function nvmeFunctionSpec(): PciFunctionSpec {
  return {
    model: 'nvme',
    vendorId: 0x1b36,
    deviceId: 0x0010,
    classCode: 0x010802,
    revision: 2,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
    interruptPin: 1,
    pcie: true,
    flr: true,
    bars: [{ index: 0, kind: 'mem64', size: 0x4000n, prefetchable: false }],
    romSize: 0n,
    pm: { noSoftReset: true },
    msi: { vectors: 4, perVectorMask: true },
    msix: { vectors: 16, bar: 0, tableOffset: 0x3000, pbaOffset: 0x3800 },
  };
}
