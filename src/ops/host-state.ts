/**
 * HOST_STATE: the whole emulated host as data — every connection's state, not just the caller's.
 * Built by walking the model and the connections' handle tables; nothing is changed.
 */
import type { Device } from '../hw/device.js';
import { PCI_STATUS } from '../hw/pci/config-space.js';
import { GuestTceTable } from '../kvm/guest-tce-table.js';
import { Vm } from '../kvm/vm.js';
import type { Container } from '../vfio/container.js';
import { VfioDevice } from '../vfio/device.js';
import { GroupFile } from '../vfio/group.js';
import type { HostConnection, HostContainer, HostDevice, HostPhb, HostVm } from '../wire/structs.js';
import type { ConnectionRecord, HandlerMap, System } from './context.js';

const containerIds = new WeakMap<Container, number>();
let nextContainerId = 1;

function containerId(c: Container): number {
  let id = containerIds.get(c);
  if (id === undefined) {
    id = nextContainerId++;
    containerIds.set(c, id);
  }
  return id;
}

function deviceState(d: Device, openFds: VfioDevice[]): HostDevice {
  const fn = d.fn;
  const bars = fn.bars
    .filter((b) => b !== undefined)
    .map((b) => ({ index: b.index, kind: b.kind as string, size: b.size, addr: fn.barAddress(b.index) }));
  const vfio = openFds[0];
  return {
    address: d.address,
    model: d.model.name,
    vendor_id: fn.spec.vendorId,
    device_id: fn.spec.deviceId,
    class_code: fn.spec.classCode,
    command: fn.command,
    status: fn.config.get16(PCI_STATUS),
    bars,
    open: openFds.length,
    irq_type: vfio?.irqs.type ?? 'none',
    armed: vfio?.irqs.armed() ?? [],
  };
}

export function hostState(system: System): {
  phbs: HostPhb[]; containers: HostContainer[]; vms: HostVm[]; connections: HostConnection[];
} {
  const conns = [...system.connections.entries()].sort((a, b) => a[0] - b[0]);
  const holder = new Map<number, number>();
  const deviceFds = new Map<Device, VfioDevice[]>();
  const containerFd = new Map<Container, { connection: number; fd: number }>();
  const vms: HostVm[] = [];
  for (const [id, rec] of conns) {
    for (const { fd, obj } of rec.ctx.handles.entries()) {
      if (obj instanceof GroupFile) holder.set(obj.group.number, id);
      else if (obj instanceof VfioDevice) {
        holder.set(obj.file.group.number, id);
        const list = deviceFds.get(obj.device) ?? [];
        list.push(obj);
        deviceFds.set(obj.device, list);
      } else if (obj instanceof Vm) {
        vms.push({ connection: id, fd, tables: [...obj.tables()].map((t) => tableState(system, t)) });
      } else if (isContainer(system, obj)) {
        containerFd.set(obj, { connection: id, fd });
      }
    }
  }
  const phbs: HostPhb[] = system.host.phbs.map((phb) => ({
    index: phb.index,
    name: phb.name,
    model: phb.spec.model,
    pes: phb.pes.map((pe) => {
      const group = system.vfio.group(pe.group);
      return {
        pe: pe.number,
        group: pe.group,
        faults: pe.faults,
        eeh: { state: pe.eeh.state, mmio_frozen: pe.eeh.mmioFrozen, dma_frozen: pe.eeh.dmaFrozen, reset: pe.eeh.reset, freezes: pe.eeh.freezes },
        holder: holder.get(pe.group) ?? null,
        container: group.container === undefined ? null : containerId(group.container),
        devices: pe.devices.map((d) => deviceState(d, deviceFds.get(d) ?? [])),
      };
    }),
  }));
  const containers: HostContainer[] = [...system.vfio.containers].map((c) => {
    const at = containerFd.get(c);
    const b = c.backend;
    return {
      id: containerId(c),
      connection: at?.connection ?? null,
      fd: at?.fd ?? null,
      backend: b === undefined ? 'none' : b.v2 ? 'spapr_tce_v2' : 'spapr_tce',
      groups: c.groups.map((g) => g.number),
      windows: (b?.windows ?? []).map((w) => {
        let mapped = 0;
        w.table.forEachNonZero((_i, lo) => {
          if (lo & 3) mapped++;
        });
        return {
          start_addr: w.table.busStart,
          page_shift: w.table.pageShift,
          window_size: w.table.windowSize,
          levels: w.table.levels,
          mapped,
          table_bytes: BigInt(w.table.allocatedBytes),
        };
      }),
    };
  }).sort((a, b) => a.id - b.id);
  const connections: HostConnection[] = conns.map(([id, rec]: [number, ConnectionRecord]) => ({
    id,
    transport: rec.transport,
    peer: rec.peer,
    name: rec.name,
    handles: rec.ctx.handles.size,
    locked_bytes: rec.ctx.mm.lockedBytes,
    locked_limit: rec.ctx.mm.limitBytes,
    prereg: rec.ctx.mm.prereg.regions.map((r) => ({ vaddr: r.vaddr, size: r.size })),
  }));
  return { phbs, containers, vms, connections };
}

function isContainer(system: System, obj: unknown): obj is Container {
  return system.vfio.containers.has(obj as Container);
}

function tableState(system: System, t: GuestTceTable): HostVm['tables'][number] {
  const windows = new Set(t.targets().map((x) => x.identity));
  const linked = system.host.pes.filter((pe) => pe.windows.some((w) => w !== undefined && windows.has(w))).map((pe) => pe.group);
  return { liobn: t.liobn, page_shift: t.pageShift, offset: t.offset, size: t.size, linked_groups: linked };
}

export const hostStateHandlers: HandlerMap = {
  HOST_STATE: (ctx) => hostState(ctx.system),
};
