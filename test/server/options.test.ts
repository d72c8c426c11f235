import { describe, expect, it } from 'vitest';
import { parseHostPort, parseMemlock } from '../../src/server/options.js';
import { defaultSocketPath } from '../../src/wire/socket-path.js';

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:7420', { host: '127.0.0.1', port: 7420 }],
    [':7420', { host: '127.0.0.1', port: 7420 }],
    ['7420', { host: '127.0.0.1', port: 7420 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
  ])('%s', (v, want) => expect(parseHostPort(v, 'tcp')).toEqual(want));

  it.each(['host:', 'host:99999', 'a:b', ''])('rejects %j naming the option', (v) => {
    expect(() => parseHostPort(v, 'ws')).toThrow(/--ws: expected HOST:PORT/);
  });
});

describe('parseMemlock', () => {
  it('takes bytes with binary suffixes, or unlimited', () => {
    expect(parseMemlock('16G')).toBe(16n << 30n);
    expect(parseMemlock('64k')).toBe(65536n);
    expect(parseMemlock('1048576')).toBe(1048576n);
    expect(parseMemlock('2MiB')).toBe(2n << 20n);
    expect(parseMemlock('unlimited')).toBeNull();
  });
  it('rejects garbage', () => expect(() => parseMemlock('lots')).toThrow(/--memlock-limit/));
});

describe('defaultSocketPath', () => {
  it('prefers XDG_RUNTIME_DIR', () => expect(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/7' })).toBe('/run/user/7/vphb.sock'));
  it('falls back to /tmp/vphb-<uid>.sock', () => expect(defaultSocketPath({})).toMatch(/^\/tmp\/vphb-\d+\.sock$/));
});
