/**
 * Linux errno values as they travel on the wire, and the one error class every layer throws.
 *
 * The model throws `VphbError` with the errno the kernel would return; the ops layer turns it into
 * an error reply carrying the same errno; the TypeScript client rejects with a `VphbError` rebuilt
 * from that reply. `code` (the errno's name) is stable and maps 1:1 to the number on the wire.
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  ENOTTY: 25,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  EPROTO: 71,
  EOVERFLOW: 75,
  EBADFD: 77,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
} as const;

export type ErrnoName = keyof typeof ERRNO;

const NAMES = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/** The errno's symbolic name, or `E<number>` for one this table does not know. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E${errno}`;
}

/** An operation failed the way the kernel call it emulates fails: with a positive errno. */
export class VphbError extends Error {
  readonly errno: number;
  /** The errno's name (`EINVAL`, ...): stable, one per wire value. */
  readonly code: string;

  constructor(errno: number | ErrnoName, message: string) {
    const value = typeof errno === 'number' ? errno : ERRNO[errno];
    super(message);
    this.name = 'VphbError';
    this.errno = value;
    this.code = errnoName(value);
  }
}

/** Shorthand used throughout the model: `throw fail('EINVAL', 'page_shift 13 not supported')`. */
export function fail(code: ErrnoName, message: string): VphbError {
  return new VphbError(code, message);
}

export function isVphbError(e: unknown): e is VphbError {
  return e instanceof VphbError;
}
