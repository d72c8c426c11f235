/**
 * Per-connection handle table: the fd-equivalents a client holds. Numbers are small non-negative
 * integers, lowest free first, scoped to one connection (another connection's numbers mean
 * nothing here). Closing a handle drops that handle's reference to its model object.
 */
import { CLOSE_RANK, type KernelFile } from '../vfio/kernel-file.js';
import { VphbError } from '../wire/errno.js';

/** Anything a handle can stand for: an open file of the emulated kernel. */
export type HandleObject = KernelFile;
export { CLOSE_RANK };

type Class<T> = abstract new (...args: never[]) => T;

export class HandleTable {
  readonly #slots: (HandleObject | undefined)[] = [];
  #count = 0;

  /** Installs `obj` at the lowest free number and returns it. */
  install(obj: HandleObject): number {
    let fd = this.#slots.indexOf(undefined);
    if (fd < 0) fd = this.#slots.length;
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
    this.#slots[fd] = undefined;
    this.#count--;
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
      this.#slots[fd] = undefined;
      this.#count--;
      try {
        obj.close();
      } catch (e) {
        errors.push(e);
      }
    }
    return { closed: open.length, errors };
  }
}
