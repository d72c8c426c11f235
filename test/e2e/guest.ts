/** A Debian ppc64el guest in qemu-system-ppc64 -M pseries (TCG), its console collected, stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { E2E_CACHE } from './system.js';

export const PRELOAD = resolve('clients/c/build/libvphb-vfio.so');

export interface GuestOptions {
  /** Extra kernel command line words (e.g. disable_ddw). */
  append?: string;
  /** Seconds /init waits after loading nvme before powering off. */
  wait?: number;
  /** nvme admin command timeout in seconds (the device never completes commands; default 3). */
  adminTimeout?: number;
  /** A vfio-pci device served by vphb through the preload library. */
  vfio?: { sysfsdev: string; socket: string; trace?: string };
  /** More QEMU arguments. */
  qemuArgs?: string[];
  /** QEMU's own emulated NVMe instead. */
  emulatedNvme?: boolean;
}

export interface Guest {
  proc: ChildProcess;
  pid: number;
  startedAt: number;
  output(): string;
  /** Resolves with the match once the console shows re; rejects on timeout or QEMU exit. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
}

export function bootGuest(opts: GuestOptions): Guest {
  const args = ['-M', 'pseries', '-m', '2G', '-nographic', '-nodefaults', '-serial', 'mon:stdio', '-no-reboot',
    '-kernel', join(E2E_CACHE, 'k', 'vmlinux'), '-initrd', join(E2E_CACHE, 'initramfs.gz'),
    '-append', `console=hvc0 vphb.wait=${opts.wait ?? 4} vphb.admin_timeout=${opts.adminTimeout ?? 3} ${opts.append ?? ''}`.trim()];
  args.push(...(opts.qemuArgs ?? []));
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (opts.vfio !== undefined) {
    args.push('-device', `vfio-pci,sysfsdev=${opts.vfio.sysfsdev}`);
    env['LD_PRELOAD'] = PRELOAD;
    env['VPHB_SOCKET'] = opts.vfio.socket;
    if (opts.vfio.trace !== undefined) env['VPHB_TRACE'] = opts.vfio.trace;
  }
  if (opts.emulatedNvme === true) {
    args.push('-drive', 'if=none,id=d0,file=/dev/null,format=raw,readonly=on', '-device', 'nvme,drive=d0,serial=e2e');
  }
  const startedAt = Date.now();
  const proc = spawn('qemu-system-ppc64', args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.once('exit', (code, signal) => {
      done = true;
      for (const w of [...waiters]) w();
      res({ code, signal });
    });
  });
  const pid = proc.pid!;
  return {
    proc, pid, startedAt,
    output: () => out,
    exited,
    waitFor(re, timeoutMs) {
      return new Promise((res, rej) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m !== null) { cleanup(); res(m); } else if (done) { cleanup(); rej(new Error(`QEMU exited before ${re}:\n${out.slice(-3000)}`)); }
        };
        const t = setTimeout(() => { cleanup(); rej(new Error(`no ${re} within ${timeoutMs} ms:\n${out.slice(-3000)}`)); }, timeoutMs);
        const cleanup = (): void => { clearTimeout(t); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
    async kill() {
      if (!done) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        await exited;
      }
    },
  };
}
