#!/usr/bin/env python3
"""Connect to a running vphb server, list its IOMMU groups and time a PING (as examples/quickstart.ts).

Run: python3 examples/python/quickstart.py [unix:PATH | tcp:HOST:PORT | ws://HOST:PORT/]
(with clients/python installed, or PYTHONPATH=clients/python)
"""
import os
import sys
import time

from vphb import Client

target = sys.argv[1] if len(sys.argv) > 1 else None
with Client.connect(target, client="quickstart", token=os.environ.get("VPHB_TOKEN")) as c:
    info = c.server_info
    print(f"server {info['server']}, protocol {info['major']}.{info['minor']}")
    for phb in c.topology()["phbs"]:
        for g in phb["groups"]:
            print(f"{phb['name']} group {g['group']} (PE {g['pe']}): {', '.join(g['devices'])}")
    t0 = time.perf_counter_ns()
    c.ping(data=bytes([1, 2, 3]))
    print(f"ping {(time.perf_counter_ns() - t0) / 1000} µs")
