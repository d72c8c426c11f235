"""Connections: UNIX and TCP byte streams, or a WebSocket with one frame per binary message."""
from __future__ import annotations

import socket
from typing import Iterator, Sequence, Union

from ._ws import WebSocket, WebSocketError
from .address import Address
from .frame import FrameDecoder, Header, split_message

Buffer = Union[bytes, bytearray, memoryview]


class ConnectError(OSError):
    """The server could not be reached: says which address, what failed and what to do."""


def _explain(addr: Address, e: Exception) -> ConnectError:
    if isinstance(e, FileNotFoundError):
        return ConnectError(f"no vphb server at {addr}: the socket does not exist; start one with \"vphb serve\"")
    if isinstance(e, ConnectionRefusedError):
        return ConnectError(f"no vphb server at {addr}: connection refused; start one with \"vphb serve\" or check the address")
    if isinstance(e, PermissionError):
        return ConnectError(f"cannot connect to {addr}: permission denied (the socket is mode 0600)")
    if isinstance(e, WebSocketError):
        return ConnectError(f"{addr} did not answer as a vphb WebSocket server ({e}); if it is a TCP port, use tcp:HOST:PORT")
    return ConnectError(f"cannot connect to {addr}: {e}")


class StreamTransport:
    """UNIX or TCP: frames back to back; a frame's parts go out with one sendmsg, not joined."""

    def __init__(self, sock: socket.socket, max_frame_size: int) -> None:
        self.sock = sock
        self._decoder = FrameDecoder(max_frame_size)

    def send(self, parts: Sequence[Buffer]) -> None:
        views = [memoryview(p).cast("B") for p in parts]
        while views:
            sent = self.sock.sendmsg(views)
            while views and sent >= len(views[0]):
                sent -= len(views[0])
                views.pop(0)
            if views and sent:
                views[0] = views[0][sent:]

    def frames(self) -> Iterator[tuple[Header, bytes]]:
        while True:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                if self._decoder.pending:
                    raise ConnectionResetError(f"connection closed inside a frame ({self._decoder.pending} bytes pending)")
                return
            yield from self._decoder.feed(chunk)

    def shutdown(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class WsTransport:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws

    def send(self, parts: Sequence[Buffer]) -> None:
        self.ws.send_binary(list(parts))

    def frames(self) -> Iterator[tuple[Header, bytes]]:
        while True:
            message = self.ws.recv_message()
            if message is None:
                if self.ws.close_code not in (None, 1000, 1005):
                    raise ConnectionResetError(f"WebSocket closed with code {self.ws.close_code} {self.ws.close_reason}".strip())
                return
            yield split_message(message)

    def shutdown(self) -> None:
        self.ws.close(1000)

    def close(self) -> None:
        try:
            self.ws.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ws.sock.close()


def open_transport(addr: Address, timeout: float, max_frame_size: int) -> Union[StreamTransport, WsTransport]:
    try:
        if addr.kind == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(addr.path or "")
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((addr.host, addr.port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if addr.kind == "ws":
            try:
                ws = WebSocket.connect(sock, addr.host or "", addr.port or 0, addr.resource)
            except BaseException:
                sock.close()
                raise
            sock.settimeout(None)
            return WsTransport(ws)
        sock.settimeout(None)
        return StreamTransport(sock, max_frame_size)
    except (OSError, WebSocketError) as e:
        raise _explain(addr, e) from e
