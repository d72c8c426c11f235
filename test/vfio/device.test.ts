/** vfio-pci semantics of a device fd: config-space virtualization and SET_IRQS, checked in the kernel's order. */
import { describe, expect, it } from 'vitest';
import { errno, failure } from '../helpers/errors.js';
import { call } from '../helpers/handlers.js';
import { MIXED_TOPOLOGY, barRead, cfgRead, cfgWrite, openDevice, type DeviceSetup } from './device-setup.js';

const NONE = 1, BOOL = 2, EVENTFD = 4, MASK = 8, UNMASK = 16, TRIGGER = 32;

function setIrqs(s: DeviceSetup, flags: number, index: number, start: number, count: number, data?: number[]) {
  return call(s.ctx, 'VFIO_DEVICE_SET_IRQS', { fd: s.dev, flags, index, start, count, ...(data === undefined ? {} : { data }) });
}
const raise = (s: DeviceSetup, index: number, vector = 0) => call(s.ctx, 'DEVICE_RAISE_IRQ', { fd: s.dev, index, vector }).ret;

describe('config space through vfio-pci', () => {
  it('BARs are virtual: sizing reads the mask, values read back masked, the function keeps the host address', () => {
    const s = openDevice();
    const hwBar = s.system.host.peOfGroup(1)!.devices[0]!.fn.barAddress(0);
    expect(cfgRead(s, 0x10, 4)).toBe((Number(hwBar & 0xffff_fff0n) | 0x4) >>> 0); // starts as the host assignment
    cfgWrite(s, 0x10, 4, 0xffff_ffff);
    cfgWrite(s, 0x14, 4, 0xffff_ffff);
    expect(cfgRead(s, 0x10, 4)).toBe(0xffff_c004);
    expect(cfgRead(s, 0x14, 4)).toBe(0xffff_ffff);
    cfgWrite(s, 0x10, 4, 0x2000_1234);
    cfgWrite(s, 0x14, 4, 0x1);
    expect(cfgRead(s, 0x10, 4)).toBe(0x2000_0004);
    expect(cfgRead(s, 0x14, 4)).toBe(0x1);
    expect(s.system.host.peOfGroup(1)!.devices[0]!.fn.barAddress(0)).toBe(hwBar);
    for (const off of [0x18, 0x1c, 0x20, 0x24, 0x30]) {
      cfgWrite(s, off, 4, 0xffff_ffff);
      expect(cfgRead(s, off, 4)).toBe(0); // unimplemented BARs and absent ROM read 0
    }
    cfgWrite(s, 0x12, 2, 0xffff); // a partial write of the upper half only: the low half stays
    expect(cfgRead(s, 0x10, 4)).toBe(0xffff_0004);
  });

  it('ROM sizing (QEMU writes 0xfffff800 at 0x30), ids and pin read-only, interrupt line virtual', () => {
    const s = openDevice({ topology: MIXED_TOPOLOGY, group: 2 });
    cfgWrite(s, 0x30, 4, 0xffff_f800);
    expect(cfgRead(s, 0x30, 4)).toBe(0xffff_8000);
    cfgWrite(s, 0x30, 4, 0);
    expect(cfgRead(s, 0x30, 4)).toBe(0);
    cfgWrite(s, 0, 4, 0);
    expect(cfgRead(s, 0, 4)).toBe(0x7021_10ee);
    cfgWrite(s, 0x3c, 1, 0x55);
    expect(cfgRead(s, 0x3c, 2)).toBe(0x0055); // pin 0 stays 0
    cfgWrite(s, 0x14, 4, 0xffff_ffff);
    expect(cfgRead(s, 0x14, 4)).toBe(0xffff_ffe1); // I/O BAR of 32 bytes
  });

  it('capability walk, MSI virtual (enable, QSIZE capped), PM control written through', () => {
    const s = openDevice();
    const ids: number[] = [];
    let msi = 0;
    let pm = 0;
    for (let p = cfgRead(s, 0x34, 1); p !== 0; p = cfgRead(s, p + 1, 1)) {
      const id = cfgRead(s, p, 1);
      if (id === 5) msi = p;
      if (id === 1) pm = p;
      ids.push(id);
    }
    expect(ids).toEqual([1, 5, 0x11, 0x10]);
    const fn = s.system.host.peOfGroup(1)!.devices[0]!.fn;
    expect(cfgRead(s, msi + 2, 2)).toBe(0x0184); // 64-bit, maskable, 4 vectors
    cfgWrite(s, msi + 2, 2, 0x00f5); // 64-bit, enable, 128 vectors, QMASK bits 010
    // vfio_msi_config_write: ENABLE only while MSI is on through SET_IRQS, QSIZE capped at
    // msi_qmax (0 before any), the low byte otherwise virtual: QMASK and 64BIT read as written.
    expect(cfgRead(s, msi + 2, 2)).toBe(0x0184);
    cfgWrite(s, msi + 2, 1, 0x75);
    expect(cfgRead(s, msi + 2, 2)).toBe(0x0104);
    cfgWrite(s, msi + 2, 1, 0xf3);
    expect(cfgRead(s, msi + 2, 2)).toBe(0x0182); // 2 vectors advertised now (the kernel's quirk)
    expect(fn.config.get16(msi + 2) & 0x0f).toBe(0x04); // the function's QMASK is read-only
    call(s.ctx, 'VFIO_DEVICE_SET_IRQS', { fd: s.dev, flags: 4 | 32, index: 1, start: 0, count: 2, data: [8, 9] });
    cfgWrite(s, msi + 2, 1, 0xf5);
    expect(cfgRead(s, msi + 2, 2)).toBe(0x0195); // enabled, QSIZE capped at log2(2)
    expect(fn.config.get16(msi + 2) & 0x71).toBe(0x11);
    cfgWrite(s, msi + 2, 1, 0x84); // the user clearing ENABLE reaches the function
    expect(fn.config.get16(msi + 2) & 0x1).toBe(0);
    cfgWrite(s, msi + 4, 4, 0xfee0_0000);
    expect(cfgRead(s, msi + 4, 4)).toBe(0xfee0_0000);
    expect(cfgRead(s, pm + 4, 2) & 0x8).toBe(0x8);
    cfgWrite(s, pm + 4, 2, 0x3); // vfio_pm_config_write sets D3hot
    expect(fn.config.get16(pm + 4) & 3).toBe(3);
    expect(cfgRead(s, pm + 4, 2) & 0xb).toBe(0xb);
    cfgWrite(s, pm + 5, 1, 0x01); // a write not at PM control leaves the state alone
    expect(fn.config.get16(pm + 4) & 3).toBe(3);
    cfgWrite(s, pm + 4, 2, 0x0);
    fn.config.set16(pm + 4, fn.config.get16(pm + 4) | 0x8100); // PME status and enable in the function
    expect(cfgRead(s, pm + 4, 2) & 0x8100).toBe(0); // virtual and zero: the guest cannot take PMEs
  });

  it('command: memory enable reaches the function and gates BAR access; INTx disable is virtual', () => {
    const s = openDevice();
    const fn = s.system.host.peOfGroup(1)!.devices[0]!.fn;
    cfgWrite(s, 4, 2, 0x0406);
    expect(cfgRead(s, 4, 2)).toBe(0x0406);
    expect(fn.command & 0x0406).toBe(0x0006); // INTx disable not passed on
    cfgWrite(s, 4, 2, 0);
    expect(errno(() => barRead(s, 0))).toBe('EIO');
  });

  it('D3hot in PM control makes BAR access EIO; Initiate FLR in PCIe device control resets the function', () => {
    const s = openDevice();
    const fn = s.system.host.peOfGroup(1)!.devices[0]!.fn;
    const { pm, pcie } = fn.caps;
    cfgWrite(s, pm + 4, 2, 0x3);
    expect(errno(() => barRead(s, 8))).toBe('EIO');
    cfgWrite(s, pm + 4, 2, 0x0);
    call(s.ctx, 'VFIO_DEVICE_REGION_WRITE', { fd: s.dev, offset: 0x14n, data: new Uint8Array([1, 0, 0, 0]) });
    expect(barRead(s, 0x1c) & 1).toBe(1);
    cfgWrite(s, pcie + 8, 2, 0x2230); // MRRS 512, phantom (not writable), max payload 256 (virtual), relaxed ordering
    expect(fn.config.get16(pcie + 8)).toBe(0x2010);
    expect(cfgRead(s, pcie + 8, 2)).toBe(0x2030);
    cfgWrite(s, pcie + 8, 2, 0x2010);
    cfgWrite(s, pcie + 8, 2, 0x8000 | 0x2010);
    expect(barRead(s, 0x1c) & 1).toBe(0); // reset
    expect(cfgRead(s, pcie + 8, 2)).toBe(0x2010); // config restored, FLR bit reads 0
  });

  it('status and class code are the function\'s; status writes are dropped', () => {
    const s = openDevice();
    expect(cfgRead(s, 8, 4) >>> 8).toBe(0x010802);
    cfgWrite(s, 6, 2, 0xffff);
    expect(cfgRead(s, 6, 2)).toBe(0x0010);
  });
});

