/**
 * A VFIO device fd: one PCI function of an open group, served as Linux's vfio-pci serves it
 * (drivers/vfio/pci/vfio_pci_core.c): device/region/IRQ info, config space through
 * VfioPciConfig, BAR access, SET_IRQS through VfioPciIrqs, reset. The fd holds a reference to the
 * group file. Several fds of one function share its vfio-pci state, which exists from the first
 * open to the last close.
 */
import { fail } from '../wire/errno.js';
import type { Device } from '../hw/device.js';
import { PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY } from '../hw/pci/config-space.js';
import type { IrqKind } from '../hw/pci/irq.js';
import { CLOSE_RANK, type KernelFile } from './kernel-file.js';
import type { GroupFile } from './group.js';
import { VfioPciConfig } from './pci-config.js';
import { VFIO_PCI_NUM_IRQS, VfioPciIrqs, type SetIrqs } from './pci-irqs.js';

export const VFIO_DEVICE_FLAGS_RESET = 1;
export const VFIO_DEVICE_FLAGS_PCI = 2;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;
export const VFIO_PCI_NUM_REGIONS = 9;
export const VFIO_REGION_INFO_FLAG_READ = 1;
export const VFIO_REGION_INFO_FLAG_WRITE = 2;
/** Region index → file offset: index << 40 (VFIO_PCI_INDEX_TO_OFFSET). */
export const VFIO_PCI_OFFSET_SHIFT = 40n;
const OFFSET_MASK = (1n << VFIO_PCI_OFFSET_SHIFT) - 1n;

/** Where a signalled eventfd is reported: the device fd's owner (the ops layer forwards it). */
export type DeviceIrqSink = (device: VfioDevice, index: number, vector: number, token: number) => void;

/** vfio-pci's per-function state while at least one fd is open. */
class VfioPciCore {
  readonly device: Device;
  readonly fds: VfioDevice[] = [];
  readonly config: VfioPciConfig;
  readonly irqs: VfioPciIrqs;
  readonly #unsubscribe: () => void;
  /** The command register before the first open, restored at the last close. */
  readonly #savedCommand: number;

  constructor(device: Device) {
    this.device = device;
    const fn = device.fn;
    this.#savedCommand = fn.command;
    // vfio_pci_core_enable: reset the function if it can be, then enable it (memory / I/O decoding).
    if (fn.canReset) this.#functionReset();
    let cmd = fn.config.get16(PCI_COMMAND);
    if (fn.bars.some((b) => b !== undefined && b.kind !== 'io' && b.kind !== 'rom')) cmd |= PCI_COMMAND_MEMORY;
    if (fn.bars.some((b) => b?.kind === 'io')) cmd |= PCI_COMMAND_IO;
    fn.config.set16(PCI_COMMAND, cmd);
    this.irqs = new VfioPciIrqs(fn, (index, vector, token) => this.#signal(index, vector, token));
    this.config = new VfioPciConfig(fn, {
      intxDisable: (disabled) => this.irqs.setVirqDisabled(disabled),
      flr: () => this.#functionReset(),
      msiEnabled: () => this.irqs.type === 'msi',
      msiQmax: () => this.irqs.msiQmax,
    });
    this.#unsubscribe = fn.irq.subscribe((kind: IrqKind, vector: number) => this.irqs.onHardware(kind, vector));
  }

  /** pci_reset_function: config saved, the function reset, config restored. */
  #functionReset(): void {
    const fn = this.device.fn;
    const saved = fn.config.snapshot();
    fn.reset();
    fn.config.restore(saved);
  }

  reset(): void {
    if (!this.device.fn.canReset) throw fail('EINVAL', `${this.device.address} has no reset method (no FLR, PM NoSoftReset set)`);
    this.#functionReset();
  }

  #signal(index: number, vector: number, token: number): void {
    const fd = this.fds[0];
    if (fd !== undefined) fd.deliver(index, vector, token);
  }

  /** Last fd closed (vfio_pci_core_disable): interrupts off, function reset if possible, command restored. */
  release(): void {
    this.irqs.disableAll();
    this.#unsubscribe();
    if (this.device.fn.canReset) this.#functionReset();
    this.device.fn.config.set16(PCI_COMMAND, this.#savedCommand);
  }
}

const CORES = new WeakMap<Device, VfioPciCore>();

