/**
 * The default UNIX socket path of the protocol (PROTOCOL.md §1): where `vphb serve` listens and
 * where clients connect when given no target.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_RUNTIME_DIR/vphb.sock`, else `vphb-<uid>.sock` in the temporary directory (`/tmp`). */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime !== undefined && runtime !== '') return join(runtime, 'vphb.sock');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return join(env['TMPDIR'] === undefined ? '/tmp' : tmpdir(), `vphb-${uid}.sock`);
}
