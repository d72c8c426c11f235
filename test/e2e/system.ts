/**
 * System prerequisites of the C and QEMU suites: detect them, and when one is missing say loudly
 * which and the one command that installs it. VPHB_REQUIRE_SYSTEM=1 (CI) turns the skip into a
 * failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const REQUIRE_SYSTEM = process.env['VPHB_REQUIRE_SYSTEM'] === '1';

export interface Prereq {
  /** What is missing, e.g. "a C compiler (gcc)"; undefined when everything is there. */
  missing: string | undefined;
  install: string;
}

function ok(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
}

export function cToolchain(): Prereq {
  const install = 'apt-get install -y build-essential pkg-config libmsgpack-dev';
  if (!ok('cc', ['--version'])) return { missing: 'a C compiler (cc)', install };
  if (!ok('make', ['--version'])) return { missing: 'make', install };
  if (!ok('pkg-config', ['--version'])) return { missing: 'pkg-config', install };
  if (!ok('pkg-config', ['--exists', 'msgpack-c']) && !ok('pkg-config', ['--exists', 'msgpack'])) {
    return { missing: 'msgpack-c (libmsgpack-dev)', install };
  }
  return { missing: undefined, install };
}

/** Where scripts/setup-e2e.sh caches the Debian packages and the initramfs. */
export const E2E_CACHE = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'vphb-e2e');

export function qemuGuest(): Prereq {
  const install = 'bash scripts/setup-e2e.sh   (or: npm run setup:e2e)';
  if (!ok('qemu-system-ppc64', ['--version'])) return { missing: 'qemu-system-ppc64 (qemu-system-ppc)', install };
  if (!existsSync(join(E2E_CACHE, 'k', 'vmlinux'))) return { missing: `the Debian ppc64el kernel in ${E2E_CACHE}/k`, install };
  if (!existsSync(join(E2E_CACHE, 'initramfs.gz'))) return { missing: `the busybox initramfs ${E2E_CACHE}/initramfs.gz`, install };
  return { missing: undefined, install };
}

export function kernelAbi(): string {
  return readFileSync(join(E2E_CACHE, 'abi'), 'utf8').trim();
}

/** Prints the loud skip notice; returns true when the suite must run (or fail). */
export function announce(suite: string, p: Prereq): boolean {
  if (p.missing === undefined) return true;
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n${suite}: ${REQUIRE_SYSTEM ? 'FAILING' : 'SKIPPED'}: missing ${p.missing}\n` +
    `install with: ${p.install}\n${bar}\n\n`);
  return REQUIRE_SYSTEM;
}

/** `make -C clients/c tests`, serialized between test files running in parallel (flock). */
export function buildC(): void {
  const lock = join(tmpdir(), `vphb-make-c-${process.getuid?.() ?? 0}.lock`);
  const haveFlock = ok('flock', ['--version']);
  const cmd = haveFlock ? 'flock' : 'make';
  const args = haveFlock ? [lock, 'make', '-s', '-C', 'clients/c', 'tests'] : ['-s', '-C', 'clients/c', 'tests'];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`make -C clients/c tests failed:\n${r.stdout}${r.stderr}`);
}
