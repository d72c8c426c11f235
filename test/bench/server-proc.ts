/** Benchmark process: a vphb server on a UNIX socket (argv[2]); says {ready} over IPC. */
import { pino } from 'pino';
import { DEFAULT_TOPOLOGY } from '../../src/hw/topology.js';
import { VphbServer } from '../../src/server/server.js';
import { answerCpu, send } from './common.js';

answerCpu();

const server = await VphbServer.start({
  topology: DEFAULT_TOPOLOGY,
  socketPath: process.argv[2]!,
  memlockLimit: null,
  limits: {},
  logger: pino({ level: 'silent' }),
});
send({ ready: true });
process.on('message', (m) => {
  if (m === 'stop') void server.close().then(() => process.exit(0));
});
