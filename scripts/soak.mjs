#!/usr/bin/env node
// npm run soak: a server of its own (UNIX socket + TCP on loopback) and `vphb stress --mode all`
// against it for minutes (SOAK_SECONDS, default 180; SOAK_CLIENTS, default 16; 100 SIGKILLs).
// Exits with the stress run's status. Needs `npm run build` (the npm script does it).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = new URL('../dist/src/cli.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'vphb-soak-'));
const socket = join(dir, 'vphb.sock');
const seconds = process.env.SOAK_SECONDS ?? '180';
const clients = process.env.SOAK_CLIENTS ?? '16';

const server = spawn(process.execPath, [cli, 'serve', '--socket', socket, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
let banner = '';
await new Promise((resolve, reject) => {
  server.stderr.on('data', (d) => {
    banner += d.toString();
    if (banner.includes('emulating')) resolve();
  });
  server.once('exit', (code) => reject(new Error(`server exited ${code}: ${banner}`)));
});
process.stderr.write(`soak: server pid ${server.pid} on ${socket}, ${clients} clients for ${seconds} s\n`);
const stress = spawn(process.execPath, [cli, 'stress', '--connect', socket, '--mode', 'all', '--clients', clients,
  '--seconds', seconds, '--kills', '100', '--server-pid', String(server.pid)], { stdio: 'inherit' });
const code = await new Promise((resolve) => stress.once('exit', (c) => resolve(c ?? 1)));
const serverDied = server.exitCode !== null;
server.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
if (serverDied) process.stderr.write(`soak: the server died: ${banner}\n`);
process.exit(serverDied ? 1 : code);
