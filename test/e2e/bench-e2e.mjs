#!/usr/bin/env node
// Benchmark (not a test): `npm run bench:e2e`
//  1. forwarded UNMAP_DMA round trips/s through libvphb-vfio.so (the call QEMU makes 262,144 times
//     at boot), deferred (default) and synchronous (VPHB_SYNC_UNMAP=1), with the client on one CPU;
//  2. guest time and wall time from QEMU start to the guest's DDW line, with vphb's nvme through the
//     preload library versus QEMU's own emulated `-device nvme`, in the same run.
// Needs `bash scripts/setup-e2e.sh` and `make -C clients/c`. The machine may be shared: figures vary.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vphb-e2e');
const lib = resolve('clients/c/build/libvphb-vfio.so');
const dir = mkdtempSync(join(tmpdir(), 'vphb-bench-e2e-'));
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VPHB_')));
if (spawnSync('make', ['-s', '-C', 'clients/c', 'tests'], { stdio: 'inherit' }).status !== 0) process.exit(1);

async function serve(name) {
  const socket = join(dir, `${name}.sock`);
  const p = spawn(process.execPath, ['dist/src/cli.js', 'serve', '--socket', socket, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  while (!err.includes('emulating')) {
    if (p.exitCode !== null) throw new Error(err);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { p, socket, stop: () => new Promise((r) => { p.once('exit', r); p.kill('SIGTERM'); }) };
}

function unmapRate(socket, group, sync, n) {
  const r = spawnSync('taskset', ['-c', '0', 'clients/c/build/bench_unmap', String(n), `/dev/vfio/${group}`], {
    encoding: 'utf8', env: { ...env, LD_PRELOAD: lib, VPHB_SOCKET: socket, ...(sync ? { VPHB_SYNC_UNMAP: '1' } : {}) },
  });
  const m = /([0-9]+)\/s/.exec(r.stdout);
  if (m === null) throw new Error(r.stdout + r.stderr);
  return Number(m[1]);
}

function bootToDdw(extra, extraEnv) {
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const q = spawn('qemu-system-ppc64', ['-M', 'pseries', '-m', '2G', '-nographic', '-nodefaults', '-serial', 'mon:stdio', '-no-reboot',
      '-kernel', join(cache, 'k', 'vmlinux'), '-initrd', join(cache, 'initramfs.gz'), '-append', 'console=hvc0 vphb.wait=1', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...extraEnv } });
    let out = '';
    const on = (d) => {
      out += d;
      const m = /\[\s*([0-9.]+)\] .*ibm,create-pe-dma-window.* returned 0/.exec(out);
      if (m !== null) { const wall = (Date.now() - t0) / 1000; q.kill('SIGKILL'); res({ guest: Number(m[1]), wall }); }
    };
    q.stdout.on('data', on);
    q.stderr.on('data', on);
    q.once('exit', () => setTimeout(() => rej(new Error(`no DDW line:\n${out.slice(-2000)}`)), 100));
  });
}

if (!existsSync(join(cache, 'initramfs.gz'))) { console.error(`run bash scripts/setup-e2e.sh first (${cache})`); process.exit(1); }
console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (shared: expect noise)`);
const s = await serve('unmap');
const n = 262_144;
console.log(`UNMAP_DMA (4 KiB, consecutive) via libvphb-vfio.so, client pinned to CPU 0, all answered: deferred+merged ${unmapRate(s.socket, 2, false, n)}/s, ` +
  `synchronous (VPHB_SYNC_UNMAP=1) ${unmapRate(s.socket, 3, true, 50_000)}/s, deferred+merged again ${unmapRate(s.socket, 4, false, n)}/s`);
await s.stop();
for (let round = 1; round <= 2; round++) {
  const v = await serve(`boot${round}`);
  const sys = join(dir, `sysfs${round}`);
  const r = spawnSync(process.execPath, ['dist/src/cli.js', 'sysfs', sys, '-c', v.socket, '--device', '0000:02:00.0'], { encoding: 'utf8', env });
  const dev = /sysfsdev=(\S+)/.exec(r.stdout)[1];
  const emu = await bootToDdw(['-drive', 'if=none,id=d0,file=/dev/null,format=raw,readonly=on', '-device', 'nvme,drive=d0,serial=b'], {});
  const vphb = await bootToDdw(['-device', `vfio-pci,sysfsdev=${dev}`], { LD_PRELOAD: lib, VPHB_SOCKET: v.socket });
  console.log(`boot to DDW line, round ${round}: QEMU nvme guest ${emu.guest.toFixed(2)} s / wall ${emu.wall.toFixed(1)} s; ` +
    `vphb nvme guest ${vphb.guest.toFixed(2)} s / wall ${vphb.wall.toFixed(1)} s (wall ratio ${(vphb.wall / emu.wall).toFixed(2)})`);
  await v.stop();
}
rmSync(dir, { recursive: true, force: true });
