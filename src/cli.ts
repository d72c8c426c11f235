#!/usr/bin/env node
/** The `vphb` command: serve the emulated host, or talk to a running server. */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Client } from '../clients/ts/index.js';
import { DEFAULT_TOPOLOGY, parseTopology, type TopologySpec } from './hw/topology.js';
import { defaultSocketPath } from './wire/socket-path.js';
import { parseHostPort, parseMemlock } from './server/options.js';
import { DEFAULT_LIMITS, VphbServer } from './server/server.js';
import { formatTopology } from './topology-table.js';
import { formatHostState, hostStateJson } from './cli-inspect.js';
import { isVphbError } from './wire/errno.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function loadTopology(file: string | undefined): TopologySpec {
  if (file === undefined) return DEFAULT_TOPOLOGY;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--config ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return parseTopology(json);
  } catch (e) {
    throw new Error(`--config ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function serve(argv: {
  socket: string; 'no-unix'?: boolean | undefined; tcp?: string | undefined; ws?: string | undefined;
  token?: string | undefined; config?: string | undefined; 'memlock-limit': string; 'max-frame-size': number;
  'log-level': string;
}): Promise<void> {
  const topology = loadTopology(argv.config);
  const logger = pino({ name: 'vphb', level: argv['log-level'] });
  const server = await VphbServer.start({
    topology,
    socketPath: argv['no-unix'] === true ? null : argv.socket,
    tcp: argv.tcp === undefined ? undefined : parseHostPort(argv.tcp, 'tcp'),
    ws: argv.ws === undefined ? undefined : parseHostPort(argv.ws, 'ws'),
    token: argv.token,
    memlockLimit: parseMemlock(argv['memlock-limit']),
    limits: { maxFrameSize: argv['max-frame-size'] },
    logger,
  });
  const a = server.addresses;
  const where = [
    a.unix !== undefined ? `unix:${a.unix}` : undefined,
    a.tcp !== undefined ? `tcp://${a.tcp.host}:${a.tcp.port}` : undefined,
    a.ws !== undefined ? `ws://${a.ws.host}:${a.ws.port}` : undefined,
  ].filter((x) => x !== undefined);
  const phbs = topology.phbs.map((p) => `${p.name} (${p.kind} ${p.model}, ${p.pes.length} groups)`).join(', ');
  logger.info({ listen: where, phbs: topology.phbs.length, groups: topology.phbs.flatMap((p) => p.pes.map((pe) => pe.group)) }, 'listening');
  process.stderr.write(`vphb: listening on ${where.join(', ')}\nvphb: emulating ${phbs}\n`);
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: sig }, 'shutting down');
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function withClient<T>(argv: { connect: string; token?: string | undefined }, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await Client.connect(argv.connect, { name: 'vphb-cli', ...(argv.token === undefined ? {} : { token: argv.token }) });
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function ping(argv: { connect: string; token?: string | undefined; count: number }): Promise<void> {
  await withClient(argv, async (client) => {
    const info = client.serverInfo;
    process.stdout.write(`connected to ${info.server} protocol ${info.major}.${info.minor} at ${argv.connect}\n`);
    const times: number[] = [];
    for (let i = 0; i < argv.count; i++) {
      const t0 = performance.now();
      await client.ping(new Uint8Array([i & 0xff]));
      times.push((performance.now() - t0) * 1000);
    }
    times.sort((x, y) => x - y);
    const median = times[Math.floor(times.length / 2)]!;
    process.stdout.write(`ping: ${argv.count} round trips, rtt min ${times[0]!.toFixed(1)} µs, median ${median.toFixed(1)} µs, max ${times[times.length - 1]!.toFixed(1)} µs\n`);
  });
}

async function topology(argv: { connect: string; token?: string | undefined; json?: boolean | undefined }): Promise<void> {
  await withClient(argv, async (client) => {
    const topo = await client.topology();
    if (argv.json === true) {
      process.stdout.write(JSON.stringify(topo, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2) + '\n');
    } else {
      process.stdout.write(formatTopology(topo));
    }
  });
}

async function inspect(argv: { connect: string; token?: string | undefined; json?: boolean | undefined }): Promise<void> {
  await withClient(argv, async (client) => {
    const state = await client.hostState();
    process.stdout.write(argv.json === true ? hostStateJson(state) : formatHostState(state));
  });
}

const connectOptions = {
  connect: {
    alias: 'c',
    type: 'string',
    default: defaultSocketPath(),
    describe: 'server to talk to: a UNIX socket path, tcp://HOST:PORT or ws://HOST:PORT',
  },
  token: { type: 'string', describe: 'token for TCP/WebSocket servers (env VPHB_TOKEN)' },
} as const;

export async function main(args: string[]): Promise<void> {
  await yargs(args)
    .scriptName('vphb')
    .env('VPHB')
    .usage('$0 <command> [options]\n\nvphb emulates POWER PCI host bridges with the sPAPR TCE IOMMU, and serves the\nVFIO and KVM interfaces a VMM drives, to many clients over a socket.')
    .command('serve', 'serve the emulated host (default topology, or --config)', (y) => y
      .option('socket', { alias: 's', type: 'string', default: defaultSocketPath(), describe: 'UNIX socket path (mode 0600)' })
      .option('no-unix', { type: 'boolean', describe: 'do not listen on a UNIX socket' })
      .option('tcp', { type: 'string', describe: 'also listen on TCP HOST:PORT (loopback if HOST omitted); needs --token' })
      .option('ws', { type: 'string', describe: 'also listen for WebSocket on HOST:PORT; needs --token' })
      .option('token', { type: 'string', describe: 'token clients must present on TCP/WebSocket (env VPHB_TOKEN)' })
      .option('config', { type: 'string', describe: 'topology JSON file replacing the embedded default' })
      .option('memlock-limit', { type: 'string', default: '16G', describe: 'locked-memory limit per client: bytes (K/M/G/T suffix) or "unlimited"' })
      .option('max-frame-size', { type: 'number', default: DEFAULT_LIMITS.maxFrameSize, describe: 'largest accepted frame in bytes' })
      .option('log-level', { type: 'string', choices: LOG_LEVELS, default: 'info', describe: 'pino log level (JSON logs on stdout)' }),
    (argv) => serve(argv))
    .command('ping', 'handshake with a running server and measure round-trip time', (y) => y
      .options(connectOptions)
      .option('count', { alias: 'n', type: 'number', default: 10, describe: 'number of PINGs' }),
    (argv) => ping(argv))
    .command('topology', 'show the emulated hardware of a running server', (y) => y
      .options(connectOptions)
      .option('json', { type: 'boolean', describe: 'print JSON instead of a table' }),
    (argv) => topology(argv))
    .command('inspect', 'show the whole state of a running server: PEs, EEH, devices, containers, VMs, connections', (y) => y
      .options(connectOptions)
      .option('json', { type: 'boolean', describe: 'print JSON instead of tables' }),
    (argv) => inspect(argv))
    .demandCommand(1, 'give a command: serve, ping, topology or inspect')
    .strict()
    .help()
    .alias('help', 'h')
    .version()
    .fail((msg, err) => {
      if (err !== undefined && err !== null) throw err;
      process.stderr.write(`${msg}\n\nRun "vphb --help" for usage.\n`);
      process.exit(2);
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch((e: unknown) => {
  const msg = isVphbError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`vphb: ${msg}\n`);
  process.exit(1);
});
