/**
 * `npm start` must not leave the server running when npm goes away: the start script execs node
 * (so npm's forwarded SIGTERM reaches the server itself), and a server run from an npm script
 * exits when re-parented (npm killed with SIGKILL cannot forward anything).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, exited, startServe } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vphb-npm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGKILL'] as const)('killing npm with %s stops the server and removes its socket', async (signal) => {
    const socket = join(dir, `${signal}.sock`);
    const s = await startServe(['--', '--socket', socket], {}, ['npm', 'start', '--silent']);
    // The server's own pid, from its first JSON log line.
    let serverPid: number | undefined;
    for (let i = 0; i < 100 && serverPid === undefined; i++) {
      const m = /"pid":(\d+)/.exec(s.stdout());
      if (m !== null) serverPid = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(serverPid).toBeDefined();
    expect(serverPid).not.toBe(s.proc.pid);
    expect(existsSync(socket)).toBe(true);
    s.proc.kill(signal);
    await exited(s.proc);
    await gone(serverPid!);
    expect(alive(serverPid!)).toBe(false);
    expect(existsSync(socket)).toBe(false);
  }, 30_000);
});
