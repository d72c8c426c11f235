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

export class WsTransport implements Transport {
  readonly kind = 'ws' as const;
  readonly peer: string;
  readonly #ws: WebSocket;
  #handler: FrameHandler | undefined;
  #paused = false;
  /** Messages that arrived while paused (bounded: the socket itself is paused too). */
  #held: Buffer[] = [];
  /** Close code of `end()`: 1000, or why the peer broke the framing rules (PROTOCOL.md §1.1). */
  #closeCode: number = 1000;

  constructor(ws: WebSocket, peer: string) {
    this.#ws = ws;
    this.peer = peer;
  }

  attach(handler: FrameHandler): void {
    this.#handler = handler;
    this.#ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        this.#closeCode = WS_CLOSE.UNSUPPORTED_DATA;
        handler.onFatal('text message: frames travel as binary WebSocket messages');
        return;
      }
      const buf = toBuffer(data);
      if (this.#paused) this.#held.push(buf);
      else {
        this.#deliver(buf);
        handler.onBatchEnd();
      }
    });
    this.#ws.on('error', () => {
      /* reported through 'close' */
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

  send(frames: readonly OutFrame[], _bytes: number, onFlushed: () => void): void {
    if (this.#ws.readyState !== this.#ws.OPEN) {
      onFlushed();
      return;
    }
    const last = frames.length - 1;
    frames.forEach((f, i) => {
      this.#ws.send(Buffer.concat([encodeHeader(f.header), f.payload]), { binary: true }, i === last ? () => onFlushed() : undefined);
    });
  }

  get bufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#ws.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    while (!this.#paused && this.#held.length > 0) this.#deliver(this.#held.shift()!);
    this.#handler?.onBatchEnd();
    if (!this.#paused) this.#ws.resume();
  }

  end(): void {
    this.#paused = true;
    this.#ws.close(this.#closeCode);
  }

  destroy(): void {
    this.#ws.terminate();
  }
}

