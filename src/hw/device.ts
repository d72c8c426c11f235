/** A PCI function behind a PE. Its DMA goes through its PE's windows. */
import type { Pe } from './pe.js';

export class Device {
  /** PCI address `dddd:bb:dd.f`. */
  readonly address: string;
  readonly pe: Pe;

  constructor(address: string, pe: Pe) {
    this.address = address;
    this.pe = pe;
  }
}
