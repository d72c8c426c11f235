/** A WebSocket connection: each binary message carries exactly one frame. */
import type { WebSocket, RawData } from 'ws';
import { HEADER_SIZE, encodeHeader, readHeader } from '../wire/header.js';
import type { FrameHandler, OutFrame, Transport } from './transport.js';
import { WS_CLOSE } from './ws-upgrade.js';

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Payloads above this are sent without being copied behind their header. */
const LARGE_PAYLOAD = 64 * 1024;

/** The ws receiver's message-size limit (ws has no public setter; it reads this field per frame). */
interface ReceiverLimit {
  _receiver?: { _maxPayload?: number };
}

export class WsTransport implements Transport {
  readonly kind = 'ws' as const;
  readonly peer: string;
  readonly #ws: WebSocket;
  #handler: FrameHandler | undefined;
  #paused = false;
  #ending = false;
  /** Close code of `end()`: 1000, or why the peer broke the framing rules (PROTOCOL.md §1.1). */
  #closeCode: number = 1000;

  /** `maxFrameSize`: the message limit until setMaxFrameSize (the handshake's, at first). */
  constructor(ws: WebSocket, peer: string, maxFrameSize?: number) {
    this.#ws = ws;
    this.peer = peer;
    if (maxFrameSize !== undefined) this.setMaxFrameSize(maxFrameSize);
  }

  attach(handler: FrameHandler): void {
    this.#handler = handler;
    this.#ws.on('message', (data, isBinary) => {
      // Once the peer has closed (ws delivers what it still buffered as it closes) nothing more
      // is delivered: no reply could reach it.
      if (this.#ws.readyState !== this.#ws.OPEN) return;
      if (!isBinary) {
        this.#closeCode = WS_CLOSE.UNSUPPORTED_DATA;
        handler.onFatal('text message: frames travel as binary WebSocket messages');
        return;
      }
      this.#deliver(toBuffer(data));
      handler.onBatchEnd();
    });
    this.#ws.on('error', () => {
      // ws has already sent its close frame (1009 for a message above the limit, 1002 for a
      // protocol violation); do not spend time reading and discarding the rest of the message.
      this.#ws.terminate();
    });
    this.#ws.on('close', () => handler.onClose(0));
  }

  #deliver(buf: Buffer): void {
    const handler = this.#handler!;
    if (buf.length < HEADER_SIZE) {
      this.#closeCode = WS_CLOSE.PROTOCOL_ERROR;
      handler.onFatal(`message of ${buf.length} bytes is shorter than a frame header`);
      return;
    }
    const h = readHeader(buf);
    if (h.size !== buf.length) {
      this.#closeCode = WS_CLOSE.PROTOCOL_ERROR;
      handler.onFatal(`frame size ${h.size} does not match its WebSocket message length ${buf.length}`);
      return;
    }
    handler.onFrame(h, buf.subarray(HEADER_SIZE));
  }

  setMaxFrameSize(bytes: number): void {
    const receiver = (this.#ws as unknown as ReceiverLimit)._receiver;
    if (receiver !== undefined && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
  }

  send(frames: readonly OutFrame[], _bytes: number, onFlushed: () => void): void {
    if (this.#ws.readyState !== this.#ws.OPEN) {
      onFlushed();
      return;
    }
    const last = frames.length - 1;
    frames.forEach((f, i) => {
      const cb = i === last ? () => onFlushed() : undefined;
      if (f.payload.length <= LARGE_PAYLOAD) {
        this.#ws.send(Buffer.concat([encodeHeader(f.header), f.payload]), { binary: true }, cb);
      } else {
        // A large reply (table read) as two fragments of one message: the header, then the
        // payload as it is, rather than a copy of both.
        this.#ws.send(encodeHeader(f.header), { binary: true, fin: false });
        this.#ws.send(f.payload, { binary: true, fin: true }, cb);
      }
    });
  }

  get bufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  pause(): void {
    if (this.#paused || this.#ending) return;
    this.#paused = true;
    this.#ws.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#ws.resume();
  }

  end(): void {
    // Messages after this are dropped (readyState CLOSING), but the peer's close frame must still
    // be read for the closing handshake to finish.
    this.#ending = true;
    this.#paused = false;
    this.#ws.close(this.#closeCode);
    this.#ws.resume();
  }

  destroy(): void {
    this.#ws.terminate();
  }
}
