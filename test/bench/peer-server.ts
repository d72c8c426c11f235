/**
 * Benchmark process: the Node peers the vphb cases are compared with, on a UNIX socket (argv[3]).
 * Mode (argv[2]):
 *  - `drop`: Node's bulk receive. Reads and drops every byte; the client's first 8 bytes of a
 *    round are its length (LE u64) and the server answers one byte when all of it has arrived.
 *  - `copy`: the old baseline. As `drop`, but copies every byte into an ArrayBuffer first (as a
 *    table store would).
 *  - `echo`: Node's echo floor. Writes back every chunk it reads.
 */
import { createServer, type Socket } from 'node:net';
import { answerCpu, send } from './common.js';

answerCpu();

const mode = process.argv[2];
const SINK = new Uint8Array(new ArrayBuffer(64 << 20));

function bulk(sock: Socket, copy: boolean): void {
  let expected = -1;
  let got = 0;
  let at = 0;
  let head: Buffer = Buffer.alloc(0);
  const ack = Buffer.from([1]);
  sock.on('data', (chunk: Buffer) => {
    if (expected < 0) {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < 8) return;
      expected = Number(head.readBigUInt64LE(0));
      chunk = head.subarray(8);
      head = Buffer.alloc(0);
    }
    if (copy) {
      if (at + chunk.length > SINK.length) at = 0;
      SINK.set(chunk, at);
      at += chunk.length;
    }
    got += chunk.length;
    if (got >= expected) {
      // The client waits for the ack before the next round: nothing follows in this chunk.
      sock.write(ack);
      expected = -1;
      got = 0;
    }
  });
}

const server = createServer((sock) => {
  sock.on('error', () => undefined);
  if (mode === 'echo') sock.on('data', (chunk: Buffer) => sock.write(chunk));
  else bulk(sock, mode === 'copy');
});
if (mode !== 'drop' && mode !== 'copy' && mode !== 'echo') throw new Error(`unknown mode ${mode}`);
server.listen(process.argv[3]!, () => send({ ready: true }));
process.on('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0));
});