describe('VFIO_DEVICE_SET_IRQS: validation in vfio_set_irqs_validate_and_prepare order', () => {
  it('index, overflow, unknown flags, start/count against the index count, data type, data length', () => {
    const s = openDevice();
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 5, 0, 1, [3])).message).toMatch(/index 5/);
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 1, 1, 0xffff_fffe, [])).message).toMatch(/overflows/);
    expect(failure(() => setIrqs(s, 0x40 | EVENTFD | TRIGGER, 0, 0, 1, [3])).message).toMatch(/unknown bits/);
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 1, 4, 1, [3])).message).toMatch(/has 4 vector/);
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 1, 2, 3, [3, 4, 5])).message).toMatch(/has 4 vector/);
    expect(failure(() => setIrqs(s, EVENTFD | BOOL | TRIGGER, 0, 0, 1, [3])).message).toMatch(/exactly one of DATA/);
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 1, 0, 2, [3])).message).toMatch(/data has 1 entries/);
    expect(failure(() => setIrqs(s, BOOL | TRIGGER, 1, 0, 1, [256])).message).toMatch(/u8/);
    expect(failure(() => setIrqs(s, EVENTFD, 0, 0, 1, [3])).code).toBe('ENOTTY'); // no action
    expect(failure(() => setIrqs(s, EVENTFD | MASK | TRIGGER, 0, 0, 1, [3])).code).toBe('ENOTTY');
    expect(failure(() => setIrqs(s, NONE | MASK, 1, 0, 1)).code).toBe('ENOTTY'); // MSI masking not in vfio-pci
    expect(failure(() => setIrqs(s, NONE | UNMASK, 3, 0, 1)).code).toBe('ENOTTY');
    expect(failure(() => setIrqs(s, EVENTFD | MASK, 0, 0, 1, [3])).code).toBe('EINVAL'); // INTx not enabled yet
    expect(s.system.host.peOfGroup(1)!.devices[0]!.fn.config.get16(s.system.host.peOfGroup(1)!.devices[0]!.fn.caps.msi + 2) & 1).toBe(0);
  });

  it('a function without the capability: nothing can be set (start >= count 0)', () => {
    const s = openDevice({ topology: MIXED_TOPOLOGY, group: 2 });
    expect(failure(() => setIrqs(s, NONE | TRIGGER, 0, 0, 0)).code).toBe('EINVAL');
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 2, 0, 1, [1])).code).toBe('EINVAL');
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 3, 0, 1, [1])).code).toBe('EINVAL'); // not PCIe: count 0
  });
});

