/**
 * Per-connection handle table: the fd-equivalents a client holds. Numbers are small non-negative
 * integers, lowest free first, scoped to one connection (another connection's numbers mean
 * nothing here). Closing a handle drops that handle's reference to its model object.
 *
 * Lowest-free allocation is O(log n): closed numbers below the high-water mark wait in a min-heap;
 * with none there, the next number is the table's length. At most `limit` handles are open at once
 * (RLIMIT_NOFILE): one more is EMFILE, as open(2) fails when the lowest free number reaches it.
 */
import { CLOSE_RANK, type KernelFile } from '../vfio/kernel-file.js';
import { VphbError } from '../wire/errno.js';

/** Anything a handle can stand for: an open file of the emulated kernel. */
export type HandleObject = KernelFile;
export { CLOSE_RANK };

type Class<T> = abstract new (...args: never[]) => T;

/** Linux's default soft RLIMIT_NOFILE. */
export const DEFAULT_MAX_HANDLES = 1024;

export class HandleTable {
  readonly #slots: (HandleObject | undefined)[] = [];
  /** Free numbers below `#slots.length`, as a binary min-heap. */
  readonly #free: number[] = [];
  #count = 0;
  readonly limit: number;

  constructor(limit: number = DEFAULT_MAX_HANDLES) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`handle limit ${limit} must be a positive integer`);
    this.limit = limit;
  }

  /**
   * Installs `obj` at the lowest free number and returns it. EMFILE when `limit` handles are open:
   * `obj` is then closed again, so the failed call leaves nothing behind (the kernel takes the fd
   * number first and frees what it created when that fails).
   */
  install(obj: HandleObject): number {
    if (this.#count >= this.limit) {
      obj.close();
      throw new VphbError('EMFILE', `${this.#count} handles open: the per-connection limit (--max-handles ${this.limit}) is reached`);
    }
    const fd = this.#free.length > 0 ? this.#popFree() : this.#slots.length;
    this.#slots[fd] = obj;
    this.#count++;
    return fd;
  }

  get size(): number {
    return this.#count;
  }

  /** The lowest handle standing for `obj`, or undefined. */
  fdOf(obj: HandleObject): number | undefined {
    const fd = this.#slots.indexOf(obj);
    return fd < 0 ? undefined : fd;
  }

  /** Open handles, lowest number first. */
  entries(): { fd: number; obj: HandleObject }[] {
    const out: { fd: number; obj: HandleObject }[] = [];
    this.#slots.forEach((obj, fd) => {
      if (obj !== undefined) out.push({ fd, obj });
    });
    return out;
  }

  /** The open handles' objects, by number. */
  *objects(): Generator<HandleObject, void, void> {
    for (const obj of this.#slots) if (obj !== undefined) yield obj;
  }

  /** The object behind `fd`, or undefined. */
  peek(fd: number): HandleObject | undefined {
    return Number.isInteger(fd) && fd >= 0 ? this.#slots[fd] : undefined;
  }

  /**
   * The object behind `fd`, which must be an instance of `cls`: EBADF when `fd` is not open,
   * ENOTTY when it is open but of another kind (the ioctl means nothing to that file).
   * `field` names the request field for the error message.
   */
  get<T>(fd: number, cls: Class<T>, field = 'fd'): T {
    const obj = this.peek(fd);
    if (obj === undefined) throw new VphbError('EBADF', `${field} ${fd} is not an open handle`);
    if (!(obj instanceof cls)) {
      throw new VphbError('ENOTTY', `${field} ${fd} is a ${obj.constructor.name}, not a ${cls.name}`);
    }
    return obj as T;
  }

  /** close(2): removes the handle and drops its reference. */
  close(fd: number): void {
    const obj = this.peek(fd);
    if (obj === undefined) throw new VphbError('EBADF', `fd ${fd} is not an open handle`);
    this.#release(fd);
    obj.close();
  }

  /**
   * Closes every handle, lowest rank first (then by number), as a dying process's files are
   * released. Returns how many were closed. A failing close does not stop the others; the
   * errors are returned for the caller to log.
   */
  closeAll(): { closed: number; errors: unknown[] } {
    const open = this.#slots
      .map((obj, fd) => ({ obj, fd }))
      .filter((e): e is { obj: HandleObject; fd: number } => e.obj !== undefined)
      .sort((a, b) => a.obj.closeRank - b.obj.closeRank || a.fd - b.fd);
    const errors: unknown[] = [];
    for (const { obj, fd } of open) {
      this.#release(fd);
      try {
        obj.close();
      } catch (e) {
        errors.push(e);
      }
    }
    return { closed: open.length, errors };
  }

  #release(fd: number): void {
    this.#slots[fd] = undefined;
    this.#count--;
    if (fd === this.#slots.length - 1) {
      // Shrink past trailing free numbers; those still in the heap are dropped lazily.
      this.#slots.length = fd;
      while (this.#slots.length > 0 && this.#slots[this.#slots.length - 1] === undefined) this.#slots.length--;
    } else {
      this.#pushFree(fd);
    }
  }

  #pushFree(fd: number): void {
    const h = this.#free;
    let i = h.push(fd) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= fd) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = fd;
  }

  /** The lowest free number below the table's length (discarding stale ones at or above it). */
  #popFree(): number {
    for (;;) {
      const h = this.#free;
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= h.length) break;
          const c = l + 1 < h.length && h[l + 1]! < h[l]! ? l + 1 : l;
          if (h[c]! >= last) break;
          h[i] = h[c]!;
          i = c;
        }
        h[i] = last;
      }
      if (top < this.#slots.length && this.#slots[top] === undefined) return top;
      if (h.length === 0) return this.#slots.length;
    }
  }
}
