/** A byte-stream connection (UNIX socket or TCP): frames follow one another on the stream. */
import type { Socket } from 'node:net';
import { FrameDecoder } from '../wire/frame-decoder.js';
import { HEADER_SIZE, encodeHeader, writeHeader } from '../wire/header.js';
import type { FrameHandler, OutFrame, Transport, TransportKind } from './transport.js';

const COALESCE_LIMIT = 64 * 1024;

export class StreamTransport implements Transport {
  readonly kind: TransportKind;
  readonly peer: string;
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  #handler: FrameHandler | undefined;
  #paused = false;
  #flushWaiters: (() => void)[] = [];

  constructor(socket: Socket, kind: TransportKind, maxFrameSize: number) {
    this.kind = kind;
    this.#socket = socket;
    this.peer = kind === 'tcp' ? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` : 'unix';
    socket.setNoDelay?.(true);
    this.#decoder = new FrameDecoder(
      {
        frame: (h, p) => this.#handler?.onFrame(h, p),
        stream: (h) => this.#handler?.onBodyStream?.(h),
        oversize: (h) => this.#handler?.onOversize(h),
        fatal: (reason) => this.#handler?.onFatal(reason),
      },
      { maxFrameSize },
    );
  }

  /** Starts delivering to `handler`. */
  attach(handler: FrameHandler): void {
    this.#handler = handler;
    const socket = this.#socket;
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      handler.onBatchEnd();
    });
    socket.on('error', () => {
      /* reported through 'close' */
    });
    socket.on('end', () => {
      // The peer finished writing: answer what it sent, then close our side.
      handler.onBatchEnd();
      if (!this.#paused) socket.end();
    });
    socket.on('close', () => {
      const { truncated, pendingBytes } = this.#decoder.end();
      handler.onClose(truncated ? pendingBytes : 0);
    });
  }

  send(frames: readonly OutFrame[], bytes: number, onFlushed: () => void): void {
    const socket = this.#socket;
    if (socket.destroyed) {
      onFlushed();
      return;
    }
    if (bytes <= COALESCE_LIMIT) {
      // Small replies: one copy into one buffer, one write.
      const buf = Buffer.allocUnsafe(bytes);
      let off = 0;
      for (const f of frames) {
        writeHeader(buf, off, f.header);
        off += HEADER_SIZE;
        off += f.payload.copy(buf, off);
      }
      socket.write(buf);
    } else {
      // Large replies (table reads): no copy, one writev.
      socket.cork();
      for (const f of frames) {
        socket.write(encodeHeader(f.header));
        socket.write(f.payload);
      }
      socket.uncork();
    }
    // Usually the kernel takes the bytes at once: report the flush now rather than through a
    // write callback (one fewer tick per batch); otherwise when the socket drains.
    if (socket.writableLength === 0) onFlushed();
    else this.#afterDrain(onFlushed);
  }

  #afterDrain(cb: () => void): void {
    this.#flushWaiters.push(cb);
    if (this.#flushWaiters.length === 1) {
      const socket = this.#socket;
      const settle = (): void => {
        socket.off('drain', settle);
        socket.off('close', settle);
        const waiters = this.#flushWaiters;
        this.#flushWaiters = [];
        for (const w of waiters) w();
      };
      socket.on('drain', settle);
      socket.on('close', settle);
    }
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#decoder.pause();
    this.#socket.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#decoder.resume();
    this.#handler?.onBatchEnd();
    if (!this.#paused) {
      if (this.#socket.readableEnded) this.#socket.end();
      else this.#socket.resume();
    }
  }

  end(): void {
    this.#decoder.pause();
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
