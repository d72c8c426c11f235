"""The Python client against a live server, on every transport."""
from __future__ import annotations

import array
import json
import socket
import struct
import threading

import pytest
from conftest import ROOT, TOKEN

import vphb._ops as ops_module
from vphb import OPS, Client, ConnectError, ServerFrame, VphbError, encode_payload, parse_address
from vphb.frame import FLAG_NO_REPLY, HEADER_SIZE, encode_header
from vphb.transport import StreamTransport

PKG_VERSION = json.loads((ROOT / "package.json").read_text())["version"]


def connect(target: str) -> Client:
    return Client.connect(target, token=TOKEN)


def test_handshake_reports_server_version(target):
    with connect(target) as c:
        assert c.server_info["server"] == f"vphb {PKG_VERSION}"
        assert c.server_info["major"] == 1
        names = {o["name"] for o in c.server_info["capabilities"]["ops"]}
        assert {"TOPOLOGY", "TCE_PUT_BATCH"} <= names


def test_topology_reply_is_the_default_host(target):
    with connect(target) as c:
        t = c.topology()
    assert t["host_page_shift"] == 16
    phb0 = t["phbs"][0]
    assert (phb0["name"], phb0["model"], phb0["window_starts"]) == ("phb0", "POWER9", [0, 1 << 59])
    g = phb0["groups"][0]
    assert (g["group"], g["pe"], g["devices"]) == (1, 1, ["0000:01:00.0", "0000:01:00.1"])
    nvme = g["functions"][0]
    assert (nvme["address"], nvme["model"], nvme["vendor_id"], nvme["device_id"], nvme["class_code"]) == (
        "0000:01:00.0", "nvme", 0x1B36, 0x0010, 0x010802)


def test_pipelined_calls_complete_in_order(target):
    with connect(target) as c:
        futs = [c.ping(data=i.to_bytes(2, "little"), wait=False) for i in range(300)]
        assert [f.result(10)["data"] for f in futs] == [i.to_bytes(2, "little") for i in range(300)]


def test_errors_carry_errno_name_and_message(target):
    with connect(target) as c:
        with pytest.raises(VphbError) as e:
            c.vfio_group_open(999)
        assert (e.value.errno, e.value.name) == (2, "ENOENT")
        assert "999" in e.value.message
        with pytest.raises(VphbError) as e:
            c.close_fd(77)
        assert (e.value.errno, e.value.name) == (9, "EBADF")
        # A failed call leaves the connection usable.
        assert c.ping(data=b"ok")["data"] == b"ok"


def test_u64_edges_travel_as_integers(target):
    with connect(target) as c:
        vm = c.kvm_create_vm()["fd"]
        for liobn in (1 << 32, (1 << 53) + 1, 1 << 63, (1 << 64) - 1):
            # An unknown LIOBN is H_TOO_HARD (9999) whatever its width: the value arrived intact.
            assert c.h_put_tce(vm, liobn, 0, 0)["ret"] == 9999
        with pytest.raises(VphbError) as e:
            c.submit("H_PUT_TCE", {"fd": vm, "liobn": 1 << 64, "ioba": 0, "tce": 0})
        assert e.value.name == "EOVERFLOW"
        assert c.ping(data=b"still open")["data"] == b"still open"


def test_token_is_required_on_tcp_and_ws(server):
    for kind in ("tcp", "ws"):
        with pytest.raises(VphbError) as e:
            Client.connect(server.address(kind))
        assert e.value.name == "EACCES"
    # On UNIX the token is not needed (and ignored if sent).
    with Client.connect(server.address("unix")) as c:
        assert c.ping() == {}
    with Client.connect(server.address("unix"), token="wrong") as c:
        assert c.ping(data=b"x")["data"] == b"x"


def test_connect_errors_name_the_address(tmp_path):
    with pytest.raises(ConnectError, match=r"no vphb server at unix:.*nobody\.sock: the socket does not exist"):
        Client.connect(str(tmp_path / "nobody.sock"))
    with pytest.raises(ValueError, match="bad TCP address"):
        Client.connect("tcp://:7420")


def test_addresses_parse_as_the_server_prints_them():
    assert parse_address("tcp:[::1]:7432") == parse_address("tcp://[::1]:7432")
    assert str(parse_address("tcp:[::1]:7432")) == "tcp://[::1]:7432"
    assert str(parse_address("/x.sock")) == "unix:/x.sock"
    assert str(parse_address("ws://127.0.0.1:9/")) == "ws://127.0.0.1:9/"


def _kvm_table(c: Client, entries: int) -> tuple[int, int]:
    vm = c.kvm_create_vm()["fd"]
    c.kvm_create_spapr_tce_64(vm, 0x80000001, 12, 0, entries)
    return vm, 0x80000001


