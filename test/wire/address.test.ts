import { describe, expect, it } from 'vitest';
import { AddressError, formatAddress, parseAddress } from '../../src/wire/address.js';

describe('addresses', () => {
  it.each([
    ['unix:/run/vphb.sock', 'unix:/run/vphb.sock'],
    ['/run/vphb.sock', 'unix:/run/vphb.sock'],
    ['tcp:127.0.0.1:7420', 'tcp://127.0.0.1:7420'],
    ['tcp:[::1]:7420', 'tcp://[::1]:7420'],
    ['tcp://[fe80::1%eth0]:1', 'tcp://[fe80::1%eth0]:1'],
    ['tcp://localhost:9/', 'tcp://localhost:9'],
    ['ws://127.0.0.1:7421/', 'ws://127.0.0.1:7421/'],
  ])('%s prints as %s, which parses back to the same address', (input, printed) => {
    const a = parseAddress(input);
    expect(formatAddress(a)).toBe(printed);
    expect(parseAddress(printed)).toEqual(a);
  });

  it('prints a listener on IPv6 with brackets', () => {
    expect(formatAddress({ kind: 'tcp', host: '::1', port: 7432 })).toBe('tcp://[::1]:7432');
    expect(formatAddress({ kind: 'ws', host: '::', port: 1 })).toBe('ws://[::]:1/');
  });

  it.each(['tcp://:7420', 'tcp:host', 'tcp:host:0', 'tcp:host:70000', 'tcp://::1:7432', 'ws://:1', 'unix:', 'http://x:1', ''])('rejects %j with an AddressError naming the shape', (v) => {
    expect(() => parseAddress(v)).toThrow(AddressError);
    expect(() => parseAddress(v)).toThrow(/want /);
  });
});
