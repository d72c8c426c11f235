/** The `vphb stress` command (registered by cli.ts): options, and the exit status of a run. */
import type { Argv, CommandModule } from 'yargs';
import { runStress, runWorker, type StressMode } from './stress/run.js';
import { clean, formatReport } from './stress/report.js';

function options(a: Argv, defaultTarget: string) {
  return a
    .option('connect', { alias: 'c', type: 'string', default: defaultTarget, describe: 'server: UNIX socket path, tcp://HOST:PORT or ws://HOST:PORT' })
    .option('token', { type: 'string', describe: 'token for TCP/WebSocket servers (env VPHB_TOKEN)' })
    .option('mode', { type: 'string', choices: ['ops', 'fault', 'fuzz', 'all'], default: 'all', describe: 'random valid ops, SIGKILLed client processes, mutated frames, or each in turn' })
    .option('clients', { alias: 'n', type: 'number', default: 8, describe: 'concurrent clients' })
    .option('seconds', { alias: 't', type: 'number', default: 10, describe: 'duration of the run' })
    .option('kills', { type: 'number', default: 100, describe: 'fault mode: client processes to SIGKILL mid-call' })
    .option('seed', { type: 'number', default: 1, describe: 'random seed (a run is repeatable from it)' })
    .option('server-pid', { type: 'number', describe: 'pid of the server, to report its RSS (same machine)' })
    .option('json', { type: 'boolean', describe: 'print the report as one JSON line as well' })
    .option('worker', { type: 'boolean', hidden: true });
}

type StressArgs = Awaited<ReturnType<typeof options>['argv']>;

/** `vphb stress` for yargs' .command(). */
export function stressCommand(defaultTarget: string): CommandModule<object, StressArgs> {
  return {
    command: 'stress',
    describe: 'drive a running server with many random, killed and fuzzing clients; exit 1 on any divergence, leak or crash',
    builder: (a) => options(a, defaultTarget) as unknown as Argv<StressArgs>,
    handler: stress,
  };
}

async function stress(argv: StressArgs): Promise<void> {
    if (argv.worker === true) {
      process.exitCode = await runWorker({ target: argv.connect, token: argv.token, seed: argv.seed, seconds: argv.seconds });
      return;
    }
    for (const [k, v] of [['clients', argv.clients], ['seconds', argv.seconds], ['kills', argv.kills]] as const) {
      if (!Number.isFinite(v) || v < (k === 'kills' ? 0 : 1e-3)) throw new Error(`--${k}: expected a positive number, got ${v}`);
    }
    const report = await runStress({
      target: argv.connect, token: argv.token, mode: argv.mode as StressMode, clients: Math.floor(argv.clients), seconds: argv.seconds,
      kills: Math.floor(argv.kills), seed: argv.seed, serverPid: argv['server-pid'],
      log: (l) => process.stderr.write(`vphb stress: ${l}\n`),
    });
    process.stdout.write(formatReport(report));
    if (argv.json === true) process.stdout.write(JSON.stringify(report) + '\n');
    process.exitCode = clean(report) ? 0 : 1;
}
