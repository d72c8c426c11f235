/**
 * vphb's own version, from the package.json of the installed package (found from this module's
 * location, never from the current directory), and the `server` string of the VERSION reply.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'vphb' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      /* no package.json here: keep walking up */
    }
    const up = dirname(dir);
    if (up === dir) return '0.0.0-unknown';
    dir = up;
  }
}

/** The package version, e.g. `0.1.0`. */
export const VPHB_VERSION = findVersion();

/** The VERSION reply's `server`: `vphb <version>`. */
export const SERVER_STRING = `vphb ${VPHB_VERSION}`;
