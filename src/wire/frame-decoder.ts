/**
 * A socket-free push parser for the frame stream (UNIX socket, TCP): feed it the chunks a socket
 * delivers and it calls the sink once per complete frame.
 *
 * Copies: a payload that lies inside one received chunk is handed out as a view of that chunk.
 * Otherwise the frame is assembled exactly once, as its bytes arrive, into a buffer of exactly the
 * frame's size (header included); the payload is then that buffer from offset 16, so a raw op's
 * u64 entries (at frame offset 48) are 8-byte aligned there.
 *
 * Streaming: a sink may take over the body of a frame that does not lie inside one chunk
 * (`stream(header)` returns a BodySink): the decoder then hands it the body as views of the
 * received chunks, piece by piece as they arrive (no assembly copy), and calls `end()` once the
 * last byte is in, in place of `frame()`. The pieces are views of the pushed chunks, which must
 * therefore not be reused by the pusher (Node's socket chunks are not).
 *
 * Limits: a header announcing more than `maxFrameSize` bytes is reported once through `oversize`
 * and its body is dropped as it streams in (never buffered), so the stream stays in sync. A header
 * announcing fewer than 16 bytes cannot be skipped: `fatal` is called and the decoder stops.
 */
import { HEADER_SIZE, readHeader, writeHeader, type FrameHeader } from './header.js';

export interface FrameSink {
  /** One complete frame; `payload` is the `size - 16` bytes after the header. */
  frame(header: FrameHeader, payload: Uint8Array): void;
  /** `header.size > maxFrameSize`: called once; the body is then discarded as it arrives. */
  oversize(header: FrameHeader): void;
  /** `header.size < 16`: the stream cannot be resynchronised; later pushes are ignored. */
  fatal(reason: string): void;
  /**
   * Optional: called for a frame whose body spans chunks, before any of the body is consumed.
   * Returning a BodySink streams the body to it; undefined assembles the frame as usual.
   */
  stream?(header: FrameHeader): BodySink | undefined;
}

/** Receives one frame's body in pieces (views of received chunks), then its end. */
export interface BodySink {
  /** The next piece of the body, in order; the pieces add up to `size - 16` bytes. */
  data(piece: Uint8Array): void;
  /** The whole body has arrived (delivered in place of `FrameSink.frame`). */
  end(): void;
}

export interface FrameDecoderOptions {
  /** Largest frame (header included) that is delivered; larger ones go to `sink.oversize`. */
  maxFrameSize: number;
}

export interface EndResult {
  /** Bytes of an incomplete frame (header or body) were pending when the stream closed. */
  truncated: boolean;
  /** Bytes still retained by the decoder (see `bufferedBytes`). */
  pendingBytes: number;
}

const EMPTY = new Uint8Array(0);

export class FrameDecoder {
  readonly #sink: FrameSink;
  #maxFrameSize: number;
  /** Received, not yet consumed bytes: views of the pushed chunks, oldest first. */
  #chunks: Uint8Array[] = [];
  /** Total bytes in `#chunks`. */
  #queued = 0;
  /** Header of the frame being received, once its 16 bytes are in. */
  #header: FrameHeader | null = null;
  /** Assembly buffer (whole frame) when the body spans chunks; `#filled` bytes written so far. */
  #assembly: Uint8Array | null = null;
  #filled = 0;
  /** The sink streaming the current frame's body, and the body bytes it still expects. */
  #streaming: BodySink | null = null;
  #streamLeft = 0;
  /** Body bytes already streamed (for bufferedBytes). */
  #streamed = 0;
  /** Body bytes of an oversize frame still to be dropped. */
  #discard = 0;
  #paused = false;
  #stopped = false;
  #running = false;
  readonly #scratch = new Uint8Array(HEADER_SIZE);

  constructor(sink: FrameSink, opts: FrameDecoderOptions) {
    if (!Number.isInteger(opts.maxFrameSize) || opts.maxFrameSize < HEADER_SIZE) {
      throw new RangeError(`maxFrameSize must be an integer >= ${HEADER_SIZE}`);
    }
    this.#sink = sink;
    this.#maxFrameSize = opts.maxFrameSize;
  }

