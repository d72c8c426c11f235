/**
 * The generic device model: a function fully described by its configuration (ids, class, BARs,
 * capabilities) whose BARs are plain memory — what is written reads back — so a VMM can exercise
 * BAR accesses without device semantics.
 */
import type { DeviceModel } from './function.js';
import type { BarSpec } from './spec.js';

/** BAR backing is allocated on first write, and only up to this many bytes per BAR. */
const MAX_BACKED = 1 << 20;

export class GenericModel implements DeviceModel {
  readonly name = 'generic';
  readonly #sizes = new Map<number, number>();
  readonly #mem = new Map<number, Uint8Array>();

  constructor(bars: readonly BarSpec[]) {
    for (const b of bars) this.#sizes.set(b.index, Number(b.size < BigInt(MAX_BACKED) ? b.size : BigInt(MAX_BACKED)));
  }

  reset(): void {
    this.#mem.clear();
  }

  barRead(bar: number, offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const mem = this.#mem.get(bar);
    if (mem !== undefined && offset < mem.length) out.set(mem.subarray(offset, Math.min(mem.length, offset + len)));
    return out;
  }

  barWrite(bar: number, offset: number, data: Uint8Array): void {
    const size = this.#sizes.get(bar);
    if (size === undefined || offset >= size) return;
    let mem = this.#mem.get(bar);
    if (mem === undefined) {
      mem = new Uint8Array(size);
      this.#mem.set(bar, mem);
    }
    mem.set(data.subarray(0, Math.max(0, Math.min(data.length, size - offset))), offset);
  }
}
