"""Server addresses as vphb prints them (PROTOCOL.md §1): unix:PATH, tcp:HOST:PORT, ws://HOST:PORT/."""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from typing import Optional

_HOST_PORT = re.compile(r"^(?:\[([0-9a-fA-F:.%a-zA-Z]+)\]|([^:\[\]\s/]+)):(\d{1,5})$")


@dataclass(frozen=True)
class Address:
    kind: str  # "unix", "tcp" or "ws"
    path: Optional[str] = None
    host: Optional[str] = None
    port: Optional[int] = None
    resource: str = "/"

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"tcp://{host}:{self.port}" if self.kind == "tcp" else f"ws://{host}:{self.port}{self.resource}"


def default_socket_path(env: Optional[dict[str, str]] = None) -> str:
    """``$XDG_RUNTIME_DIR/vphb.sock``, else ``/tmp/vphb-<uid>.sock`` (as the server)."""
    env = dict(os.environ) if env is None else env
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "vphb.sock")
    base = tempfile.gettempdir() if "TMPDIR" in env else "/tmp"
    return os.path.join(base, f"vphb-{os.getuid()}.sock")


def _host_port(text: str) -> Optional[tuple[str, int]]:
    m = _HOST_PORT.match(text)
    if m is None or int(m.group(3)) > 65535:
        return None
    return (m.group(1) or m.group(2), int(m.group(3)))


def parse_address(target: str) -> Address:
    """Parses a target; ValueError names the expected shape."""
    t = target.strip()
    if not t:
        raise ValueError("empty address: want unix:PATH, tcp:HOST:PORT or ws://HOST:PORT")
    low = t.lower()
    if low.startswith("ws://"):
        rest = t[5:]
        authority, slash, path = rest.partition("/")
        hp = _host_port(authority)
        if hp is None:
            raise ValueError(f"bad WebSocket address {target!r}: want ws://HOST:PORT[/PATH]")
        return Address("ws", host=hp[0], port=hp[1], resource="/" + path if slash else "/")
    if low.startswith("wss://"):
        raise ValueError(f"wss:// is not supported by this client: {target!r}")
    if low.startswith("tcp:"):
        rest = t[4:]
        if rest.startswith("//"):
            rest = rest[2:]
        hp = _host_port(rest.rstrip("/"))
        if hp is None or hp[1] == 0:
            raise ValueError(f"bad TCP address {target!r}: want tcp:HOST:PORT or tcp://HOST:PORT (IPv6 as [::1])")
        return Address("tcp", host=hp[0], port=hp[1])
    if low.startswith("unix:"):
        rest = t[5:]
        if rest.startswith("//"):
            rest = rest[2:]
        if not rest:
            raise ValueError(f"bad UNIX address {target!r}: want unix:PATH")
        return Address("unix", path=rest)
    if re.match(r"^[a-z][a-z0-9+.-]*://", low):
        raise ValueError(f"unsupported address scheme in {target!r}: want unix:PATH, tcp:HOST:PORT or ws://HOST:PORT")
    return Address("unix", path=t)
