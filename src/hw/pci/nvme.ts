/**
 * The nvme device model: an NVMe controller's BAR0 register file (NVMe 1.4 base specification,
 * section 3.1). CC.EN brings CSTS.RDY up and clearing it resets the controller; CC.SHN reports
 * shutdown complete in CSTS.SHST. Commands are never processed: the function cannot reach guest
 * memory, so submission doorbells are recorded and nothing completes.
 */
import type { DeviceModel } from './function.js';

export const NVME_REG_CAP = 0x00;
export const NVME_REG_VS = 0x08;
export const NVME_REG_INTMS = 0x0c;
export const NVME_REG_INTMC = 0x10;
export const NVME_REG_CC = 0x14;
export const NVME_REG_CSTS = 0x1c;
export const NVME_REG_AQA = 0x24;
export const NVME_REG_ASQ = 0x28;
export const NVME_REG_ACQ = 0x30;
export const NVME_DOORBELLS = 0x1000;

export const NVME_CC_EN = 0x1;
export const NVME_CC_SHN_MASK = 0xc000;
export const NVME_CSTS_RDY = 0x1;
export const NVME_CSTS_SHST_MASK = 0xc;
export const NVME_CSTS_SHST_COMPLETE = 0x8;

/** CAP: MQES 2047, CQR, TO 15 (7.5 s), DSTRD 0, CSS NVM, MPSMIN 4 KiB, MPSMAX 64 KiB. */
export const NVME_CAP = 0x7ffn | (1n << 16n) | (0xfn << 24n) | (1n << 37n) | (4n << 52n);
export const NVME_VERSION = 0x0001_0400;
/** Queue pairs whose doorbells exist (SQyTDBL at 0x1000 + 8y, CQyHDBL at 0x1004 + 8y). */
export const NVME_QUEUE_PAIRS = 64;

const CC_WRITABLE = 0x00ff_fff1;
const AQA_WRITABLE = 0x0fff_0fff;

export class NvmeModel implements DeviceModel {
  readonly name = 'nvme';
  readonly #regs = new DataView(new ArrayBuffer(0x40));
  readonly #doorbells = new Uint32Array(2 * NVME_QUEUE_PAIRS);

  constructor() {
    this.reset();
  }

  reset(): void {
    for (let i = 0; i < 0x40; i += 4) this.#regs.setUint32(i, 0, true);
    this.#regs.setBigUint64(NVME_REG_CAP, NVME_CAP, true);
    this.#regs.setUint32(NVME_REG_VS, NVME_VERSION, true);
    this.#doorbells.fill(0);
  }

  /** Last value written to a doorbell (index 2y: SQ y tail, 2y+1: CQ y head). */
  doorbell(i: number): number {
    return this.#doorbells[i] ?? 0;
  }

  reg32(off: number): number {
    return this.#regs.getUint32(off, true);
  }

  barRead(bar: number, offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    if (bar !== 0) return out;
    for (let i = 0; i < len; i++) {
      const at = offset + i;
      if (at < 0x40) {
        const reg = at & ~3;
        // INTMC reads back the mask, like INTMS.
        const src = reg === NVME_REG_INTMC ? NVME_REG_INTMS : reg;
        out[i] = this.#regs.getUint8(src + (at & 3));
      }
      // Doorbells and reserved space read as 0.
    }
    return out;
  }

  barWrite(bar: number, offset: number, data: Uint8Array): void {
    if (bar !== 0) return;
    // Apply dword by dword, so each register sees its new value once.
    let i = 0;
    while (i < data.length) {
      const at = offset + i;
      const dword = at & ~3;
      const cur = this.#dwordValue(dword);
      let next = cur;
      let mask = 0;
      for (; i < data.length && ((offset + i) & ~3) === dword; i++) {
        const shift = 8 * ((offset + i) & 3);
        next = (next & ~(0xff << shift)) | (data[i]! << shift);
        mask |= 0xff << shift;
      }
      this.#writeDword(dword, next >>> 0, mask >>> 0);
    }
  }

  #dwordValue(dword: number): number {
    if (dword < 0x40) return this.#regs.getUint32(dword, true);
    return 0;
  }

  #writeDword(dword: number, value: number, mask: number): void {
    const r = this.#regs;
    switch (dword) {
      case NVME_REG_INTMS:
        r.setUint32(NVME_REG_INTMS, (r.getUint32(NVME_REG_INTMS, true) | (value & mask)) >>> 0, true);
        return;
      case NVME_REG_INTMC:
        r.setUint32(NVME_REG_INTMS, (r.getUint32(NVME_REG_INTMS, true) & ~(value & mask)) >>> 0, true);
        return;
      case NVME_REG_CC:
        this.#writeCc(value & CC_WRITABLE);
        return;
      case NVME_REG_AQA:
        r.setUint32(NVME_REG_AQA, value & AQA_WRITABLE, true);
        return;
      case NVME_REG_ASQ:
      case NVME_REG_ACQ:
        r.setUint32(dword, value & 0xffff_f000, true);
        return;
      case NVME_REG_ASQ + 4:
      case NVME_REG_ACQ + 4:
        r.setUint32(dword, value, true);
        return;
      default:
        if (dword >= NVME_DOORBELLS && dword < NVME_DOORBELLS + 4 * this.#doorbells.length) {
          this.#doorbells[(dword - NVME_DOORBELLS) >> 2] = value & 0xffff;
        }
        // CAP, VS, CSTS and reserved registers are read-only.
    }
  }

  #writeCc(cc: number): void {
    const r = this.#regs;
    const old = r.getUint32(NVME_REG_CC, true);
    let csts = r.getUint32(NVME_REG_CSTS, true);
    r.setUint32(NVME_REG_CC, cc, true);
    if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN)) {
      csts |= NVME_CSTS_RDY;
    } else if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN)) {
      // Controller reset: queues are gone, shutdown status cleared.
      csts &= ~(NVME_CSTS_RDY | NVME_CSTS_SHST_MASK);
      this.#doorbells.fill(0);
    }
    if (cc & NVME_CC_SHN_MASK) csts = (csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_COMPLETE;
    r.setUint32(NVME_REG_CSTS, csts >>> 0, true);
  }
}
