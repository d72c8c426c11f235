// 100 client processes SIGKILLed mid-call (vphb stress --mode fault), then groups and locked
// memory checked back to baseline by the stress tool's leak probe; also the server's session
// count from its log is not needed: a fresh client must be able to open every group.
import { spawn } from 'node:child_process';
import { cli, startServer } from './common.mjs';

const s = await startServer();
try {
  const args = [cli, 'stress', '--connect', s.socket, '--mode', process.env.MODE ?? 'fault', '--clients', process.env.CLIENTS ?? '8',
    '--kills', process.env.KILLS ?? '100', '--seconds', process.env.SECONDS ?? '240', '--server-pid', String(s.pid), '--json'];
  const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => p.once('exit', r));
  process.stdout.write(out);
  console.log(JSON.stringify({ figure: process.env.MODE ?? 'fault', exit: code, serverAlive: s.proc.exitCode === null }));
} finally {
  s.stop();
}
