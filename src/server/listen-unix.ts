/** UNIX socket listening: owner-only mode, stale-socket replacement. */
import { chmodSync, existsSync, fstatSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { connect, type Server } from 'node:net';

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** Resolves true if something accepts connections on `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Listens on `path` with mode 0600. An existing socket file nobody serves is replaced; a live
 * server on it, or a file that is not a socket, is a ListenError.
 */
export async function listenUnix(server: Server, path: string): Promise<void> {
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) throw new ListenError(`${path} exists and is not a socket; refusing to replace it`);
    if (await isLive(path)) throw new ListenError(`another server is already listening on ${path}`);
    unlinkSync(path);
  }
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(new ListenError(`cannot listen on ${path}: ${e.message}`));
      server.once('error', onError);
      server.listen(path, () => {
        server.off('error', onError);
        resolve();
      });
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(path, 0o600);
}

/**
 * The path a listening UNIX socket descriptor is bound to (Linux: its inode in /proc/net/unix),
 * for an inherited socket (systemd socket activation); undefined if it cannot be told.
 */
export function boundPathOfFd(fd: number): string | undefined {
  try {
    const inode = String(fstatSync(fd).ino);
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[6] === inode && cols[7] !== undefined) return cols[7];
    }
  } catch {
    /* not Linux, or not a socket */
  }
  return undefined;
}
