/** `vphb topology`: the emulated hardware of a running server, as a table or as a --config file. */
import { formatTopology, topologyToConfig } from '../topology-table.js';
import type { Command } from './command.js';
import { CONNECT_OPTIONS, withClient } from './connect.js';

export const topology: Command = {
  name: 'topology',
  summary: 'show the emulated hardware of a running server',
  description: 'With --json it prints the TOPOLOGY reply as JSON (u64 values as 0x strings), which\n"vphb serve --config" accepts as it is.',
  options: [
    ...CONNECT_OPTIONS,
    { name: 'json', type: 'boolean', describe: 'print JSON (usable as serve --config) instead of a table' },
  ],
  async run(opts, io) {
    await withClient(opts, io, async (client) => {
      const topo = await client.topology();
      if (opts.bool('json')) io.stdout.write(`${JSON.stringify(topologyToConfig(topo), null, 2)}\n`);
      else io.stdout.write(formatTopology(topo));
    });
  },
};