export class VfioDevice implements KernelFile {
  readonly closeRank = CLOSE_RANK.vfioDevice;
  readonly device: Device;
  readonly file: GroupFile;
  readonly #onClose: () => void;
  readonly #core: VfioPciCore;
  #open = true;
  /** Set by whoever installs the fd: receives this fd's signalled eventfds. */
  sink: DeviceIrqSink | undefined;

  constructor(device: Device, file: GroupFile, onClose: () => void) {
    this.device = device;
    this.file = file;
    this.#onClose = onClose;
    let core = CORES.get(device);
    if (core === undefined) {
      core = new VfioPciCore(device);
      CORES.set(device, core);
    }
    core.fds.push(this);
    this.#core = core;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  get irqs(): VfioPciIrqs {
    return this.#core.irqs;
  }

  get config(): VfioPciConfig {
    return this.#core.config;
  }

  /** An eventfd of this device was signalled. */
  deliver(index: number, vector: number, token: number): void {
    this.sink?.(this, index, vector, token);
  }

  /** VFIO_DEVICE_GET_INFO. */
  info(): { flags: number; num_regions: number; num_irqs: number } {
    const flags = VFIO_DEVICE_FLAGS_PCI | (this.device.fn.canReset ? VFIO_DEVICE_FLAGS_RESET : 0);
    return { flags, num_regions: VFIO_PCI_NUM_REGIONS, num_irqs: VFIO_PCI_NUM_IRQS };
  }

  /** VFIO_DEVICE_GET_REGION_INFO (vfio_pci_ioctl_get_region_info). */
  regionInfo(index: number): { index: number; flags: number; size: bigint; offset: bigint } {
    const fn = this.device.fn;
    const offset = BigInt(index) << VFIO_PCI_OFFSET_SHIFT;
    if (index === VFIO_PCI_CONFIG_REGION_INDEX) {
      return { index, flags: VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, size: BigInt(fn.configSize), offset };
    }
    if (index < VFIO_PCI_ROM_REGION_INDEX) {
      const bar = fn.bars[index];
      if (bar === undefined) return { index, flags: 0, size: 0n, offset };
      return { index, flags: VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, size: bar.size, offset };
    }
    if (index === VFIO_PCI_ROM_REGION_INDEX) {
      const rom = fn.bars[VFIO_PCI_ROM_REGION_INDEX];
      return rom === undefined ? { index, flags: 0, size: 0n, offset } : { index, flags: VFIO_REGION_INFO_FLAG_READ, size: rom.size, offset };
    }
    if (index === VFIO_PCI_VGA_REGION_INDEX) throw fail('EINVAL', `region 8 (VGA): ${this.device.address} is not a VGA device`);
    throw fail('EINVAL', `region index ${index}: vfio-pci has ${VFIO_PCI_NUM_REGIONS} (0-5 BARs, 6 ROM, 7 config, 8 VGA)`);
  }

  irqInfo(index: number): { index: number; flags: number; count: number } {
    return this.#core.irqs.info(index);
  }

  setIrqs(req: SetIrqs): void {
    this.#core.irqs.setIrqs(req);
  }

  /** VFIO_DEVICE_RESET. */
  reset(): void {
    this.#core.reset();
  }

  // ---- pread / pwrite ------------------------------------------------------------------------------

