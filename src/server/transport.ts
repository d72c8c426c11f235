/** What a session needs from a connection, whatever carries it (UNIX/TCP stream or WebSocket). */
import type { BodySink } from '../wire/frame-decoder.js';
import type { FrameHeader } from '../wire/header.js';

/**
 * One outgoing frame: its header fields (`size` included) and its payload. The transport writes
 * the 16 header bytes where it assembles the frame, so no separate header buffer exists.
 */
export interface OutFrame {
  header: FrameHeader;
  payload: Buffer;
}

export type TransportKind = 'unix' | 'tcp' | 'ws';

export interface Transport {
  readonly kind: TransportKind;
  /** Human-readable peer (address:port, or the socket path for UNIX). */
  readonly peer: string;
  /**
   * Sends frames in order, coalesced as the transport sees fit; `onFlushed` runs once they have
   * left user space (or the connection died).
   */
  send(frames: readonly OutFrame[], bytes: number, onFlushed: () => void): void;
  /** Bytes accepted by send() but not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /** Stop / restart delivering frames (and reading from the peer). */
  pause(): void;
  resume(): void;
  /** Largest frame delivered from now on; a larger one goes to onOversize (stream) or closes (ws). */
  setMaxFrameSize(bytes: number): void;
  /** Flush what was sent, then close. */
  end(): void;
  /** Close now, dropping anything unsent. */
  destroy(): void;
}

/**
 * Callbacks a transport drives; implemented by Session. They only queue: none executes a command
 * or writes to the transport, so a transport may call them from anywhere (even from inside its
 * own send or resume).
 */
export interface FrameHandler {
  onFrame(header: FrameHeader, payload: Uint8Array): void;
  /** Optional: take the body of a frame spanning chunks as it arrives (stream transports). */
  onBodyStream?(header: FrameHeader): BodySink | undefined;
  onOversize(header: FrameHeader): void;
  /** The byte stream cannot be resynchronised (or the peer broke the framing): close it. */
  onFatal(reason: string): void;
  /** A batch of incoming data has been processed: a good moment to flush replies. */
  onBatchEnd(): void;
  /** The peer finished writing (stream half-close): answer what it sent, then end. */
  onPeerEnd(): void;
  onClose(truncatedBytes: number): void;
}
