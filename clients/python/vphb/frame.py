"""The 16-byte frame header (little-endian) and a stream decoder (PROTOCOL.md §2)."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator

HEADER = struct.Struct("<HHIII")
HEADER_SIZE = HEADER.size
TYPE_MASK = 0x0F
TYPE_COMMAND = 0
TYPE_REPLY = 1
FLAG_NO_REPLY = 0x10
FLAG_ERROR = 0x20


@dataclass(frozen=True)
class Header:
    msg_id: int
    command: int
    size: int
    flags: int
    error: int

    @property
    def is_reply(self) -> bool:
        return self.flags & TYPE_MASK == TYPE_REPLY

    @property
    def is_error(self) -> bool:
        return bool(self.flags & FLAG_ERROR)


def encode_header(msg_id: int, command: int, size: int, flags: int = 0, error: int = 0) -> bytes:
    return HEADER.pack(msg_id, command, size, flags, error)


def decode_header(data: bytes | memoryview, offset: int = 0) -> Header:
    return Header(*HEADER.unpack_from(data, offset))


class FrameError(Exception):
    """The byte stream cannot be framed (a size below 16 or above the limit)."""


class FrameDecoder:
    """Feeds on stream bytes, yields (header, payload) for every whole frame."""

    def __init__(self, max_frame_size: int = 256 << 20) -> None:
        self._buf = bytearray()
        self._max = max_frame_size

    def feed(self, data: bytes | memoryview) -> Iterator[tuple[Header, bytes]]:
        self._buf += data
        while len(self._buf) >= HEADER_SIZE:
            h = decode_header(self._buf)
            if h.size < HEADER_SIZE:
                raise FrameError(f"frame size {h.size} is below the header size")
            if h.size > self._max:
                raise FrameError(f"frame size {h.size} exceeds the client limit {self._max}")
            if len(self._buf) < h.size:
                return
            payload = bytes(self._buf[HEADER_SIZE:h.size])
            del self._buf[:h.size]
            yield h, payload

    @property
    def pending(self) -> int:
        return len(self._buf)


def split_message(message: bytes) -> tuple[Header, bytes]:
    """One WebSocket message = exactly one frame."""
    if len(message) < HEADER_SIZE:
        raise FrameError(f"message of {len(message)} bytes is shorter than a frame header")
    h = decode_header(message)
    if h.size != len(message):
        raise FrameError(f"frame size {h.size} does not match its message length {len(message)}")
    return h, message[HEADER_SIZE:]