  /** Changes the limit for the frames whose header has not been read yet. */
  setMaxFrameSize(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < HEADER_SIZE) throw new RangeError(`maxFrameSize must be an integer >= ${HEADER_SIZE}`);
    this.#maxFrameSize = bytes;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Bytes retained: the partial frame being received plus, while paused, the unparsed rest. */
  get bufferedBytes(): number {
    let n = this.#queued;
    if (this.#header !== null) n += this.#assembly !== null ? this.#filled : HEADER_SIZE + this.#streamed;
    return n;
  }

  /** Parses as many frames as possible (none while paused: the chunk is then retained as is). */
  push(chunk: Uint8Array): void {
    if (this.#stopped || chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.byteLength;
    this.#run();
  }

  /** Stops parsing after the current frame; may be called from inside `sink.frame`. */
  pause(): void {
    this.#paused = true;
  }

  /** Continues synchronously with the retained data. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#run();
  }

  /**
   * At stream close: reports whether an incomplete frame was pending. Frames that are complete but
   * retained because the decoder is paused do not count as truncated; they can still be delivered
   * with `resume()`. The decoder's state is not changed.
   */
  end(): EndResult {
    const pendingBytes = this.bufferedBytes;
    if (this.#stopped) return { truncated: false, pendingBytes };
    if (this.#discard > 0) return { truncated: true, pendingBytes };
    let pos = 0;
    if (this.#header !== null) {
      const missing = this.#header.size - (this.#assembly !== null ? this.#filled : HEADER_SIZE + this.#streamed);
      if (missing > this.#queued) return { truncated: true, pendingBytes };
      pos = missing;
    }
    // Walk the retained complete frames (only possible while paused).
    while (this.#queued - pos >= HEADER_SIZE) {
      const size = this.#peekU32(pos + 4);
      if (size < HEADER_SIZE) return { truncated: true, pendingBytes };
      pos += size;
    }
    return { truncated: pos !== this.#queued, pendingBytes };
  }

  #run(): void {
    if (this.#running) return; // re-entered from a sink callback: the outer loop continues
    this.#running = true;
    try {
      while (!this.#paused && !this.#stopped && this.#step());
    } finally {
      this.#running = false;
    }
  }

  /** Makes one unit of progress; false when more input is needed. */
  #step(): boolean {
    if (this.#discard > 0) {
      this.#discard -= this.#drop(this.#discard);
      return this.#discard === 0;
    }
    if (this.#header === null) return this.#readHeader();
    return this.#readBody(this.#header);
  }

  #readHeader(): boolean {
    if (this.#queued < HEADER_SIZE) return false;
    const first = this.#chunks[0]!;
    let h: FrameHeader;
    if (first.byteLength >= HEADER_SIZE) {
      h = readHeader(first, 0);
      this.#drop(HEADER_SIZE);
    } else {
      this.#copyOut(this.#scratch, 0, HEADER_SIZE); // the header spans chunks
      h = readHeader(this.#scratch, 0);
    }
    if (h.size < HEADER_SIZE) {
      this.#stopped = true;
      this.#chunks = [];
      this.#queued = 0;
      this.#sink.fatal(`frame size ${h.size} is smaller than the ${HEADER_SIZE}-byte header`);
      return false;
    }
    if (h.size > this.#maxFrameSize) {
      this.#discard = h.size - HEADER_SIZE;
      this.#sink.oversize(h);
      return true;
    }
    this.#header = h;
    return true;
  }

  #readBody(h: FrameHeader): boolean {
    const bodyLen = h.size - HEADER_SIZE;
    if (this.#streaming !== null) return this.#streamBody(this.#streaming);
    if (this.#assembly === null) {
      const first = this.#chunks[0];
      if (first === undefined) {
        if (bodyLen > 0) return false;
        this.#deliver(h, EMPTY);
        return true;
      }
      if (first.byteLength >= bodyLen) {
        // The whole body lies inside one chunk: hand out a view.
        const payload = first.subarray(0, bodyLen);
        this.#drop(bodyLen);
        this.#deliver(h, payload);
        return true;
      }
      // The body spans chunks: stream it to the sink if it wants it, ...
      const sink = this.#sink.stream?.(h);
      if (sink !== undefined) {
        this.#streaming = sink;
        this.#streamLeft = bodyLen;
        this.#streamed = 0;
        return this.#streamBody(sink);
      }
      // ... or assemble the frame once, as bytes arrive. Every byte is written
      // before the frame is delivered (a partial one never is), so the buffer need not be zeroed;
      // a buffer of its own keeps the entries of a raw op 8-byte aligned.
      const buf = Buffer.allocUnsafeSlow(h.size);
      writeHeader(buf, 0, h);
      this.#assembly = buf;
      this.#filled = HEADER_SIZE;
    }
    const buf = this.#assembly;
    const n = Math.min(h.size - this.#filled, this.#queued);
    this.#copyOut(buf, this.#filled, n);
    this.#filled += n;
    if (this.#filled < h.size) return false;
    this.#assembly = null;
    this.#filled = 0;
    this.#deliver(h, buf.subarray(HEADER_SIZE));
    return true;
  }

  /** Hands the queued body bytes to the streaming sink; ends the frame when all are in. */
  #streamBody(sink: BodySink): boolean {
    while (this.#streamLeft > 0 && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      const n = Math.min(first.byteLength, this.#streamLeft);
      const piece = n === first.byteLength ? first : first.subarray(0, n);
      if (n === first.byteLength) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#queued -= n;
      this.#streamLeft -= n;
      this.#streamed += n;
      sink.data(piece);
    }
    if (this.#streamLeft > 0) return false;
    this.#streaming = null;
    this.#streamed = 0;
    this.#header = null;
    sink.end();
    return true;
  }

  #deliver(h: FrameHeader, payload: Uint8Array): void {
    this.#header = null;
    this.#sink.frame(h, payload);
  }

  /** Consumes up to `n` queued bytes without looking at them; returns how many. */
  #drop(n: number): number {
    let left = n;
    while (left > 0 && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      if (first.byteLength <= left) {
        left -= first.byteLength;
        this.#chunks.shift();
      } else {
        this.#chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.#queued -= n - left;
    return n - left;
  }

  /** Copies and consumes `n` queued bytes (n <= #queued) into `dst` at `at`. */
  #copyOut(dst: Uint8Array, at: number, n: number): void {
    let off = at;
    let left = n;
    while (left > 0) {
      const first = this.#chunks[0]!;
      if (first.byteLength <= left) {
        dst.set(first, off);
        off += first.byteLength;
        left -= first.byteLength;
        this.#chunks.shift();
      } else {
        dst.set(first.subarray(0, left), off);
        this.#chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.#queued -= n;
  }

  /** Little-endian u32 at `pos` bytes into the queue (pos + 4 <= #queued). */
  #peekU32(pos: number): number {
    let value = 0;
    let ci = 0;
    let p = pos;
    for (let k = 0; k < 4; k++) {
      while (p >= this.#chunks[ci]!.byteLength) p -= this.#chunks[ci++]!.byteLength;
      value += this.#chunks[ci]![p]! * 2 ** (8 * k);
      p++;
    }
    return value;
  }
}
