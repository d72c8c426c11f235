/** `vphb inspect`: the whole emulated host of a running server (HOST_STATE), as tables or JSON. */
import type { Command } from './command.js';
import { CONNECT_OPTIONS, withClient } from './connect.js';
import { formatHostState, hostStateJson } from './inspect-format.js';

export const inspect: Command = {
  name: 'inspect',
  summary: 'show the whole host state: connections, PEs (EEH), devices, containers, windows, VMs',
  description: 'HOST_STATE shows every connection\'s state, not only this one\'s; on TCP/WebSocket it needs\nthe token like every op. With --json it prints the reply as JSON (u64 values as 0x strings).',
  options: [
    ...CONNECT_OPTIONS,
    { name: 'json', type: 'boolean', describe: 'print JSON instead of tables' },
  ],
  async run(opts, io) {
    await withClient(opts, io, async (client) => {
      const state = await client.hostState();
      io.stdout.write(opts.bool('json') ? hostStateJson(state) : formatHostState(state));
    });
  },
};