@pytest.mark.parametrize("kind", ["bytes", "memoryview", "array"])
def test_tce_put_batch_from_buffers(target, kind):
    n = 1024
    entries = array.array("Q", [0] * n)  # clears: valid for any table, no memory slot needed
    entries[5] = 0  # keep it a valid clear
    buf = {"bytes": entries.tobytes(), "memoryview": memoryview(entries.tobytes()), "array": entries}[kind]
    with connect(target) as c:
        vm, liobn = _kvm_table(c, 4096)
        assert c.tce_put_batch(vm, liobn, 0, buf) == {"ret": 0, "written": n}
        # Past the window: H_PARAMETER (-4), nothing written.
        assert c.tce_put_batch(vm, liobn, 4095 << 12, buf) == {"ret": -4, "written": 0}
        with pytest.raises(VphbError) as e:
            c.tce_put_batch(vm, liobn, 0, b"\0" * 12)
        assert e.value.name == "EINVAL"


def test_tce_put_batch_sends_the_callers_buffer_without_copying(server, monkeypatch):
    sent: list = []
    original = StreamTransport.send

    def spy(self, parts):
        sent.append(list(parts))
        return original(self, parts)

    monkeypatch.setattr(StreamTransport, "send", spy)
    entries = array.array("Q", [0] * 512)
    with connect(server.address("unix")) as c:
        vm, liobn = _kvm_table(c, 4096)
        sent.clear()
        assert c.tce_put_batch(vm, liobn, 0, entries)["written"] == 512
    header, head, body = sent[0]
    assert len(header) == HEADER_SIZE and len(head) == 32
    assert isinstance(body, memoryview) and body.obj is entries  # a view of the array itself


def test_no_reply_calls_take_effect_in_order(target):
    with connect(target) as c:
        fd = c.vfio_open_container()["fd"]
        assert c.close_fd(fd, no_reply=True) is None
        with pytest.raises(VphbError) as e:
            c.vfio_get_api_version(fd)
        assert e.value.name == "EBADF"


def test_methods_match_the_registry():
    registry = json.loads((ROOT / "protocol" / "ops.json").read_text())
    assert ops_module.ERRNOS == registry["errnos"]
    assert ops_module.PAPR == registry["papr"]
    assert list(OPS) == [o["name"] for o in registry["ops"]]
    for o in registry["ops"]:
        code, payload, request, reply, errors = OPS[o["name"]]
        assert (code, payload, list(errors)) == (o["code"], o["payload"], o["errors"])
        assert [f[0] for f in request] == [f["name"] for f in o["request"]]
        if payload == "msgpack":
            assert callable(getattr(Client, "close_fd" if o["name"] == "CLOSE" else o["name"].lower()))


class FakeServer:
    """Answers VERSION, then sends a server-initiated command (IRQ event style, no_reply)."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        conn, _ = self.sock.accept()
        head = conn.recv(16, socket.MSG_WAITALL)
        msg_id, command, size, _flags, _err = struct.unpack("<HHIII", head)
        conn.recv(size - 16, socket.MSG_WAITALL)
        reply = encode_payload({"major": 1, "minor": 0, "server": "fake", "capabilities": {"max_frame_size": 4096, "max_inflight": 8, "host_page_size": 65536, "ops": []}})
        conn.sendall(encode_header(msg_id, command, 16 + len(reply), 1) + reply)
        event = encode_payload({"fd": 3, "index": 2, "count": 1})
        conn.sendall(encode_header(0, 1024, 16 + len(event), FLAG_NO_REPLY) + event)
        conn.sendall(encode_header(0, 1030, 16, FLAG_NO_REPLY))
        conn.recv(1)  # wait for the client to close
        conn.close()


def test_server_initiated_frames_reach_callbacks(tmp_path):
    path = str(tmp_path / "fake.sock")
    FakeServer(path)
    got: list[ServerFrame] = []
    only_1024: list[ServerFrame] = []
    done = threading.Event()

    def on_any(f: ServerFrame) -> None:
        got.append(f)
        if len(got) == 2:
            done.set()

    c = Client.connect(path, on_server_frame=on_any)
    c.on_server_frame(only_1024.append, 1024)
    assert done.wait(10)
    c.close()
    assert [(f.command, f.no_reply) for f in got] == [(1024, True), (1030, True)]
    assert got[0].payload == {"fd": 3, "index": 2, "count": 1}
    assert got[1].payload == {}
    assert len(only_1024) <= 1  # registered after connect: may have missed it, never the other code


def test_integral_float_is_not_an_integer(target):
    # Python's msgpack sends 1.0 as a float64: the server refuses it for an integer field (EINVAL),
    # rather than opening group 1.
    with connect(target) as c:
        with pytest.raises(VphbError) as e:
            c.vfio_group_open(1.0)  # type: ignore[arg-type]
        assert (e.value.name, e.value.message) == ("EINVAL", "field 'group': expected u32, got float 1")
        fd = c.vfio_group_open(1)["fd"]  # the group was not taken by the refused call
        c.close_fd(fd)


def test_large_replies_and_requests(target):
    # 64-bit WebSocket lengths, TCP reads across many chunks: a 1 MiB table read and a 64K-entry batch.
    entries = 1 << 17
    with connect(target) as c:
        vm, liobn = _kvm_table(c, entries)
        assert c.tce_put_batch(vm, liobn, 0, array.array("Q", [0]) * 65536) == {"ret": 0, "written": 65536}
        table = c.kvm_create_spapr_tce_64(vm, 0x90000001, 12, 0, entries)["fd"]
        data = c.tce_table_read(table, 0, entries)["data"]
        assert len(data) == 8 * entries and data == bytes(8 * entries)
