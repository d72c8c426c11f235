/**
 * A tiny scripted vphb stand-in for client tests: a UNIX socket server speaking the framing, that
 * records every byte it receives and lets the test decide what (and when) to answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameDecoder } from '../../src/wire/frame-decoder.js';
import { FLAG_ERROR, TYPE_REPLY, encodeFrame, type FrameHeader } from '../../src/wire/header.js';
import { decodePayload, encodePayload } from '../../src/wire/msgpack.js';

export interface Received {
  header: FrameHeader;
  payload: Uint8Array;
  /** The whole frame as received. */
  bytes: Buffer;
}

export class FakeConn {
  readonly socket: Socket;
  /** Raw chunks as the socket delivered them. */
  readonly chunks: Buffer[] = [];
  readonly frames: Received[] = [];
  /** Answer the client's half-close by closing at once (as a server with nothing pending does). */
  endOnPeerEnd = true;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** A success reply to `h` with a MessagePack payload (or the given raw bytes). */
  reply(h: FrameHeader, payload: unknown = {}): void {
    const body = payload instanceof Uint8Array ? payload : encodePayload(payload);
    this.socket.write(encodeFrame({ msgId: h.msgId, command: h.command, flags: TYPE_REPLY, error: 0 }, body));
  }

  /** An error reply; with `message`, the payload is the map `{message}`. */
  error(h: FrameHeader, errno: number, message?: string): void {
    const body = message === undefined ? undefined : encodePayload({ message });
    this.socket.write(encodeFrame({ msgId: h.msgId, command: h.command, flags: TYPE_REPLY | FLAG_ERROR, error: errno }, body));
  }

  /** Decoded MessagePack payload of a received frame. */
  static body(r: Received): Record<string, unknown> {
    return decodePayload(r.payload) as Record<string, unknown>;
  }
}

export type FrameHandler = (r: Received, conn: FakeConn) => void;

export const FAKE_INFO = {
  major: 1,
  minor: 0,
  server: 'fake 0.0.0',
  capabilities: { max_frame_size: 1 << 20, max_inflight: 64, host_page_size: 65536, ops: [] },
};

export interface FakeServer {
  path: string;
  conns: FakeConn[];
  close(): Promise<void>;
}

/** VERSION (command 1) is answered with FAKE_INFO unless `handler` answers it itself (returns true). */
export async function startFakeServer(handler: FrameHandler, opts: { version?: (r: Received, c: FakeConn) => void } = {}): Promise<FakeServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vphb-fake-'));
  const path = join(dir, 's.sock');
  const conns: FakeConn[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const conn = new FakeConn(socket);
    conns.push(conn);
    const decoder = new FrameDecoder(
      {
        frame(header, payload) {
          const r: Received = { header, payload, bytes: Buffer.from(encodeFrame(header, payload)) };
          conn.frames.push(r);
          if (header.command === 1) (opts.version ?? ((x, c) => c.reply(x.header, FAKE_INFO)))(r, conn);
          else handler(r, conn);
        },
        oversize() { socket.destroy(); },
        fatal() { socket.destroy(); },
      },
      { maxFrameSize: 1 << 24 },
    );
    socket.on('data', (chunk: Buffer) => {
      conn.chunks.push(chunk);
      decoder.push(chunk);
    });
    socket.on('error', () => {});
    socket.on('end', () => {
      if (conn.endOnPeerEnd) socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    conns,
    async close() {
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
