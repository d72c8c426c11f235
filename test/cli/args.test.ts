import { describe, expect, it } from 'vitest';
import { UsageError, formatOptions, parseOptions, type OptionSpec } from '../../src/cli/args.js';
import { prettyLine } from '../../src/cli/log.js';
import { parseListenAddress } from '../../src/server/options.js';

const SPECS: OptionSpec[] = [
  { name: 'socket', short: 's', type: 'string', env: 'X_SOCKET', default: '/d', describe: 'path' },
  { name: 'unix', type: 'boolean', default: true, envNegated: 'X_NO_UNIX', describe: 'listen' },
  { name: 'count', short: 'n', type: 'integer', default: 10, min: 1, max: 100, describe: 'count' },
  { name: 'size', type: 'size', env: 'X_SIZE', default: 4096, min: 4096, max: 1 << 30, describe: 'bytes' },
  { name: 'level', type: 'string', choices: ['info', 'warn'], default: 'info', describe: 'level' },
];

const parse = (args: string[], env: Record<string, string> = {}) => parseOptions(SPECS, args, env);
function usage(args: string[], env: Record<string, string> = {}): string {
  try {
    parse(args, env);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('parseOptions', () => {
  it('takes the command line over the environment over the default', () => {
    expect(parse([]).str('socket')).toBe('/d');
    expect(parse([], { X_SOCKET: '/env' }).str('socket')).toBe('/env');
    expect(parse(['-s', '/cli'], { X_SOCKET: '/env' }).str('socket')).toBe('/cli');
  });

  it('has --no-X for every boolean, and an env variable for the negation', () => {
    expect(parse([]).bool('unix')).toBe(true);
    expect(parse(['--no-unix']).bool('unix')).toBe(false);
    expect(parse([], { X_NO_UNIX: 'true' }).bool('unix')).toBe(false);
    expect(parse(['--unix'], { X_NO_UNIX: '1' }).bool('unix')).toBe(true);
    expect(usage(['--unix', '--no-unix'])).toBe('--unix and --no-unix given together');
    expect(usage([], { X_NO_UNIX: 'maybe' })).toBe('X_NO_UNIX: expected true or false, got "maybe"');
  });

  it('checks integers and sizes with the option and its range in the message', () => {
    expect(parse(['-n', '7']).int('count')).toBe(7);
    expect(parse(['--size', '64K']).int('size')).toBe(65536);
    expect(parse(['--size=1MiB']).int('size')).toBe(1 << 20);
    expect(usage(['-n', '0'])).toBe('--count: 0 is out of range: expected 1..100');
    expect(usage(['-n', '-3'])).toBe('--count: expected a whole number in 1..100, got "-3"');
    expect(usage(['--count', '2.5'])).toBe('--count: expected a whole number in 1..100, got "2.5"');
    expect(usage(['--size', '1x'])).toMatch(/^--size: expected a whole number of bytes/);
    expect(usage([], { X_SIZE: '10' })).toBe('X_SIZE: 10 is out of range: expected 4096..1073741824');
  });

  it('refuses unknown options, missing values and bad choices', () => {
    expect(usage(['--sokcet', 'x'])).toMatch(/unknown option '--sokcet'/);
    expect(usage(['--level', 'loud'])).toBe('--level: expected one of info, warn, got "loud"');
    expect(usage(['-s'])).toMatch(/argument missing/);
    expect(usage(['extra'])).toMatch(/positional/);
  });

  it('runs an option\'s own check, as a usage error naming where the value came from', () => {
    const specs: OptionSpec[] = [{ name: 'tcp', type: 'string', env: 'X_TCP', check: (v) => parseListenAddress(v, 'tcp'), describe: 'tcp' }];
    expect(parseOptions(specs, ['--tcp', 'tcp:[::1]:80'], {}).str('tcp')).toBe('tcp:[::1]:80');
    expect(() => parseOptions(specs, ['--tcp', 'nope'], {})).toThrow(new UsageError('--tcp: expected HOST:PORT (e.g. 127.0.0.1:7420), got "nope"'));
    expect(() => parseOptions(specs, [], { X_TCP: 'a:b' })).toThrow(new UsageError('X_TCP: expected HOST:PORT (e.g. 127.0.0.1:7420), got "a:b"'));
  });

  it('ignores environment variables it does not define', () => {
    expect(parse([], { X_OTHER: '1', VPHB_LOG_LEVEL: 'debug' }).str('level')).toBe('info');
  });

  it('documents negations and environment variables in help', () => {
    const help = formatOptions(SPECS);
    expect(help).toContain('--[no-]unix');
    expect(help).toContain('env X_NO_UNIX=1 for --no-unix');
    expect(help).toContain('env X_SOCKET');
  });
});

describe('parseListenAddress', () => {
  it('takes what serve prints back', () => {
    expect(parseListenAddress('tcp://[::1]:7432', 'tcp')).toEqual({ host: '::1', port: 7432 });
    expect(parseListenAddress('tcp:0.0.0.0:7420', 'tcp')).toEqual({ host: '0.0.0.0', port: 7420 });
    expect(parseListenAddress('ws://127.0.0.1:7421/', 'ws')).toEqual({ host: '127.0.0.1', port: 7421 });
    expect(parseListenAddress(':7420', 'tcp')).toEqual({ host: '127.0.0.1', port: 7420 });
    expect(() => parseListenAddress('ws://127.0.0.1:7421/vphb', 'ws')).toThrow(/path \/ only/);
  });
});

describe('prettyLine', () => {
  it('turns a pino JSON line into time, level, message and fields', () => {
    const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 12, 34, 56, 789), pid: 1, hostname: 'h', name: 'vphb', conn: 3, msg: 'connected' });
    expect(prettyLine(line)).toBe('12:34:56.789 INFO  connected conn=3');
    expect(prettyLine('not json')).toBe('not json');
  });
});
