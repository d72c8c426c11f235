/** A byte-stream connection (UNIX socket or TCP): frames follow one another on the stream. */
import type { Socket } from 'node:net';
import { FrameDecoder } from '../wire/frame-decoder.js';
import { HEADER_SIZE, encodeHeader, writeHeader } from '../wire/header.js';
import type { FrameHandler, OutFrame, Transport, TransportKind } from './transport.js';

const COALESCE_LIMIT = 64 * 1024;
/** After end(), how long a peer that reads nothing may keep the socket before it is destroyed. */
const END_LINGER_MS = 5000;

export class StreamTransport implements Transport {
  readonly kind: TransportKind;
  readonly peer: string;
  readonly #socket: Socket;
  readonly #decoder: FrameDecoder;
  #handler: FrameHandler | undefined;
  #paused = false;
  #flushWaiters: (() => void)[] = [];

  /** `maxFrameSize` is the limit until setMaxFrameSize (the session starts with the handshake's). */
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
    socket.on('end', () => handler.onPeerEnd());
    socket.on('close', () => {
      const { truncated, pendingBytes } = this.#decoder.end();
      handler.onClose(truncated ? pendingBytes : 0);
    });
  }

  setMaxFrameSize(bytes: number): void {
    this.#decoder.setMaxFrameSize(bytes);
  }

  send(frames: readonly OutFrame[], bytes: number, onFlushed: () => void): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) {
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
    if (!this.#paused) this.#socket.resume();
  }

  /** Writes what was sent, then closes; a peer that does not take it is dropped after a while. */
  end(): void {
    this.#decoder.pause();
    const socket = this.#socket;
    socket.pause(); // nothing more is read: a peer still sending cannot grow the retained input
    if (socket.destroyed) return;
    socket.end(() => socket.destroy());
    setTimeout(() => socket.destroy(), END_LINGER_MS).unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
