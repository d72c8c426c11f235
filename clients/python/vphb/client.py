"""
The Python client: one connection to a vphb server, any number of calls in flight.

A background thread reads frames: replies complete the Future of their call (matched by msg_id),
server-initiated command frames (e.g. IRQ events, sent with the no_reply flag) go to callbacks.
Calls may be made from any thread; `wait=False` returns the Future, which is how to pipeline.
"""
from __future__ import annotations

import array
import concurrent.futures
import os
import struct
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import msgpack

from ._ops import OP_NAMES, OPS, PROTOCOL_VERSION, OpMethods
from .address import Address, default_socket_path, parse_address
from .errors import VphbError
from .frame import FLAG_ERROR, FLAG_NO_REPLY, HEADER_SIZE, TYPE_COMMAND, TYPE_MASK, TYPE_REPLY, Header, encode_header
from .transport import open_transport

_BATCH = struct.Struct("<IIQQII")
_U64_LIMIT = 1 << 64


def encode_payload(value: Any) -> bytes:
    """Canonical MessagePack of the interop subset (what vphb and the vectors use)."""
    return msgpack.packb(value, use_bin_type=True)


def decode_payload(data: bytes) -> Any:
    """A payload as Python values; an empty payload is the empty map."""
    if not data:
        return {}
    return msgpack.unpackb(data, raw=False, strict_map_key=True)


@dataclass(frozen=True)
class ServerFrame:
    """A command the server sent on its own (not a reply): its code, op name if known, payload."""

    command: int
    name: Optional[str]
    msg_id: int
    flags: int
    payload: Any

    @property
    def no_reply(self) -> bool:
        return bool(self.flags & FLAG_NO_REPLY)


ServerFrameCallback = Callable[[ServerFrame], None]
Tces = Union[bytes, bytearray, memoryview, "array.array[int]"]


def _entries(tces: Tces) -> memoryview:
    """The TCEs as little-endian u64 bytes, without copying when they already are."""
    if isinstance(tces, array.array):
        if tces.itemsize != 8 or tces.typecode not in ("Q", "q", "L", "l"):
            raise VphbError("EINVAL", f"tces: array('{tces.typecode}') is not of 64-bit integers; use array('Q')")
        if sys.byteorder != "little":
            swapped = array.array(tces.typecode, tces)
            swapped.byteswap()
            tces = swapped
    view = memoryview(tces).cast("B")
    if view.nbytes % 8:
        raise VphbError("EINVAL", f"tces: {view.nbytes} bytes is not a whole number of u64 entries")
    return view


