/**
 * A PCI function's configuration space as the hardware holds it: bytes plus, per byte, which bits
 * software may write and which are write-1-to-clear. Everything else is read-only. Writes of any
 * width touch only the bytes they cover. The reset image is what a reset restores.
 */

/** Type-0 header offsets. */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BIST = 0x0f;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_SERR = 0x100;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
/** Command bits a type-0 function implements here: I/O, memory, bus master, parity, SERR, INTx disable. */
export const PCI_COMMAND_WRITABLE = 0x1 | 0x2 | 0x4 | 0x40 | 0x100 | 0x400;

export const PCI_STATUS_INTERRUPT = 0x08;
export const PCI_STATUS_CAP_LIST = 0x10;
/** Error bits of the status register: write-1-to-clear. */
export const PCI_STATUS_W1C = 0x0100 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000;

export const PCI_CFG_SPACE_SIZE = 256;
export const PCI_CFG_SPACE_EXP_SIZE = 4096;

export class ConfigSpace {
  readonly size: number;
  readonly bytes: Uint8Array;
  /** Bits software may change. */
  readonly wmask: Uint8Array;
  /** Bits a 1 clears. */
  readonly w1cmask: Uint8Array;
  #reset: Uint8Array;

  constructor(size: number) {
    this.size = size;
    this.bytes = new Uint8Array(size);
    this.wmask = new Uint8Array(size);
    this.w1cmask = new Uint8Array(size);
    this.#reset = new Uint8Array(size);
  }

  // ---- hardware-side access (the function itself, no masks) ----------------------------------

  get8(off: number): number {
    return this.bytes[off]!;
  }

  get16(off: number): number {
    return this.bytes[off]! | (this.bytes[off + 1]! << 8);
  }

  get32(off: number): number {
    return (this.get16(off) | (this.get16(off + 2) << 16)) >>> 0;
  }

  set8(off: number, v: number): void {
    this.bytes[off] = v & 0xff;
  }

  set16(off: number, v: number): void {
    this.set8(off, v);
    this.set8(off + 1, v >>> 8);
  }

  set32(off: number, v: number): void {
    this.set16(off, v);
    this.set16(off + 2, v >>> 16);
  }

  /** Sets the writable / write-1-to-clear masks of `len` bytes (little-endian value). */
  setMasks(off: number, len: number, wmask: number, w1cmask = 0): void {
    for (let i = 0; i < len; i++) {
      this.wmask[off + i] = (wmask >>> (8 * i)) & 0xff;
      this.w1cmask[off + i] = (w1cmask >>> (8 * i)) & 0xff;
    }
  }

  // ---- software access (through the bus: masks apply) ----------------------------------------

  /** Reads `len` bytes at `off` (any alignment inside the space). */
  read(off: number, len: number): Uint8Array {
    return this.bytes.slice(off, off + len);
  }

  /** Writes `data` at `off`: per byte, writable bits take the new value, W1C bits clear on 1. */
  write(off: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const at = off + i;
      const v = data[i]!;
      const w = this.wmask[at]!;
      const c = this.w1cmask[at]!;
      let b = this.bytes[at]!;
      b = (b & ~w) | (v & w);
      b &= ~(v & c);
      this.bytes[at] = b & 0xff;
    }
  }

  // ---- reset ---------------------------------------------------------------------------------

  /** The current contents become the power-on image. */
  sealResetImage(): void {
    this.#reset = this.bytes.slice();
  }

  /** Back to the power-on image. */
  reset(): void {
    this.bytes.set(this.#reset);
  }

  snapshot(): Uint8Array {
    return this.bytes.slice();
  }

  restore(image: Uint8Array): void {
    this.bytes.set(image);
  }
}

/** Little-endian value of up to 4 bytes. */
export function leValue(data: Uint8Array): number {
  let v = 0;
  for (let i = data.length - 1; i >= 0; i--) v = (v * 256) + data[i]!;
  return v >>> 0;
}

/** `len` little-endian bytes of `v`. */
export function leBytes(v: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (v >>> (8 * i)) & 0xff;
  return out;
}
