/** In-process setup for device tests: a connection with a v2 container, a group and a device fd. */
import { afterEach } from 'vitest';
import { DEFAULT_TOPOLOGY, parseTopology, type TopologySpec } from '../../src/hw/topology.js';
import { createOpContext, createSystem, destroyOpContext, type OpContext, type System } from '../../src/ops/context.js';
import type { Events } from '../../src/wire/ops.generated.js';
import { call } from '../helpers/handlers.js';

export interface DeviceSetup {
  system: System;
  ctx: OpContext;
  container: number;
  group: number;
  dev: number;
  events: Events['VFIO_DEVICE_IRQ'][];
}

const contexts: OpContext[] = [];
afterEach(() => {
  for (const c of contexts.splice(0)) destroyOpContext(c);
});

/** A generic function next to an nvme one, for tests that need other capabilities. */
export const MIXED_TOPOLOGY: TopologySpec = parseTopology({
  phbs: [{
    pes: [
      { pe: 1, group: 1, devices: ['0000:01:00.0'] },
      { pe: 2, group: 2, devices: [{ address: '0000:02:00.0', model: 'generic', vendor_id: 0x10ee, device_id: 0x7021, class_code: 0x058000,
        interrupt_pin: 0, bars: [{ index: 0, kind: 'mem32', size: 4096 }, { index: 1, kind: 'io', size: 32 }], rom_size: 0x8000,
        pm: { no_soft_reset: true }, msi: { vectors: 1 } }] },
    ],
  }],
});

export function openDevice(opts: { group?: number; address?: string; topology?: TopologySpec; system?: System } = {}): DeviceSetup {
  const system = opts.system ?? createSystem({ topology: opts.topology ?? DEFAULT_TOPOLOGY });
  const ctx = createOpContext(system, contexts.length + 1, { memlockLimit: 1n << 32n });
  contexts.push(ctx);
  const events: Events['VFIO_DEVICE_IRQ'][] = [];
  ctx.notify = (name, payload) => {
    if (name === 'VFIO_DEVICE_IRQ') events.push(payload);
  };
  const container = call(ctx, 'VFIO_OPEN_CONTAINER', {}).fd;
  const groupNo = opts.group ?? 1;
  const group = call(ctx, 'VFIO_GROUP_OPEN', { group: groupNo }).fd;
  call(ctx, 'VFIO_GROUP_SET_CONTAINER', { fd: group, container });
  call(ctx, 'VFIO_SET_IOMMU', { fd: container, type: 7 });
  const address = opts.address ?? system.host.peOfGroup(groupNo)!.devices[0]!.address;
  const dev = call(ctx, 'VFIO_GROUP_GET_DEVICE_FD', { fd: group, name: address }).fd;
  return { system, ctx, container, group, dev, events };
}

export const CONFIG = 7n << 40n;
export const BAR0 = 0n;

export function cfgRead(s: DeviceSetup, off: number, len: number): number {
  const d = call(s.ctx, 'VFIO_DEVICE_REGION_READ', { fd: s.dev, offset: CONFIG + BigInt(off), count: len }).data;
  let v = 0;
  for (let i = len - 1; i >= 0; i--) v = v * 256 + d[i]!;
  return v >>> 0;
}

export function cfgWrite(s: DeviceSetup, off: number, len: number, v: number): void {
  const data = new Uint8Array(len);
  for (let i = 0; i < len; i++) data[i] = (v >>> (8 * i)) & 0xff;
  call(s.ctx, 'VFIO_DEVICE_REGION_WRITE', { fd: s.dev, offset: CONFIG + BigInt(off), data });
}

export function barRead(s: DeviceSetup, off: number, len = 4, bar = 0): number {
  const d = call(s.ctx, 'VFIO_DEVICE_REGION_READ', { fd: s.dev, offset: (BigInt(bar) << 40n) + BigInt(off), count: len }).data;
  let v = 0;
  for (let i = d.length - 1; i >= 0; i--) v = v * 256 + d[i]!;
  return v >>> 0;
}

export function barWrite(s: DeviceSetup, off: number, v: number, len = 4, bar = 0): number {
  const data = new Uint8Array(len);
  for (let i = 0; i < len; i++) data[i] = (v >>> (8 * i)) & 0xff;
  return call(s.ctx, 'VFIO_DEVICE_REGION_WRITE', { fd: s.dev, offset: (BigInt(bar) << 40n) + BigInt(off), data }).count;
}
