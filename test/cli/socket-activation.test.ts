/**
 * systemd socket activation (examples/vphb.socket): the listening socket arrives as fd 3 with
 * LISTEN_PID/LISTEN_FDS, and `vphb serve` serves it instead of binding --socket. A small python3
 * launcher plays systemd: bind, listen, put the socket at fd 3, exec the server in the same pid.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, exited, startServe, vphb } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vphb-act-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'pass']).status === 0);

const LAUNCHER = `
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
env = dict(os.environ, LISTEN_PID=str(os.getpid()), LISTEN_FDS="1", LISTEN_FDNAMES="vphb.socket")
os.execve(sys.argv[2], sys.argv[2:], env)
`;

describe('socket activation', () => {
  it.skipIf(python === undefined)('serves the inherited socket, and leaves its file to its owner', async () => {
    const socket = join(dir, 'activated.sock');
    const s = await startServe(['--socket', join(dir, 'not-this.sock'), '--log-level', 'warn'], {}, [
      python!, '-c', LAUNCHER, socket, process.execPath, CLI, 'serve',
    ]);
    try {
      expect(s.banner).toContain(`listening on unix:${socket}`);
      expect(existsSync(join(dir, 'not-this.sock'))).toBe(false);
      const r = vphb(['ping', '-c', socket, '-n', '1']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      s.proc.kill('SIGTERM');
      await exited(s.proc);
    }
    // systemd owns the socket file; the server does not remove it.
    expect(existsSync(socket)).toBe(true);
  });

  it('ignores LISTEN_FDS meant for another process', async () => {
    const socket = join(dir, 'own.sock');
    const s = await startServe(['--socket', socket, '--log-level', 'warn'], { LISTEN_PID: '1', LISTEN_FDS: '1' });
    s.proc.kill('SIGTERM');
    await exited(s.proc);
    expect(s.banner).toContain(`listening on unix:${socket}`);
  });
});
