/** A PCI function behind a PE, with its device model. Its DMA goes through its PE's windows. */
import { PciFunction, type DeviceModel } from './pci/function.js';
import { GenericModel } from './pci/generic.js';
import { NvmeModel } from './pci/nvme.js';
import { nvmeFunctionSpec, type PciFunctionSpec } from './pci/spec.js';
import type { Pe } from './pe.js';

function modelFor(spec: PciFunctionSpec): DeviceModel {
  return spec.model === 'nvme' ? new NvmeModel() : new GenericModel(spec.bars);
}

export class Device {
  /** PCI address `dddd:bb:dd.f`. */
  readonly address: string;
  readonly pe: Pe;
  readonly fn: PciFunction;

  constructor(address: string, pe: Pe, spec: PciFunctionSpec = nvmeFunctionSpec()) {
    this.address = address;
    this.pe = pe;
    this.fn = new PciFunction(address, spec);
    this.fn.model = modelFor(spec);
  }

  get model(): DeviceModel {
    return this.fn.model!;
  }
}