describe('interrupt delivery', () => {
  it('INTx: armed, automasked on assertion, pending while masked, re-signalled on unmask; disable with count 0', () => {
    const s = openDevice();
    setIrqs(s, EVENTFD | TRIGGER, 0, 0, 1, [40]);
    expect(raise(s, 0)).toBe(1);
    expect(s.events).toEqual([{ fd: s.dev, index: 0, vector: 0, token: 40 }]);
    expect(raise(s, 0)).toBe(0); // automasked: pending
    setIrqs(s, NONE | UNMASK, 0, 0, 1);
    expect(s.events.length).toBe(2); // still asserted: signalled again, still masked
    setIrqs(s, NONE | UNMASK, 0, 0, 1);
    expect(raise(s, 0)).toBe(1);
    expect(s.events.length).toBe(3);
    setIrqs(s, BOOL | MASK, 0, 0, 1, [1]);
    setIrqs(s, BOOL | UNMASK, 0, 0, 1, [1]);
    setIrqs(s, NONE | TRIGGER, 0, 0, 1); // loopback
    expect(s.events.length).toBe(4);
    cfgWrite(s, 4, 2, 0x0406); // virtual INTx disable masks delivery
    setIrqs(s, NONE | UNMASK, 0, 0, 1);
    expect(raise(s, 0)).toBe(0);
    cfgWrite(s, 4, 2, 0x0006);
    expect(s.events.length).toBe(5); // unmasked by the command register with the line pending
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 1, 0, 1, [41])).message).toMatch(/while intx is enabled/);
    setIrqs(s, NONE | TRIGGER, 0, 0, 0);
    expect(raise(s, 0)).toBe(0);
  });

  it('MSI: enabling arms the vectors and the function\'s capability; block updates; loopback; disable', () => {
    const s = openDevice();
    const fn = s.system.host.peOfGroup(1)!.devices[0]!.fn;
    setIrqs(s, EVENTFD | TRIGGER, 1, 0, 2, [50, -1]);
    expect(fn.config.get16(fn.caps.msi + 2) & 1).toBe(1);
    expect(raise(s, 1, 0)).toBe(1);
    expect(raise(s, 1, 1)).toBe(0); // enabled, no eventfd
    setIrqs(s, EVENTFD | TRIGGER, 1, 1, 1, [51]);
    expect(raise(s, 1, 1)).toBe(1);
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 1, 1, 2, [1, 2])).message).toMatch(/2 enabled/);
    setIrqs(s, BOOL | TRIGGER, 1, 0, 2, [0, 1]);
    expect(s.events.map((e) => e.token)).toEqual([50, 51, 51]);
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 2, 0, 1, [60])).code).toBe('EINVAL'); // MSI-X while MSI on
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 0, 0, 1, [60])).code).toBe('EINVAL'); // INTx while MSI on
    setIrqs(s, NONE | TRIGGER, 1, 0, 0);
    expect(fn.config.get16(fn.caps.msi + 2) & 1).toBe(0);
    setIrqs(s, EVENTFD | TRIGGER, 2, 3, 1, [60]);
    expect(raise(s, 2, 3)).toBe(1);
    expect(s.events.at(-1)).toEqual({ fd: s.dev, index: 2, vector: 3, token: 60 });
  });

  it('ERR and REQ: count 0/1 rules, loopback, clear; an EEH freeze signals ERR', () => {
    const s = openDevice();
    expect(failure(() => setIrqs(s, EVENTFD | TRIGGER, 3, 0, 0, [])).code).toBe('EINVAL');
    expect(failure(() => setIrqs(s, BOOL | TRIGGER, 4, 0, 0, [])).code).toBe('EINVAL');
    setIrqs(s, EVENTFD | TRIGGER, 3, 0, 1, [70]);
    setIrqs(s, EVENTFD | TRIGGER, 4, 0, 1, [71]);
    setIrqs(s, NONE | TRIGGER, 4, 0, 1);
    expect(raise(s, 4)).toBe(1);
    call(s.ctx, 'VFIO_EEH_PE_OP', { fd: s.container, op: 9, type: 0, func: 12, addr: 0n, mask: 0n });
    expect(s.events.map((e) => [e.index, e.token])).toEqual([[4, 71], [4, 71], [3, 70]]);
    setIrqs(s, NONE | TRIGGER, 3, 0, 0);
    expect(raise(s, 3)).toBe(0);
  });

  it('closing the device fd disarms everything and resets the controller', () => {
    const s = openDevice();
    setIrqs(s, EVENTFD | TRIGGER, 2, 0, 16, new Array<number>(16).fill(9));
    call(s.ctx, 'VFIO_DEVICE_REGION_WRITE', { fd: s.dev, offset: 0x14n, data: new Uint8Array([1, 0, 0, 0]) });
    const fn = s.system.host.peOfGroup(1)!.devices[0]!.fn;
    call(s.ctx, 'CLOSE', { fd: s.dev });
    expect(fn.raise('msix', 0)).toBe(false);
    expect(fn.config.get16(fn.caps.msix + 2) & 0x8000).toBe(0);
    expect(s.events).toEqual([]);
    const dev = call(s.ctx, 'VFIO_GROUP_GET_DEVICE_FD', { fd: s.group, name: '0000:01:00.0' }).fd;
    expect(call(s.ctx, 'VFIO_DEVICE_REGION_READ', { fd: dev, offset: 0x1cn, count: 4 }).data[0]).toBe(0);
  });
});
