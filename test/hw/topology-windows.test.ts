/** window_starts in a topology config: aligned to the largest window, increasing, never wrapping (issue 10 item 8). */
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/hw/topology.js';
import { Host } from '../../src/hw/host.js';

const pes = [{ pe: 1, group: 1, devices: ['0000:01:00.0'] }];
const cfg = (window_starts: unknown[]) => ({ phbs: [{ pes, window_starts }] });

describe('window_starts', () => {
  it.each([
    [['0xffffffffffffffff'], /window_starts\[0\]: 0xffffffffffffffff is not a multiple of 2\^55/],
    [[0, 1], /window_starts\[1\]: 0x1 is not a multiple of 2\^55/],
    [[0, '0x10000000000'], /window_starts\[1\]: 0x10000000000 is not a multiple/],
    [['0x800000000000000', 0], /window_starts: must be in increasing order/],
    [[0, 0], /window_starts: must be in increasing order/],
  ])('rejects %j', (starts, re) => {
    expect(() => parseTopology(cfg(starts))).toThrow(re);
  });

  it('accepts the hardware layout and the highest aligned start, where the largest window still ends by 2^64', () => {
    expect(parseTopology(cfg([0, '0x800000000000000'])).phbs[0]!.windowStarts).toEqual([0n, 1n << 59n]);
    const top = (1n << 64n) - (1n << 55n);
    const t = parseTopology(cfg([0, `0x${top.toString(16)}`]));
    expect(t.phbs[0]!.windowStarts[1]).toBe(top);
    new Host(t); // builds
  });
});
