/**
 * Client transports: a byte stream (UNIX socket, TCP) parsed with the shared FrameDecoder, or a
 * WebSocket carrying one frame per binary message. Both take outgoing frames in batches (the
 * client flushes once per tick) and report incoming frames and the close.
 */
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { FrameDecoder } from '../../src/wire/frame-decoder.js';
import { HEADER_SIZE, readHeader, type FrameHeader } from '../../src/wire/header.js';
import { parseAddress } from '../../src/wire/address.js';

export { defaultSocketPath } from '../../src/wire/socket-path.js';

/** One outgoing frame: one buffer, or a head and a body sent without joining them. */
export type OutFrame = Uint8Array | readonly [head: Uint8Array, body: Uint8Array];

export type TransportKind = 'unix' | 'tcp' | 'ws';

export interface TransportEvents {
  frame(header: FrameHeader, payload: Uint8Array): void;
  /** A reply larger than the client's maxFrameSize; its body has been discarded. */
  oversize(header: FrameHeader): void;
  /** The connection is gone; `reason` says why when it was not a clean close. */
  close(reason: string | undefined): void;
}

export interface ClientTransport {
  readonly kind: TransportKind;
  /** Writes a batch of frames; `bytes` is their total size. */
  send(frames: readonly OutFrame[], bytes: number): void;
  /** Half-closes (stream) or starts the closing handshake (WebSocket). */
  end(): void;
  /** Tears the connection down at once. */
  destroy(): void;
}

export interface ParsedTarget {
  kind: TransportKind;
  /** UNIX path, `host`/`port`, or the WebSocket URL. */
  path?: string;
  host?: string;
  port?: number;
  url?: string;
}

/**
 * `/path`, `unix:PATH`, `unix://PATH`, `tcp:HOST:PORT`, `tcp://HOST:PORT` (`[::1]` for IPv6),
 * `ws://HOST:PORT/PATH`, `wss://…`, `ws+unix://…` (src/wire/address.ts). A malformed target is a
 * TypeError saying which shape was expected.
 */
export function parseTarget(target: string): ParsedTarget {
  return parseAddress(target);
}

/** Frames at or above this size go out by writev, without being copied into the batch buffer. */
const COPY_LIMIT = 16 * 1024;

class StreamTransport implements ClientTransport {
  readonly kind: TransportKind;
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;

  constructor(socket: Socket, kind: TransportKind, events: TransportEvents, maxFrameSize: number) {
    this.kind = kind;
    this.#socket = socket;
    let reason: string | undefined;
    this.#decoder = new FrameDecoder(
      {
        frame: (h, p) => events.frame(h, p),
        oversize: (h) => events.oversize(h),
        fatal: (why) => {
          reason = `protocol error from server: ${why}`;
          socket.destroy();
        },
      },
      { maxFrameSize },
    );
    socket.on('data', (chunk: Buffer) => this.#decoder.push(chunk));
    socket.on('error', (e) => {
      reason ??= e.message;
    });
    socket.on('close', () => {
      const { truncated, pendingBytes } = this.#decoder.end();
      if (truncated) reason ??= `connection closed inside a frame (${pendingBytes} bytes pending)`;
      events.close(reason);
    });
  }

  send(frames: readonly OutFrame[], bytes: number): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    let big = false;
    for (const f of frames) if (!(f instanceof Uint8Array) || f.byteLength >= COPY_LIMIT) big = true;
    if (!big) {
      // Small frames: one copy into one buffer, one write.
      const buf = Buffer.allocUnsafe(bytes);
      let off = 0;
      for (const f of frames as readonly Uint8Array[]) {
        buf.set(f, off);
        off += f.byteLength;
      }
      socket.write(buf);
      return;
    }
    // Raw batches or large frames: write the buffers as they are, in one writev.
    socket.cork();
    for (const f of frames) {
      if (f instanceof Uint8Array) socket.write(f);
      else {
        socket.write(f[0]);
        socket.write(f[1]);
      }
    }
    socket.uncork();
  }

  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

class WsTransport implements ClientTransport {
  readonly kind = 'ws' as const;
  readonly #ws: WebSocket;

  constructor(ws: WebSocket, events: TransportEvents, maxFrameSize: number) {
    this.#ws = ws;
    let reason: string | undefined;
    const fail = (why: string): void => {
      reason ??= `protocol error from server: ${why}`;
      ws.terminate();
    };
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary || !Buffer.isBuffer(data)) return fail('non-binary WebSocket message');
      if (data.length < HEADER_SIZE) return fail(`message of ${data.length} bytes is shorter than a frame header`);
      const h = readHeader(data);
      if (h.size !== data.length) return fail(`frame size ${h.size} does not match its message length ${data.length}`);
      if (h.size > maxFrameSize) return events.oversize(h);
      events.frame(h, data.subarray(HEADER_SIZE));
    });
    ws.on('error', (e) => {
      reason ??= e.message;
    });
    ws.on('close', (code: number) => {
      if (code !== 1000 && code !== 1005) reason ??= `WebSocket closed with code ${code}`;
      events.close(reason);
    });
  }

  send(frames: readonly OutFrame[]): void {
    const ws = this.#ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    // ws writes each message on its own; corking its socket (ws keeps it in the undocumented
    // `_socket`; skipped if absent) turns a batch into one writev.
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    const cork = frames.length > 1 && typeof socket?.cork === 'function';
    if (cork) socket!.cork();
    for (const f of frames) {
      if (f instanceof Uint8Array) ws.send(f, { binary: true });
      else {
        // One message in two WebSocket fragments: the entries are not copied into a joined buffer.
        ws.send(f[0], { binary: true, fin: false });
        ws.send(f[1], { binary: true, fin: true });
      }
    }
    if (cork) socket!.uncork();
  }

  end(): void {
    this.#ws.close(1000);
  }

  destroy(): void {
    this.#ws.terminate();
  }
}

/** Opens the connection; resolves once it is established (before any frame is exchanged). */
export function openTransport(target: string, events: TransportEvents, maxFrameSize: number): Promise<ClientTransport> {
  const t = parseTarget(target);
  return new Promise((resolve, reject) => {
    if (t.kind === 'ws') {
      const ws = new WebSocket(t.url!, { perMessageDeflate: false, maxPayload: maxFrameSize });
      ws.binaryType = 'nodebuffer';
      const onError = (e: Error): void => reject(e);
      ws.once('error', onError);
      ws.once('open', () => {
        ws.off('error', onError);
        resolve(new WsTransport(ws, events, maxFrameSize));
      });
      return;
    }
    const socket = t.kind === 'tcp' ? netConnect({ host: t.host!, port: t.port! }) : netConnect({ path: t.path! });
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (t.kind === 'tcp') socket.setNoDelay(true);
      resolve(new StreamTransport(socket, t.kind, events, maxFrameSize));
    });
  });
}
