"""examples/python/ print what their TypeScript twins print (test/cli.test.ts checks those)."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def run(example: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "clients" / "python")}
    return subprocess.run([sys.executable, str(ROOT / "examples" / "python" / example), *args],
                          capture_output=True, text=True, timeout=60, env=env)


def test_quickstart(server):
    r = run("quickstart.py", server.address("unix"))
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0].startswith("server vphb ") and lines[0].endswith(", protocol 1.0")
    assert "phb0 group 1 (PE 1): 0000:01:00.0, 0000:01:00.1" in lines
    assert "phb1 group 6 (PE 2): 0001:02:00.0" in lines
    assert lines[-1].startswith("ping ") and lines[-1].endswith(" µs")


def test_vfio_v2_walkthrough_twice(server):
    want = "\n".join([
        "dma32 window 2048 MiB, DDW page sizes 0x40211000, levels 5",
        "windows at 0x0 (64K pages) and 0x800000000000000 (2M pages)",
        "device write to 0x800000000300040 -> user address 0x7fff00300040",
        "device read of 0x80000000 -> EFAULT: iova 0x80000000 decodes as MMIO32, not DMA; phb0 PE 3 frozen (EEH)",
        "",
    ])
    for _ in range(2):  # the teardown released the group for the next user
        r = run("vfio_v2.py", server.address("unix"), "3")
        assert r.stderr == ""
        assert r.stdout == want