class Client(OpMethods):
    def __init__(self, transport: Any, target: Address, max_frame_size: int) -> None:
        self._transport = transport
        self.address = target
        self._max_frame_size = max_frame_size
        self._pending: dict[int, tuple[concurrent.futures.Future, str]] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._next_id = 0
        self._closed = False
        self._close_reason: Optional[str] = None
        self._callbacks: dict[Optional[int], list[ServerFrameCallback]] = {}
        self.server_info: dict[str, Any] = {}
        self._reader = threading.Thread(target=self._read_loop, name=f"vphb-reader {target}", daemon=True)

    # ---- connecting -----------------------------------------------------------------------------

    @classmethod
    def connect(cls, target: Optional[str] = None, *, token: Optional[str] = None, client: str = "vphb-py",
                timeout: float = 10.0, max_frame_size: int = 256 << 20,
                on_server_frame: Optional[ServerFrameCallback] = None) -> "Client":
        """Connects to ``target`` (default: ``$VPHB_CONNECT``, else ``$VPHB_SOCKET``, else the default
        socket, as the vphb CLI does), sends VERSION and checks the reply.

        A connection failure is a ConnectError (an OSError) naming the address; a refused
        handshake a VphbError (EPROTO, EACCES).
        """
        if target is None:
            target = os.environ.get("VPHB_CONNECT") or os.environ.get("VPHB_SOCKET") or default_socket_path()
        addr = parse_address(target)
        transport = open_transport(addr, timeout, max_frame_size)
        c = cls(transport, addr, max_frame_size)
        if on_server_frame is not None:
            c.on_server_frame(on_server_frame)
        c._reader.start()
        try:
            req: dict[str, Any] = {"major": PROTOCOL_VERSION[0], "minor": PROTOCOL_VERSION[1], "client": client}
            if token is not None:
                req["token"] = token
            info = c.call("VERSION", req, timeout=timeout)
            if info.get("major") != PROTOCOL_VERSION[0]:
                raise VphbError("EPROTO", f"server speaks protocol {info.get('major')}.{info.get('minor')}")
            c.server_info = info
        except BaseException:
            c.close()
            raise
        return c

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- server-initiated frames ------------------------------------------------------------

    def on_server_frame(self, callback: ServerFrameCallback, command: Union[int, str, None] = None) -> None:
        """Calls ``callback(frame)`` (on the reader thread) for each command frame the server sends,
        or only for those with ``command`` (a code, or an op name from ops.json)."""
        code = OPS[command][0] if isinstance(command, str) else command
        with self._lock:
            self._callbacks.setdefault(code, []).append(callback)

    def _dispatch_server_frame(self, h: Header, payload: bytes) -> None:
        try:
            body: Any = decode_payload(payload)
        except Exception:  # not MessagePack: hand over the bytes
            body = payload
        frame = ServerFrame(h.command, OP_NAMES.get(h.command), h.msg_id, h.flags, body)
        with self._lock:
            callbacks = self._callbacks.get(h.command, []) + self._callbacks.get(None, [])
        for cb in callbacks:
            try:
                cb(frame)
            except Exception:  # a callback's bug must not kill the connection
                traceback.print_exc()

    # ---- calls ------------------------------------------------------------------------------

    def _allocate(self, fut: Optional[concurrent.futures.Future], op: str) -> int:
        with self._lock:
            if self._closed:
                raise VphbError("ENOTCONN", f"{op}: connection to {self.address} is closed")
            for _ in range(1 << 16):
                msg_id = self._next_id
                self._next_id = (self._next_id + 1) & 0xFFFF
                if msg_id not in self._pending:
                    break
            else:
                raise VphbError("EAGAIN", "65536 calls in flight")
            if fut is not None:
                self._pending[msg_id] = (fut, op)
            return msg_id

    def _send(self, op: str, parts_after_header: list, body_size: int, no_reply: bool) -> concurrent.futures.Future:
        code = OPS[op][0]
        fut: concurrent.futures.Future = concurrent.futures.Future()
        msg_id = self._allocate(None if no_reply else fut, op)
        header = encode_header(msg_id, code, HEADER_SIZE + body_size, TYPE_COMMAND | (FLAG_NO_REPLY if no_reply else 0))
        try:
            with self._send_lock:
                self._transport.send([header, *parts_after_header])
        except OSError as e:
            with self._lock:
                self._pending.pop(msg_id, None)
            raise VphbError("ECONNRESET", f"{op}: sending to {self.address} failed: {e}") from e
        if no_reply:
            fut.set_result(None)
        return fut

    def submit(self, op: str, req: Optional[dict[str, Any]] = None, *, no_reply: bool = False) -> concurrent.futures.Future:
        """Sends one MessagePack op and returns the Future of its reply (pipelining)."""
        spec = OPS.get(op)
        if spec is None or spec[1] != "msgpack":
            raise VphbError("EINVAL", f"{op} is not a MessagePack op of this protocol")
        req = req or {}
        # Fields in ops.json order: the canonical encoding of a request.
        ordered = {f[0]: req[f[0]] for f in spec[2] if req.get(f[0]) is not None}
        ordered.update({k: v for k, v in req.items() if k not in ordered and v is not None})
        try:
            body = encode_payload(ordered)
        except OverflowError as e:
            raise VphbError("EOVERFLOW", f"{op}: an integer does not fit 64 bits ({e})") from None
        except TypeError as e:
            raise VphbError("EINVAL", f"{op}: a value MessagePack cannot carry ({e})") from None
        return self._send(op, [body], len(body), no_reply)

    @staticmethod
    def _wait(fut: concurrent.futures.Future, op: str, timeout: Optional[float]) -> Any:
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            raise VphbError("ETIMEDOUT", f"{op}: no reply within {timeout} s") from None

    def call(self, op: str, req: dict[str, Any], *, no_reply: bool = False, wait: bool = True,
             timeout: Optional[float] = None) -> Any:
        fut = self.submit(op, req, no_reply=no_reply)
        return self._wait(fut, op, timeout) if wait else fut

    def tce_put_batch(self, vm_fd: int, liobn: int, ioba: int, tces: Tces, *, flags: int = 0,
                      no_reply: bool = False, wait: bool = True, timeout: Optional[float] = None) -> Any:
        """TCE_PUT_BATCH (526, raw): H_PUT_TCE_INDIRECT semantics for any number of entries.

        ``tces`` is bytes, a memoryview or an ``array('Q')`` of little-endian u64 entries; on UNIX
        and TCP it is sent as it is (one sendmsg with the header), never copied.
        """
        view = _entries(tces)
        for name, v, limit in (("vm_fd", vm_fd, 1 << 32), ("flags", flags, 1 << 32), ("liobn", liobn, _U64_LIMIT), ("ioba", ioba, _U64_LIMIT)):
            if not isinstance(v, int) or not 0 <= v < limit:
                raise VphbError("EINVAL", f"{name} {v!r} is out of range")
        head = _BATCH.pack(vm_fd, flags, liobn, ioba, view.nbytes // 8, 0)
        fut = self._send("TCE_PUT_BATCH", [head, view] if view.nbytes else [head], len(head) + view.nbytes, no_reply)
        return self._wait(fut, "TCE_PUT_BATCH", timeout) if wait else fut

    # ---- the reader -------------------------------------------------------------------------

    def _read_loop(self) -> None:
        reason: Optional[str] = None
        try:
            for h, payload in self._transport.frames():
                if h.flags & TYPE_MASK == TYPE_COMMAND:
                    self._dispatch_server_frame(h, payload)
                    continue
                if h.flags & TYPE_MASK != TYPE_REPLY:
                    continue
                with self._lock:
                    entry = self._pending.pop(h.msg_id, None)
                if entry is None:
                    continue  # a reply to nothing we wait for
                fut, op = entry
                if h.flags & FLAG_ERROR:
                    message = f"{op}: error {h.error}"
                    try:
                        m = decode_payload(payload)
                        if isinstance(m, dict) and isinstance(m.get("message"), str):
                            message = m["message"]
                    except Exception:
                        pass
                    fut.set_exception(VphbError(h.error or 5, message))
                else:
                    try:
                        fut.set_result(decode_payload(payload))
                    except Exception as e:
                        fut.set_exception(VphbError("EPROTO", f"{op}: undecodable reply: {e}"))
        except Exception as e:  # the connection broke
            reason = str(e)
        finally:
            self._fail_all(reason)

    def _fail_all(self, reason: Optional[str]) -> None:
        with self._lock:
            self._closed = True
            self._close_reason = reason
            pending = list(self._pending.values())
            self._pending.clear()
        for fut, op in pending:
            if not fut.done():
                why = f": {reason}" if reason else ""
                fut.set_exception(VphbError("ECONNRESET", f"{op}: connection to {self.address} closed before the reply{why}"))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout: float = 5.0) -> None:
        """Half-closes, lets the server answer what it has received, then closes."""
        if self._reader.is_alive():
            self._transport.shutdown()
            self._reader.join(timeout)
        self._transport.close()
        self._reader.join(timeout)
        self._closed = True
