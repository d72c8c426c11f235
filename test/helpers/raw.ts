/** Raw protocol access for tests: crafted bytes in, decoded frames out, no client library. */
import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/wire/frame-decoder.js';
import { FLAG_NO_REPLY, encodeFrame, type FrameHeader } from '../../src/wire/header.js';
import { decodePayload, encodePayload } from '../../src/wire/msgpack.js';
import { OP_CODES, type OpName } from '../../src/wire/ops.generated.js';

export interface RawFrame {
  header: FrameHeader;
  payload: unknown;
}

export function frame(op: OpName | number, payload: unknown, msgId = 1, flags = 0): Buffer {
  const command = typeof op === 'number' ? op : OP_CODES[op];
  const body = payload instanceof Uint8Array ? payload : encodePayload(payload);
  return encodeFrame({ msgId, command, flags, error: 0 }, body);
}

export const versionFrame = (msgId = 1, token?: string): Buffer =>
  frame('VERSION', { major: 1, minor: 0, client: 'raw', ...(token === undefined ? {} : { token }) }, msgId);

export const noReply = FLAG_NO_REPLY;

/** A socket that collects every frame the server sends, and notes when the server closes. */
export class RawConnection {
  readonly frames: RawFrame[] = [];
  readonly socket: Socket;
  closed = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    const dec = new FrameDecoder(
      {
        frame: (header, p) => {
          this.frames.push({ header, payload: p.byteLength === 0 ? undefined : decodePayload(p) });
          this.#wake();
        },
        oversize: () => undefined,
        fatal: () => undefined,
      },
      { maxFrameSize: 1 << 30 },
    );
    socket.on('data', (c) => dec.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static open(path: string | { host: string; port: number }): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = typeof path === 'string' ? connect(path) : connect(path.port, path.host);
      s.once('connect', () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves once `n` frames have arrived (or rejects if the server closes first / on timeout). */
  async waitFrames(n: number, timeoutMs = 5000): Promise<RawFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.frames.length}/${n} frames`);
      if (Date.now() > deadline) throw new Error(`timeout: ${this.frames.length}/${n} frames`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.frames.slice(0, n);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timeout waiting for the server to close');
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
