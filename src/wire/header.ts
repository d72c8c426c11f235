/**
 * The 16-byte frame header (vfio-user layout, always little-endian):
 * `u16 msg_id, u16 command, u32 size (whole frame), u32 flags, u32 error`.
 */
export const HEADER_SIZE = 16;

/** flags bits 0-3: message type. */
export const TYPE_MASK = 0xf;
export const TYPE_COMMAND = 0;
export const TYPE_REPLY = 1;
/** flags bit 4: the sender wants no reply. */
export const FLAG_NO_REPLY = 1 << 4;
/** flags bit 5: a reply that reports a failure; `error` holds a positive errno. */
export const FLAG_ERROR = 1 << 5;

export interface FrameHeader {
  msgId: number;
  command: number;
  /** Whole frame size in bytes, header included. */
  size: number;
  flags: number;
  error: number;
}

export function readHeader(buf: Uint8Array, offset = 0): FrameHeader {
  const b = buf;
  const o = offset;
  return {
    msgId: b[o]! | (b[o + 1]! << 8),
    command: b[o + 2]! | (b[o + 3]! << 8),
    size: (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24)) >>> 0,
    flags: (b[o + 8]! | (b[o + 9]! << 8) | (b[o + 10]! << 16) | (b[o + 11]! << 24)) >>> 0,
    error: (b[o + 12]! | (b[o + 13]! << 8) | (b[o + 14]! << 16) | (b[o + 15]! << 24)) >>> 0,
  };
}

export function writeHeader(buf: Uint8Array, offset: number, h: FrameHeader): void {
  const o = offset;
  buf[o] = h.msgId;
  buf[o + 1] = h.msgId >>> 8;
  buf[o + 2] = h.command;
  buf[o + 3] = h.command >>> 8;
  writeU32(buf, o + 4, h.size);
  writeU32(buf, o + 8, h.flags);
  writeU32(buf, o + 12, h.error);
}

function writeU32(buf: Uint8Array, o: number, v: number): void {
  buf[o] = v;
  buf[o + 1] = v >>> 8;
  buf[o + 2] = v >>> 16;
  buf[o + 3] = v >>> 24;
}

/** The 16 header bytes of `h` as a Buffer of their own. */
export function encodeHeader(h: FrameHeader): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(out, 0, h);
  return out;
}

/** One frame as a single Buffer: header followed by `payload` (copied once). */
export function encodeFrame(
  h: Omit<FrameHeader, 'size'>,
  payload: Uint8Array | undefined,
): Buffer {
  const len = payload === undefined ? 0 : payload.byteLength;
  const out = Buffer.allocUnsafe(HEADER_SIZE + len);
  writeHeader(out, 0, { ...h, size: HEADER_SIZE + len });
  if (payload !== undefined && len > 0) out.set(payload, HEADER_SIZE);
  return out;
}

export function isReply(flags: number): boolean {
  return (flags & TYPE_MASK) === TYPE_REPLY;
}
