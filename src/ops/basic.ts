/** PING, TOPOLOGY and CLOSE: the ops every connection has regardless of the emulated hardware. */
import { nvmeFunctionSpec, type PciFunctionSpec } from '../hw/pci/spec.js';
import type { PhbSpec } from '../hw/topology.js';
import type { PciFunctionInfo, PhbInfo } from '../wire/structs.js';
import type { HandlerMap } from './context.js';

export function functionInfo(address: string, f: PciFunctionSpec): PciFunctionInfo {
  const bars = f.bars
    .map((b) => ({ index: b.index, kind: b.kind as string, size: b.size, prefetchable: b.prefetchable }))
    .sort((a, b) => a.index - b.index);
  if (f.romSize > 0n) bars.push({ index: 6, kind: 'rom', size: f.romSize, prefetchable: false });
  return {
    address,
    model: f.model,
    vendor_id: f.vendorId,
    device_id: f.deviceId,
    class_code: f.classCode,
    config_size: f.pcie ? 4096 : 256,
    bars,
  };
}

export function phbInfo(phb: PhbSpec): PhbInfo {
  return {
    index: phb.index,
    kind: phb.kind,
    name: phb.name,
    model: phb.model,
    page_shifts: [...phb.pageShifts],
    max_levels: phb.maxLevels,
    window_starts: [...phb.windowStarts],
    max_dynamic_windows: phb.maxDynamicWindows,
    dma32_window: { ...phb.dma32 },
    mmio32: { ...phb.mmio32 },
    msi: { ...phb.msi },
    max_level_bytes: phb.maxLevelBytes,
    groups: phb.pes.map((pe) => ({ group: pe.group, pe: pe.pe, devices: [...pe.devices],
      functions: pe.devices.map((a, i) => functionInfo(a, pe.functions?.[i] ?? nvmeFunctionSpec())) })),
  };
}

export const basicHandlers: HandlerMap = {
  PING: (_ctx, req) => (req.data === undefined ? {} : { data: req.data }),

  TOPOLOGY: (ctx) => ({
    host_page_shift: ctx.system.topology.hostPageShift,
    phbs: ctx.system.topology.phbs.map(phbInfo),
  }),

  CLOSE: (ctx, req) => {
    ctx.handles.close(req.fd);
    return {};
  },
};
