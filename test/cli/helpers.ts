/** Running the built `vphb` command in tests (needs `npm run build`). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const CLI = resolve('dist/src/cli.js');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vphb args...` to completion with exactly `env` (plus PATH/HOME), in `cwd`. */
export function vphb(args: string[], env: Record<string, string> = {}, cwd?: string): Run {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build first (npm test does)`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', timeout: 20_000, cwd, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Served {
  proc: ChildProcess;
  banner: string;
  stdout: () => string;
  /** The addresses of the "listening on" line. */
  addresses: string[];
}

/** Starts `vphb serve args...` and resolves once it says what it emulates. */
export function startServe(args: string[], env: Record<string, string> = {}, command: string[] = [process.execPath, CLI, 'serve']): Promise<Served> {
  const proc = spawn(command[0]!, [...command.slice(1), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
  });
  let banner = '';
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolvePromise, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${banner}`)), 15_000);
    proc.stderr!.on('data', (d: Buffer) => {
      banner += d.toString();
      if (banner.includes('emulating')) {
        clearTimeout(t);
        const line = /listening on (.*)\n/.exec(banner)![1]!;
        resolvePromise({ proc, banner, stdout: () => out, addresses: line.split(', ') });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`server exited ${code}: ${banner}`));
    });
  });
}

/** Resolves when `proc` has exited (or rejects after `ms`). */
export function exited(proc: ChildProcess, ms = 15_000): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('process did not exit')), ms);
    proc.once('exit', (code) => {
      clearTimeout(t);
      res(code);
    });
  });
}

/** True while something accepts connections on pid `pid`. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