  read(offset: bigint, count: number): Uint8Array {
    const { index, pos } = this.#locate(offset);
    if (index === VFIO_PCI_CONFIG_REGION_INDEX) {
      if (count === 0) return new Uint8Array(0); // vfio_pci_config_rw does nothing for 0 bytes
      this.#configRange(pos, count);
      return this.#core.config.read(pos, count, this.#frozen);
    }
    const { bar, n } = this.#barRange(index, pos, count);
    const frozen = this.#frozen;
    const out = new Uint8Array(n);
    if (index === VFIO_PCI_ROM_REGION_INDEX) {
      if (frozen) out.fill(0xff);
      else if (pos === 0 && n > 0) {
        out[0] = 0x55; // ROM signature; the image is otherwise empty
        if (n > 1) out[1] = 0xaa;
      } else if (pos === 1 && n > 0) out[0] = 0xaa;
      return out;
    }
    this.#chunks(Number(pos), n, (at, len, i) => {
      if (this.#excluded(bar, at, len)) out.fill(0xff, i, i + len);
      else out.set(frozen ? new Uint8Array(len).fill(0xff) : this.device.fn.barRead(bar, at, len), i);
    });
    return out;
  }

  write(offset: bigint, data: Uint8Array): number {
    const { index, pos } = this.#locate(offset);
    if (index === VFIO_PCI_CONFIG_REGION_INDEX) {
      if (data.length === 0) return 0;
      this.#configRange(pos, data.length);
      this.#core.config.write(pos, data, this.#frozen);
      return data.length;
    }
    if (index === VFIO_PCI_ROM_REGION_INDEX) {
      this.#barRange(index, pos, data.length);
      throw fail('EINVAL', 'the expansion ROM region is read-only');
    }
    const { bar, n } = this.#barRange(index, pos, data.length);
    const frozen = this.#frozen;
    this.#chunks(Number(pos), n, (at, len, i) => {
      if (frozen || this.#excluded(bar, at, len)) return;
      this.device.fn.barWrite(bar, at, data.subarray(i, i + len));
    });
    return n;
  }

  get #frozen(): boolean {
    return this.device.pe.eeh.mmioFrozen;
  }

  #locate(offset: bigint): { index: number; pos: number } {
    const index = Number(offset >> VFIO_PCI_OFFSET_SHIFT);
    if (index >= VFIO_PCI_NUM_REGIONS) throw fail('EINVAL', `offset 0x${offset.toString(16)}: region index ${index} does not exist`);
    if (index === VFIO_PCI_VGA_REGION_INDEX) throw fail('EINVAL', `${this.device.address} has no VGA region`);
    const pos = offset & OFFSET_MASK;
    return { index, pos: pos > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(pos) };
  }

  /** vfio_config_do_rw: an access not wholly inside config space is EFAULT. */
  #configRange(pos: number, count: number): void {
    const size = this.device.fn.configSize;
    if (pos >= size || pos + count > size) {
      throw fail('EFAULT', `config access at 0x${pos.toString(16)}, ${count} bytes: config space is ${size} bytes`);
    }
  }

  /** vfio_pci_bar_rw: absent BAR or past its end EINVAL; a crossing access is shortened; memory off EIO. */
  #barRange(index: number, pos: number, count: number): { bar: number; n: number } {
    const b = this.device.fn.bars[index];
    if (b === undefined) throw fail('EINVAL', `region ${index}: ${this.device.address} has no such BAR`);
    if (!this.device.fn.isAssigned(index)) throw fail('EINVAL', `region ${index}: the host assigned the BAR no address`);
    if (BigInt(pos) >= b.size) throw fail('EINVAL', `offset 0x${pos.toString(16)} is past the end of region ${index} (0x${b.size.toString(16)} bytes)`);
    const n = Math.min(count, Number(b.size - BigInt(pos)));
    if (b.kind !== 'io' && !this.#core.config.memoryEnabled && n > 0) {
      throw fail('EIO', `region ${index}: memory decoding is disabled (command register) or the function is in D3hot`);
    }
    return { bar: index, n };
  }

  /** The MSI-X table is excluded from BAR access: reads as all-ones, writes dropped (the VMM emulates it). */
  #excluded(bar: number, at: number, len: number): boolean {
    const m = this.device.fn.spec.msix;
    if (m === null || m.bar !== bar) return false;
    const start = m.tableOffset;
    const end = start + 16 * m.vectors;
    return at < end && at + len > start;
  }

  /** Splits an access into naturally aligned 8/4/2/1-byte accesses, as vfio_pci_core_do_io_rw does. */
  #chunks(pos: number, n: number, each: (at: number, len: number, i: number) => void): void {
    let i = 0;
    while (i < n) {
      const at = pos + i;
      const left = n - i;
      let len = 1;
      if (left >= 8 && at % 8 === 0) len = 8;
      else if (left >= 4 && at % 4 === 0) len = 4;
      else if (left >= 2 && at % 2 === 0) len = 2;
      each(at, len, i);
      i += len;
    }
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    const core = this.#core;
    core.fds.splice(core.fds.indexOf(this), 1);
    if (core.fds.length === 0) {
      core.release();
      CORES.delete(this.device);
    }
    this.sink = undefined;
    this.#onClose();
    this.file.put();
  }
}
