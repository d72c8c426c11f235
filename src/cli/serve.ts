/** `vphb serve`: the emulated host on a UNIX socket, and optionally TCP and WebSocket. */
import { readFileSync } from 'node:fs';
import { DEFAULT_TOPOLOGY, parseTopology, type TopologySpec } from '../hw/topology.js';
import { parseListenAddress, parseMemlock } from '../server/options.js';
import { DEFAULT_LIMITS, VphbServer } from '../server/server.js';
import { formatAddress } from '../wire/address.js';
import { defaultSocketPath } from '../wire/socket-path.js';
import type { Command } from './command.js';
import { plural } from './command.js';
import { LOG_FORMATS, LOG_LEVELS, createLogger } from './log.js';

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

/** systemd socket activation: the first passed descriptor (3) when LISTEN_PID is this process. */
export function activationFd(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  if (env['LISTEN_PID'] !== String(pid)) return undefined;
  const n = Number(env['LISTEN_FDS']);
  return Number.isInteger(n) && n >= 1 ? 3 : undefined;
}

export const serve: Command = {
  name: 'serve',
  summary: 'serve the emulated host (default topology, or --config)',
  description:
    'Logs are JSON lines on stdout (a short human form when stdout is a terminal), or --log-file.\n' +
    'Under systemd socket activation (LISTEN_FDS) the passed socket is served instead of --socket.',
  options: [
    { name: 'socket', short: 's', type: 'string', env: 'VPHB_SOCKET', placeholder: 'PATH', defaultText: defaultSocketPath(), describe: 'UNIX socket path (mode 0600)' },
    { name: 'unix', type: 'boolean', default: true, envNegated: 'VPHB_NO_UNIX', describe: 'listen on the UNIX socket' },
    { name: 'tcp', type: 'string', env: 'VPHB_TCP', placeholder: 'HOST:PORT', check: (v) => parseListenAddress(v, 'tcp'), describe: 'also listen on TCP (tcp:HOST:PORT, [::1]:PORT, :PORT = loopback); needs --token' },
    { name: 'ws', type: 'string', env: 'VPHB_WS', placeholder: 'HOST:PORT', check: (v) => parseListenAddress(v, 'ws'), describe: 'also listen for WebSocket (ws://HOST:PORT or HOST:PORT); needs --token' },
    { name: 'token', type: 'string', env: 'VPHB_TOKEN', describe: 'token clients must present on TCP/WebSocket' },
    { name: 'config', type: 'string', env: 'VPHB_CONFIG', placeholder: 'FILE', describe: 'topology JSON file replacing the embedded default' },
    { name: 'profile', type: 'string', env: 'VPHB_PROFILE', choices: ['linux', 'strict'], describe: 'behaviour profile: linux (the kernel, quirks included; default, or the config\'s "profile") or strict (kernel bugs answered correctly)' },
    { name: 'memlock-limit', type: 'string', env: 'VPHB_MEMLOCK_LIMIT', default: '16G', placeholder: 'BYTES', check: parseMemlock, describe: 'locked-memory limit per client: bytes (K/M/G/T suffix) or "unlimited"' },
    {
      name: 'max-frame-size', type: 'size', env: 'VPHB_MAX_FRAME_SIZE', default: DEFAULT_LIMITS.maxFrameSize, defaultText: '16M',
      min: 4096, max: 1 << 30, placeholder: 'BYTES', describe: 'largest accepted frame in bytes',
    },
    { name: 'log-level', type: 'string', env: 'VPHB_LOG_LEVEL', choices: LOG_LEVELS, default: 'info', describe: 'log level' },
    { name: 'log-file', type: 'string', env: 'VPHB_LOG_FILE', placeholder: 'FILE', describe: 'append JSON logs to FILE instead of stdout' },
    { name: 'log-format', type: 'string', env: 'VPHB_LOG_FORMAT', choices: LOG_FORMATS, default: 'auto', describe: 'stdout log format (auto: pretty on a terminal)' },
  ],
  async run(opts, io) {
    const topology = loadTopology(opts.str('config'));
    const tcp = opts.str('tcp');
    const ws = opts.str('ws');
    const memlockLimit = parseMemlock(opts.str('memlock-limit')!);
    const logger = createLogger({
      level: opts.str('log-level')!,
      file: opts.str('log-file'),
      format: opts.str('log-format') as (typeof LOG_FORMATS)[number],
      stdout: io.stdout,
    });
    const listenFd = activationFd(io.env);
    const profileOpt = opts.str('profile');
    const profile = profileOpt === 'linux' || profileOpt === 'strict' ? profileOpt : undefined;
    const server = await VphbServer.start({
      topology,
      profile,
      socketPath: listenFd !== undefined || !opts.bool('unix') ? null : (opts.str('socket') ?? defaultSocketPath(io.env)),
      ...(listenFd === undefined ? {} : { listenFd }),
      tcp: tcp === undefined ? undefined : parseListenAddress(tcp, 'tcp'),
      ws: ws === undefined ? undefined : parseListenAddress(ws, 'ws'),
      token: opts.str('token'),
      memlockLimit,
      limits: { maxFrameSize: opts.int('max-frame-size') },
      logger,
    });
    const a = server.addresses;
    const where = [
      a.unix !== undefined ? formatAddress({ kind: 'unix', path: a.unix }) : undefined,
      a.tcp !== undefined ? formatAddress({ kind: 'tcp', ...a.tcp }) : undefined,
      a.ws !== undefined ? formatAddress({ kind: 'ws', ...a.ws }) : undefined,
    ].filter((x) => x !== undefined);
    const phbs = topology.phbs.map((p) => `${p.name} (${p.kind} ${p.model}, ${plural(p.pes.length, 'group')})`).join(', ');
    logger.info({ listen: where, phbs: topology.phbs.length, groups: topology.phbs.flatMap((p) => p.pes.map((pe) => pe.group)) }, 'listening');
    io.stderr.write(`vphb: listening on ${where.join(', ')}\nvphb: emulating ${phbs}\nvphb: behaviour profile ${server.system.profile}\n`);
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal: why }, 'shutting down');
      void server.close().then(() => process.exit(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGHUP', () => stop('SIGHUP'));
    // Run from an npm script, the server must not outlive npm: npm forwards SIGTERM/SIGINT, but
    // not its own SIGKILL, after which this process is re-parented.
    if (io.env['npm_lifecycle_event'] !== undefined) {
      const parent = process.ppid;
      setInterval(() => {
        if (process.ppid !== parent) stop('parent exited');
      }, 500).unref();
    }
  },
};
