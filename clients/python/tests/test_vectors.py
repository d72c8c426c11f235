"""Conformance: every vector decodes to its meaning; canonical ones re-encode byte for byte."""
from __future__ import annotations

import struct

import pytest
from conftest import load_json

from vphb import OPS, decode_payload, encode_payload
from vphb.frame import FLAG_ERROR, FrameDecoder, decode_header, encode_header

VECTORS = load_json("protocol/vectors/vectors.json")
STREAMS = load_json("protocol/vectors/streams.json")
BY_NAME = {v["name"]: v for v in VECTORS}
MESSAGE = (("message", "str", False),)


def fields_of(v: dict) -> tuple:
    if v["header"]["flags"] & FLAG_ERROR:
        return MESSAGE
    spec = OPS.get(v.get("op") or "")
    if spec is None:
        return ()
    return spec[3] if v["direction"] == "reply" else spec[2]


def typed(fields: tuple, obj: dict) -> dict:
    """The JSON meaning as the Python values an encoder is handed (u64 strings -> int, bin hex -> bytes)."""
    types = {f[0]: f[1] for f in fields}
    out = {}
    for k, x in obj.items():
        t = types.get(k)
        if t == "u64":
            out[k] = int(x, 0) if isinstance(x, str) else x
        elif t == "u64[]":
            out[k] = [int(e, 0) for e in x]
        elif t == "bin":
            out[k] = bytes.fromhex(x)
        elif t is None and isinstance(x, dict):
            out[k] = x
        else:
            out[k] = x
    return out


def nested_typed(v: dict, obj: dict) -> dict:
    """TOPOLOGY/VERSION replies carry nested u64s (PhbInfo): compare those as integers too."""
    def conv(x, key=""):
        if isinstance(x, dict):
            return {k: conv(e, k) for k, e in x.items()}
        if isinstance(x, list):
            return [conv(e, key) for e in x]
        if isinstance(x, str) and key in ("start", "size", "window_starts", "pgsizes"):
            return int(x, 0)
        return x
    return conv(obj)


def test_vectors_cover_the_required_cases():
    errs = {v["header"]["error"] for v in VECTORS if v["header"]["flags"] & FLAG_ERROR}
    assert {71, 25, 22} <= errs
    assert any(v.get("op") == "TOPOLOGY" and v["direction"] == "reply" for v in VECTORS)
    assert any(v["direction"] == "server-command" for v in VECTORS)


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_decodes(v):
    data = bytes.fromhex(v["hex"])
    frames = list(FrameDecoder(1 << 20).feed(data))
    assert len(frames) == 1
    h, payload = frames[0]
    assert (h.msg_id, h.command, h.size, h.flags, h.error) == tuple(v["header"][k] for k in ("msg_id", "command", "size", "flags", "error"))
    assert h.size == len(data)
    if v.get("op") is not None:
        assert h.command == OPS[v["op"]][0]
    fields = fields_of(v)
    if v["payload_kind"] == "empty":
        assert payload == b""
        assert decode_payload(payload) == v.get("payload", {})
    elif v["payload_kind"] == "msgpack":
        got = decode_payload(payload)
        assert nested_typed(v, got) == nested_typed(v, typed(fields, v["payload"]))
    else:
        p = v["payload"]
        vm_fd, flags, liobn, ioba, count, reserved = struct.unpack_from("<IIQQII", payload)
        assert (vm_fd, flags, liobn, ioba, count, reserved) == (p["vm_fd"], p["flags"], int(p["liobn"], 0), int(p["ioba"], 0), p["count"], p["reserved"])
        tces = list(struct.unpack_from(f"<{count}Q", payload, 32))
        assert tces == [int(t, 0) for t in p["tces"]]
        assert len(payload) == 32 + 8 * count


CANONICAL = [v for v in VECTORS if v.get("canonical") is not False and v["payload_kind"] != "empty"]


@pytest.mark.parametrize("v", CANONICAL, ids=[v["name"] for v in CANONICAL])
def test_vector_reencodes(v):
    h = v["header"]
    if v["payload_kind"] == "raw":
        p = v["payload"]
        body = struct.pack("<IIQQII", p["vm_fd"], p["flags"], int(p["liobn"], 0), int(p["ioba"], 0), p["count"], p["reserved"])
        body += struct.pack(f"<{len(p['tces'])}Q", *[int(t, 0) for t in p["tces"]])
    else:
        body = encode_payload(nested_typed(v, typed(fields_of(v), v["payload"])))
    frame = encode_header(h["msg_id"], h["command"], 16 + len(body), h["flags"], h["error"]) + body
    assert frame.hex() == v["hex"]


@pytest.mark.parametrize("s", STREAMS, ids=[s["name"] for s in STREAMS])
def test_stream(s):
    assert "".join(s["chunks"]) == s["hex"]
    expected = [BY_NAME[n]["hex"] for n in s["frames"]]
    for chunks in ([s["hex"]], s["chunks"]):
        dec = FrameDecoder(1 << 20)
        got = [(encode_header(h.msg_id, h.command, h.size, h.flags, h.error) + p).hex() for c in chunks for h, p in dec.feed(bytes.fromhex(c))]
        assert got == expected
        assert dec.pending == 0


def test_header_is_little_endian():
    assert decode_header(bytes.fromhex("0102030410000000010000000500000000")).msg_id == 0x0201
