"""
A minimal WebSocket client (RFC 6455) on the standard library, for vphb's one-frame-per-binary-
message transport. It is small because vphb needs little: binary messages, no extensions (the
server turns permessage-deflate off), ping/pong and close. Using it keeps msgpack the package's
only dependency (Debian ships no websocket-client for every release we target). Client frames
must be masked (RFC 6455 §5.3), so unlike UNIX/TCP a message is copied once while masking.
"""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
from typing import Optional

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUBPROTOCOL = "vphb"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocketError(Exception):
    """The peer is not a WebSocket server, or broke the protocol."""

    def __init__(self, message: str, close_code: Optional[int] = None) -> None:
        super().__init__(message)
        self.close_code = close_code


def _mask(data: bytes | bytearray | memoryview, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    k = int.from_bytes((key * (n // 4 + 1))[:n], "little")
    return (int.from_bytes(data, "little") ^ k).to_bytes(n, "little")


class WebSocket:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()
        self.close_code: Optional[int] = None
        self.close_reason = ""

    @classmethod
    def connect(cls, sock: socket.socket, host: str, port: int, resource: str = "/") -> "WebSocket":
        key = base64.b64encode(os.urandom(16)).decode()
        hostname = f"[{host}]" if ":" in host else host
        request = (
            f"GET {resource} HTTP/1.1\r\nHost: {hostname}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\r\n"
        )
        sock.sendall(request.encode())
        ws = cls(sock)
        head = ws._read_until(b"\r\n\r\n", 16384)
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ", 2)
        if len(status) < 2 or not status[0].startswith("HTTP/"):
            raise WebSocketError(f"not an HTTP server (got {lines[0][:40]!r})")
        if status[1] != "101":
            raise WebSocketError(f"WebSocket upgrade refused: {lines[0]}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise WebSocketError("bad Sec-WebSocket-Accept in the upgrade reply")
        proto = headers.get("sec-websocket-protocol")
        if proto is not None and proto != SUBPROTOCOL:
            raise WebSocketError(f"server chose subprotocol {proto!r}, not {SUBPROTOCOL!r}")
        return ws

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def _read_until(self, marker: bytes, limit: int) -> bytes:
        while marker not in self._buf:
            if len(self._buf) > limit or not self._fill():
                raise WebSocketError("connection closed during the WebSocket upgrade"
                                     if len(self._buf) <= limit else "upgrade reply too long")
        i = self._buf.index(marker) + len(marker)
        head = bytes(self._buf[:i])
        del self._buf[:i]
        return head

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not self._fill():
                raise EOFError
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _send_frame(self, opcode: int, parts: list, fin: bool = True) -> None:
        n = sum(len(p) for p in parts)
        b0 = (0x80 if fin else 0) | opcode
        if n < 126:
            head = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", b0, 0x80 | 127, n)
        key = os.urandom(4)
        payload = b"".join(bytes(p) if isinstance(p, memoryview) else p for p in parts) if len(parts) != 1 else parts[0]
        self.sock.sendall(head + key + _mask(payload, key))

    def send_binary(self, parts: list) -> None:
        self._send_frame(OP_BINARY, parts)

    def recv_message(self) -> Optional[bytes]:
        """The next binary message; None after a close. Text messages are a WebSocketError."""
        message = bytearray()
        opcode_of_message: Optional[int] = None
        while True:
            try:
                b0, b1 = self._read(2)
            except EOFError:
                return None
            fin, opcode, masked, n = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            key = self._read(4) if masked else None
            data = self._read(n)
            if key is not None:
                data = _mask(data, key)
            if opcode == OP_PING:
                self._send_frame(OP_PONG, [data])
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                self.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                self.close_reason = data[2:].decode("utf-8", "replace")
                try:
                    self._send_frame(OP_CLOSE, [data[:2]])
                except OSError:
                    pass
                return None
            if opcode in (OP_TEXT, OP_BINARY):
                opcode_of_message = opcode
            message += data
            if fin:
                if opcode_of_message == OP_TEXT:
                    raise WebSocketError("text message from the server: vphb frames travel as binary messages")
                return bytes(message)

    def close(self, code: int = 1000) -> None:
        try:
            self._send_frame(OP_CLOSE, [struct.pack("!H", code)])
        except OSError:
            pass
