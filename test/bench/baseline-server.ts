/**
 * Benchmark process: the raw-socket baseline. A bare Node UNIX server that copies every received
 * byte into an ArrayBuffer (as a table store would) and, when the client says how many bytes it
 * sent, acknowledges once they have all arrived. Protocol: the client's first 8 bytes are the
 * total it will send (LE u64); the server answers one byte at the end.
 */
import { createServer } from 'node:net';
import { send } from './common.js';

const SINK = new Uint8Array(new ArrayBuffer(64 << 20));

const server = createServer((sock) => {
  let expected = -1;
  let got = 0;
  let at = 0;
  let head = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    if (expected < 0) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 8) return;
      expected = Number(head.readBigUInt64LE(0));
      chunk = head.subarray(8);
    }
    if (at + chunk.length > SINK.length) at = 0;
    SINK.set(chunk, at);
    at += chunk.length;
    got += chunk.length;
    if (got >= expected) {
      sock.write(Buffer.from([1]));
      expected = -1;
      got = 0;
      head = Buffer.alloc(0);
    }
  });
  sock.on('error', () => undefined);
});
server.listen(process.argv[2]!, () => send({ ready: true }));
process.on('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0));
});
