/** `vphb <command> [options]`: dispatch to a command, help, version, and exit statuses. */
import { isVphbError } from '../wire/errno.js';
import { VPHB_VERSION } from '../server/version.js';
import { UsageError, formatOptions, parseOptions } from './args.js';
import type { Command, CommandIo } from './command.js';
import { COMMANDS } from './commands.js';

const INTRO = 'vphb emulates POWER PCI host bridges with the sPAPR TCE IOMMU, and serves the\nVFIO and KVM interfaces a VMM drives, to many clients over a socket.';

function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'Usage: vphb <command> [options]',
    '',
    INTRO,
    '',
    'Commands:',
    ...commands.map((c) => `  vphb ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (vphb <command> --help for its options)',
    '  -V, --version  show the version',
    '',
    'Addresses: unix:PATH (or a path), tcp:HOST:PORT, tcp://[::1]:PORT, ws://HOST:PORT/',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [
    `Usage: vphb ${c.name} [options]${c.positionals === undefined ? '' : ` ${c.positionals}`}`,
    '',
    c.summary,
    ...(c.description === undefined ? [] : ['', c.description]),
    '',
    'Options:',
    formatOptions(c.options),
    '  -h, --help  show this help',
    '',
  ].join('\n');
}

/** Exit statuses: 0 success, 1 the command failed, 2 a usage error. */
export async function main(args: readonly string[], io: CommandIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  const usage = (msg: string, help = 'vphb --help'): number => {
    io.stderr.write(`vphb: ${msg}\n\nRun "${help}" for usage.\n`);
    return 2;
  };
  const [first, ...rest] = args;
  if (first === undefined) return usage(`give a command: ${commands.map((c) => c.name).join(', ')}`);
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(mainHelp(commands));
    return 0;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`${VPHB_VERSION}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === first);
  if (command === undefined) {
    return usage(first.startsWith('-') ? `unknown option ${first} (options go after the command)` : `unknown command ${JSON.stringify(first)}`);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command));
    return 0;
  }
  let opts;
  try {
    opts = parseOptions(command.options, rest, io.env, command.positionals !== undefined);
  } catch (e) {
    if (e instanceof UsageError) return usage(`${command.name}: ${e.message}`, `vphb ${command.name} --help`);
    throw e;
  }
  try {
    return (await command.run(opts, io)) ?? 0;
  } catch (e) {
    const msg = isVphbError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    io.stderr.write(`vphb: ${msg}\n`);
    return 1;
  }
}
