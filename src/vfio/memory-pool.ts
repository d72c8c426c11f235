/**
 * Locked memory across every client of the server: a host-wide cap above each client's own
 * RLIMIT_MEMLOCK (the emulated machine's RAM, as opposed to one process's limit). Each client's
 * Mm charges it along with its own counter; ENOMEM when either would be exceeded.
 */
import { fail } from '../wire/errno.js';

export class MemoryPool {
  /** Cap in host pages; null = unlimited. */
  readonly limitPages: number | null;
  readonly pageShift: number;
  #locked = 0;

  constructor(limitBytes: bigint | null, pageShift: number) {
    if (limitBytes !== null && limitBytes < 0n) throw fail('EINVAL', `memory cap ${limitBytes} is negative`);
    this.pageShift = pageShift;
    this.limitPages = limitBytes === null ? null : Number(limitBytes >> BigInt(pageShift));
  }

  /** Host pages locked by all clients together. */
  get lockedPages(): number {
    return this.#locked;
  }

  get lockedBytes(): bigint {
    return BigInt(this.#locked) << BigInt(this.pageShift);
  }

  /** Throws ENOMEM, changing nothing, when `pages` more would pass the cap. */
  check(pages: number, what: string): void {
    if (this.limitPages !== null && this.#locked + pages > this.limitPages) {
      throw fail(
        'ENOMEM',
        `server memory cap (--max-memory): ${what} needs ${pages} pages, ${this.#locked} of ${this.limitPages} locked by all clients`,
      );
    }
  }

  add(pages: number): void {
    this.#locked += pages;
  }

  remove(pages: number): void {
    this.#locked = Math.max(0, this.#locked - pages);
  }
}
