/** `vphb stress`: drive a running server with random, killed and fuzzing clients; the exit status of a run. */
import { clean, formatReport } from '../stress/report.js';
import { runStress, runWorker, type StressMode } from '../stress/run.js';
import type { Command } from './command.js';
import { CONNECT_OPTIONS, connectTarget } from './connect.js';

function seconds(text: string): void {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`expected a positive number of seconds, got ${JSON.stringify(text)}`);
}

export const stress: Command = {
  name: 'stress',
  summary: 'drive a running server with many random, killed and fuzzing clients; exit 1 on any divergence, leak or crash',
  description: 'Modes: ops (random valid op sequences checked against a reference model), fault (client\nprocesses SIGKILLed mid-call), fuzz (mutated frames), all (each in turn). Traffic goes only to\nthe given server; a run is bounded by --seconds and --kills and repeatable from --seed.',
  options: [
    ...CONNECT_OPTIONS,
    { name: 'mode', type: 'string', choices: ['ops', 'fault', 'fuzz', 'all'], default: 'all', describe: 'what to run' },
    { name: 'clients', short: 'n', type: 'integer', default: 8, min: 1, max: 1024, describe: 'concurrent clients' },
    { name: 'seconds', short: 't', type: 'string', default: '10', check: seconds, placeholder: 'S', describe: 'duration of the run' },
    { name: 'kills', type: 'integer', default: 100, min: 0, describe: 'fault mode: client processes to SIGKILL mid-call' },
    { name: 'seed', type: 'integer', default: 1, min: 0, describe: 'random seed (a run is repeatable from it)' },
    { name: 'server-pid', type: 'integer', min: 1, describe: 'pid of the server, to report its RSS (same machine)' },
    { name: 'json', type: 'boolean', describe: 'print the report as one JSON line as well' },
    { name: 'worker', type: 'boolean', describe: 'internal: run as one fault-mode worker process' },
  ],
  async run(opts, io) {
    const target = connectTarget(opts, io.env);
    const token = opts.str('token');
    const secs = Number(opts.str('seconds'));
    if (opts.bool('worker')) return runWorker({ target, token, seed: opts.int('seed'), seconds: secs });
    const report = await runStress({
      target, token, mode: opts.str('mode') as StressMode, clients: opts.int('clients'), seconds: secs,
      kills: opts.int('kills'), seed: opts.int('seed'), serverPid: opts.has('server-pid') ? opts.int('server-pid') : undefined,
      log: (l) => io.stderr.write(`vphb stress: ${l}\n`),
    });
    io.stdout.write(formatReport(report));
    if (opts.bool('json')) io.stdout.write(JSON.stringify(report) + '\n');
    return clean(report) ? 0 : 1;
  },
};
