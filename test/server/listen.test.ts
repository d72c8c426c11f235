import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOPOLOGY } from '../../src/hw/topology.js';
import { VphbServer } from '../../src/server/server.js';

const dirs: string[] = [];
function socketPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'vphb-listen-'));
  dirs.push(d);
  return join(d, 'vphb.sock');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const start = (path: string): Promise<VphbServer> =>
  VphbServer.start({ topology: DEFAULT_TOPOLOGY, socketPath: path, memlockLimit: null, logger: pino({ level: 'silent' }) });

describe('UNIX listener', () => {
  it('creates the socket with mode 0600 and removes it on close', async () => {
    const path = socketPath();
    const s = await start(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await s.close();
    expect(() => statSync(path)).toThrow();
  });

  it('replaces a stale socket file nobody serves', async () => {
    const path = socketPath();
    // A server that dies without cleaning up leaves its socket file behind.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(path).isSocket()).toBe(true);
    const s = await start(path);
    await s.close();
  });

  it('refuses to start over a live server', async () => {
    const path = socketPath();
    const first = await start(path);
    await expect(start(path)).rejects.toThrow(`another server is already listening on ${path}`);
    await first.close();
  });

  it('refuses to replace a file that is not a socket', async () => {
    const path = socketPath();
    writeFileSync(path, 'precious');
    await expect(start(path)).rejects.toThrow(/exists and is not a socket/);
  });

  it('TCP without a token is a startup error', async () => {
    await expect(VphbServer.start({
      topology: DEFAULT_TOPOLOGY, socketPath: null, tcp: { host: '127.0.0.1', port: 0 }, memlockLimit: null, logger: pino({ level: 'silent' }),
    })).rejects.toThrow(/require a token/);
  });
});
