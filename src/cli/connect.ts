/** Options and connection handling shared by the commands that talk to a running server. */
import { Client } from '../../clients/ts/index.js';
import { AddressError, formatAddress, parseAddress } from '../wire/address.js';
import { isVphbError } from '../wire/errno.js';
import { defaultSocketPath } from '../wire/socket-path.js';
import type { Options, OptionSpec } from './args.js';
import type { CommandIo } from './command.js';

export const CONNECT_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'connect', short: 'c', type: 'string', env: 'VPHB_CONNECT', placeholder: 'ADDRESS',
    defaultText: '$VPHB_SOCKET, else the default socket',
    describe: 'server to talk to: unix:PATH (or a path), tcp:HOST:PORT, tcp://[::1]:PORT or ws://HOST:PORT',
  },
  { name: 'token', type: 'string', env: 'VPHB_TOKEN', describe: 'token for TCP/WebSocket servers' },
];

/** The target of `-c`: the option, else VPHB_CONNECT, else the serve socket VPHB_SOCKET, else the default path. */
export function connectTarget(opts: Options, env: NodeJS.ProcessEnv): string {
  return opts.str('connect') ?? (env['VPHB_SOCKET'] !== undefined && env['VPHB_SOCKET'] !== '' ? env['VPHB_SOCKET'] : defaultSocketPath(env));
}

/** A failure to reach a server, worded for the user: what was tried, what went wrong, what to do. */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

function describeTarget(target: string): string {
  try {
    return formatAddress(parseAddress(target));
  } catch {
    return target;
  }
}

/** Turns a connect or handshake failure into a ConnectError that says what to do. */
export function explainConnectError(target: string, e: unknown): Error {
  if (e instanceof AddressError) return new ConnectError(e.message);
  const where = describeTarget(target);
  const kind = where.startsWith('unix:') ? 'unix' : where.startsWith('tcp:') ? 'tcp' : 'ws';
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  const msg = e instanceof Error ? e.message : String(e);
  const start = kind === 'unix'
    ? `start one with "vphb serve" (it listens on ${describeTarget(defaultSocketPath())} by default), or point -c at its socket`
    : `start one with "vphb serve --${kind === 'tcp' ? 'tcp' : 'ws'} HOST:PORT --token ...", or check the address`;
  if (isVphbError(e)) {
    if (e.code === 'EACCES') return new ConnectError(`${where} refused the handshake (${e.message}): pass the server's token with --token or VPHB_TOKEN`);
    if ((e.code === 'EPROTO' || e.code === 'ECONNRESET') && kind === 'tcp') {
      return new ConnectError(`${where} did not answer as a vphb server (${e.message}); if it is a WebSocket port, use ws://`);
    }
    return new ConnectError(`${where}: handshake failed: ${e.code}: ${e.message}`);
  }
  switch (code) {
    case 'ENOENT': return new ConnectError(`no vphb server at ${where}: the socket does not exist; ${start}`);
    case 'ECONNREFUSED': return new ConnectError(`no vphb server at ${where}: connection refused; ${start}`);
    case 'EACCES':
    case 'EPERM': return new ConnectError(`cannot connect to ${where}: permission denied (the socket is mode 0600: run as the user who started the server)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return new ConnectError(`cannot connect to ${where}: unknown host`);
    case 'ENOTSOCK': return new ConnectError(`cannot connect to ${where}: not a socket`);
    default: break;
  }
  if (kind === 'ws' && /Expected HTTP|Unexpected server response|Invalid WebSocket frame|Parse Error/i.test(msg)) {
    return new ConnectError(`${where} did not answer as a vphb WebSocket server (${msg}); if it is a --tcp port, use tcp:HOST:PORT`);
  }
  if (/protocol error from server|closed inside a frame|closed/i.test(msg) && kind === 'tcp') {
    return new ConnectError(`${where} did not answer as a vphb server (${msg}); if it is a WebSocket port, use ws://`);
  }
  return new ConnectError(`cannot connect to ${where}: ${msg}`);
}

export async function withClient<T>(opts: Options, io: CommandIo, fn: (c: Client, target: string) => Promise<T>): Promise<T> {
  const target = connectTarget(opts, io.env);
  const token = opts.str('token');
  let client: Client;
  try {
    client = await Client.connect(target, { name: 'vphb-cli', ...(token === undefined ? {} : { token }) });
  } catch (e) {
    throw explainConnectError(target, e);
  }
  try {
    return await fn(client, describeTarget(target));
  } finally {
    await client.end();
  }
}
