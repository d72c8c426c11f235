/** `vphb serve` as a child process on a temporary socket (and TCP), stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = 'dist/src/cli.js';

export interface VphbProc {
  proc: ChildProcess;
  pid: number;
  dir: string;
  socket: string;
  tcp: string;
  token: string;
  stderr(): string;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startVphb(opts: { config?: unknown; dir?: string; socket?: string } = {}): Promise<VphbProc> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vphb-proc-'));
  const socket = opts.socket ?? join(dir, 'vphb.sock');
  const token = 'c-test-token';
  const args = [CLI, 'serve', '--socket', socket, '--tcp', '127.0.0.1:0', '--token', token, '--log-level', 'warn'];
  if (opts.config !== undefined) {
    const file = join(dir, `topology-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(opts.config));
    args.push('--config', file);
  }
  // serve reads its options' VPHB_* variables (VPHB_SOCKET, VPHB_TOKEN, ...): keep the test's own
  // (VPHB_REQUIRE_SYSTEM, the preload library's VPHB_SOCKET/VPHB_TRACE) away from it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VPHB_')));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`vphb did not start: ${err}`)), 20_000);
    const poll = setInterval(() => {
      if (err.includes('emulating')) { clearTimeout(t); clearInterval(poll); resolve(); }
      if (proc.exitCode !== null) { clearTimeout(t); clearInterval(poll); reject(new Error(`vphb exited: ${err}`)); }
    }, 20);
  });
  const m = /tcp:\/\/([0-9.]+:[0-9]+)/.exec(err);
  if (m === null) throw new Error(`no tcp address in: ${err}`);
  const pid = proc.pid!;
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      try { process.kill(pid, sig); } catch { /* gone */ }
      await exited;
    }
  };
  return {
    proc, pid, dir, socket, tcp: m[1]!, token,
    stderr: () => err,
    kill: () => signal('SIGKILL'),
    stop: async () => { await signal('SIGTERM'); if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Op names the server at `socket` implements (its VERSION capabilities). */
export async function serverOps(socket: string): Promise<string[]> {
  const { Client } = await import('../../clients/ts/index.js');
  const c = await Client.connect(socket, { name: 'e2e-probe' });
  try {
    return c.serverInfo.capabilities.ops.map((o) => o.name);
  } finally {
    await c.end();
  }
}

/** The device ops (issue 7) QEMU's vfio-pci needs; missing ones are named. */
export const DEVICE_OPS = ['VFIO_DEVICE_GET_INFO', 'VFIO_DEVICE_GET_REGION_INFO', 'VFIO_DEVICE_GET_IRQ_INFO', 'VFIO_DEVICE_SET_IRQS',
  'VFIO_DEVICE_RESET', 'VFIO_DEVICE_REGION_READ', 'VFIO_DEVICE_REGION_WRITE', 'VFIO_EEH_PE_OP', 'HOST_STATE'];
