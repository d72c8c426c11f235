/**
 * A client's memory context (the kernel's mm): how many host pages it has locked against its
 * RLIMIT_MEMLOCK, and the memory it has preregistered for DMA (shared by all its containers).
 * One per client connection.
 */
import { fail } from '../wire/errno.js';
import type { MemoryPool } from './memory-pool.js';
import { PreregRegistry } from './prereg.js';

export class Mm {
  /** Host PAGE_SIZE shift: the unit of `lockedPages` and of the limit. */
  readonly pageShift: number;
  /** RLIMIT_MEMLOCK in bytes; null = unlimited (CAP_IPC_LOCK). */
  readonly limitBytes: bigint | null;
  /** Preregistered memory of this mm (VFIO v2), shared by its containers. */
  readonly prereg: PreregRegistry;
  #locked = 0;
  /** The server-wide cap shared with the other clients, if any. */
  readonly #pool: MemoryPool | undefined;

  constructor(limitBytes: bigint | null, pageShift: number, pool?: MemoryPool) {
    this.#pool = pool;
    if (limitBytes !== null && limitBytes < 0n) throw fail('EINVAL', `memlock limit ${limitBytes} is negative`);
    this.limitBytes = limitBytes;
    this.pageShift = pageShift;
    this.prereg = new PreregRegistry(this);
  }

  get pageSize(): number {
    return 2 ** this.pageShift;
  }

  /** Host pages currently locked (locked_vm). */
  get lockedPages(): number {
    return this.#locked;
  }

  get lockedBytes(): bigint {
    return BigInt(this.#locked) << BigInt(this.pageShift);
  }

  /** The limit in host pages (rounded down), or null when unlimited. */
  get limitPages(): number | null {
    return this.limitBytes === null ? null : Number(this.limitBytes >> BigInt(this.pageShift));
  }

  /**
   * Locks `pages` more host pages for `what`. ENOMEM, with nothing changed, when that would pass
   * the limit.
   */
  charge(pages: number, what: string): void {
    if (!Number.isSafeInteger(pages) || pages < 0) throw fail('EINVAL', `cannot lock ${pages} pages for ${what}`);
    const limit = this.limitPages;
    if (limit !== null && this.#locked + pages > limit) {
      throw fail(
        'ENOMEM',
        `locked memory limit: ${what} needs ${pages} pages, ${this.#locked} of ${limit} already locked`,
      );
    }
    this.#pool?.check(pages, what);
    this.#pool?.add(pages);
    this.#locked += pages;
  }

  /**
   * The process is gone (its connection closed): whatever is still locked goes with its mm, as
   * the kernel drops locked_vm with the mm — charges the kernel leaks while the process lives
   * (K4) and regions left pinned by an UNREGISTER of mapped memory (K9) included. Returns the
   * pages that were still locked.
   */
  exit(): number {
    const left = this.#locked;
    this.#pool?.remove(left);
    this.#locked = 0;
    return left;
  }

  /** Unlocks `pages` host pages (never below zero). */
  uncharge(pages: number): void {
    const refund = Math.min(this.#locked, Math.max(0, pages));
    this.#pool?.remove(refund);
    this.#locked -= refund;
  }
}
