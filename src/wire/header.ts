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
  const v = new DataView(buf.buffer, buf.byteOffset + offset, HEADER_SIZE);
  v.setUint16(0, h.msgId, true);
  v.setUint16(2, h.command, true);
  v.setUint32(4, h.size, true);
  v.setUint32(8, h.flags, true);
  v.setUint32(12, h.error, true);
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
