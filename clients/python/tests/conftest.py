"""Fixtures: a live vphb server (the built CLI of this repository) on UNIX, TCP and WebSocket."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "clients" / "python"))

TOKEN = "py-token"


class Server:
    def __init__(self, proc: subprocess.Popen, addresses: list[str], tmp: str) -> None:
        self.proc = proc
        self.addresses = addresses
        self.tmp = tmp

    def address(self, kind: str) -> str:
        return next(a for a in self.addresses if a.startswith(kind))


def start_server(*extra: str) -> Server:
    cli = ROOT / "dist" / "src" / "cli.js"
    if not cli.exists():
        pytest.fail(f"{cli} is missing: run npm run build first (npm test does)")
    node = os.environ.get("VPHB_NODE") or shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH (set VPHB_NODE)")
    tmp = tempfile.mkdtemp(prefix="vphb-py-")
    proc = subprocess.Popen(
        [node, str(cli), "serve", "--socket", os.path.join(tmp, "vphb.sock"), "--tcp", "127.0.0.1:0",
         "--ws", "127.0.0.1:0", "--token", TOKEN, "--log-level", "warn", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    banner = ""
    assert proc.stderr is not None
    while "emulating" not in banner:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError(f"server exited: {banner}")
        banner += line
    addresses = re.search(r"listening on (.*)\n", banner).group(1).split(", ")  # type: ignore[union-attr]
    return Server(proc, addresses, tmp)


@pytest.fixture(scope="session")
def server():
    s = start_server()
    yield s
    s.proc.terminate()
    s.proc.wait(10)
    shutil.rmtree(s.tmp, ignore_errors=True)


@pytest.fixture(params=["unix", "tcp", "ws"])
def target(request, server) -> str:
    return server.address(request.param)


def load_json(rel: str):
    return json.loads((ROOT / rel).read_text())
