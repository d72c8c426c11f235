// Connect to a running vphb server, list its IOMMU groups and time a PING.
// Run: node dist/examples/quickstart.js [unix:PATH | tcp:HOST:PORT | ws://HOST:PORT/]
// (in a project that depends on vphb: import { Client, defaultSocketPath } from 'vphb/client')
import { Client, defaultSocketPath } from '../clients/ts/index.js';

const target = process.argv[2] ?? defaultSocketPath();
const client = await Client.connect(target, { name: 'quickstart', token: process.env.VPHB_TOKEN });
console.log(`server ${client.serverInfo.server}, protocol ${client.serverInfo.major}.${client.serverInfo.minor}`);

const topo = await client.topology();
for (const phb of topo.phbs) {
  for (const g of phb.groups) {
    console.log(`${phb.name} group ${g.group} (PE ${g.pe}): ${g.devices.join(', ')}`);
  }
}

const t0 = process.hrtime.bigint();
await client.ping(new Uint8Array([1, 2, 3]));
console.log(`ping ${Number(process.hrtime.bigint() - t0) / 1000} µs`);
await client.end();
