/**
 * Transparent MSI for devices behind an smmu PHB (the design Linux ships, seed 002): when vfio-pci
 * enables MSI or MSI-X on a function, the MSI layer asks the IOMMU to make the doorbell reachable
 * (iommu_dma_prepare_msi): the doorbell page of the function's ITS is mapped in its domain at the
 * MSI cookie's next IOVA (or found already mapped), and the function is programmed to write there.
 * The function's MSI writes then go through the IOMMU like any DMA.
 *
 * Functions on sPAPR PHBs, or in a domain without a cookie, need nothing: their MSIs bypass
 * translation.
 */
import type { Device } from '../hw/device.js';
import { doorbellOf } from '../hw/smmu-domain.js';
import type { Container } from './container.js';

/** The IOVA each function's MSI writes target, as composed at enable time. */
const MSI_TARGET = new WeakMap<Device, bigint>();

/**
 * Called before MSI/MSI-X is enabled on `device`: ENOSPC (from Type1Backend.prepareMsi) when the
 * doorbell cannot be mapped, and then nothing has changed.
 */
export function prepareDeviceMsi(device: Device, container: Container | undefined): void {
  if (device.pe.phb.spec.kind !== 'smmu') return;
  const prepared = container?.type1?.prepareMsi(device.pe, doorbellOf(device.pe));
  if (prepared === undefined) MSI_TARGET.delete(device);
  else MSI_TARGET.set(device, prepared.iova);
}

/** The IOVA the device's MSI messages are written to, if its doorbell needed a mapping. */
export function msiTargetOf(device: Device): bigint | undefined {
  return MSI_TARGET.get(device);
}

/**
 * The function sends an MSI: on an smmu PHB the write goes through its domain and must reach the
 * doorbell (counted as a delivery there); a translation fault loses the interrupt (and counts as
 * a fault of the PE). True when the message reaches the interrupt controller.
 */
export function msiWriteReaches(device: Device): boolean {
  if (device.pe.phb.spec.kind !== 'smmu') return true;
  const iova = MSI_TARGET.get(device) ?? doorbellOf(device.pe);
  try {
    return device.pe.translate(iova, 'write').addr === doorbellOf(device.pe);
  } catch {
    return false;
  }
}
