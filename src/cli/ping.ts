/** `vphb ping`: handshake with a running server and measure round trips. */
import { performance } from 'node:perf_hooks';
import type { Command } from './command.js';
import { plural } from './command.js';
import { CONNECT_OPTIONS, withClient } from './connect.js';

export const ping: Command = {
  name: 'ping',
  summary: 'handshake with a running server and measure round-trip time',
  options: [
    ...CONNECT_OPTIONS,
    { name: 'count', short: 'n', type: 'integer', default: 10, min: 1, max: 1_000_000, describe: 'number of PINGs' },
  ],
  async run(opts, io) {
    const count = opts.int('count');
    await withClient(opts, io, async (client, where) => {
      const info = client.serverInfo;
      io.stdout.write(`connected to ${info.server} protocol ${info.major}.${info.minor} at ${where}\n`);
      const times: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await client.ping(new Uint8Array([i & 0xff]));
        times.push((performance.now() - t0) * 1000);
      }
      times.sort((x, y) => x - y);
      const median = times[Math.floor(times.length / 2)]!;
      io.stdout.write(`ping: ${plural(count, 'round trip')}, rtt min ${times[0]!.toFixed(1)} µs, median ${median.toFixed(1)} µs, max ${times[times.length - 1]!.toFixed(1)} µs\n`);
    });
  },
};
