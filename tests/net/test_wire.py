"""The wire format: frames and typed messages round-trip; everything else is a WireError
(never a crash, never evaluated); and a live server closes only the offending connection."""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest

from impl.kv.machine import NOOP_OP, Op
from impl.kv.messages import GetArgs, GetReply, PutAppendArgs, PutAppendReply
from impl.net.admin import status
from impl.net.server import run_loop
from impl.net.wire import (
    FrameReader,
    WireError,
    frame,
    hello,
    kv_clerk_decoder,
    kv_server_decoder,
    read_hello,
    unpack,
)
from impl.raft.messages import AppendEntries, AppendEntriesReply, Entry, RequestVote
from tests.net.harness import running_cluster

MESSAGES: list[Any] = [
    RequestVote(term=3, candidate=1, last_log_index=7, last_log_term=2),
    AppendEntries(term=3, leader=0, prev_index=4, prev_term=2,
                  entries=(Entry(index=5, term=3, command=Op("put", "k", "v", 9, 1)),
                           Entry(index=6, term=3, command=Op("get", "k", None, 9, 2))),
                  leader_commit=4),
    # ReadIndex: a new leader's no-op, and a heartbeat round's number and its echo.
    AppendEntries(term=4, leader=1, prev_index=6, prev_term=3,
                  entries=(Entry(index=7, term=4, command=NOOP_OP),), leader_commit=6,
                  read_round=2),
    AppendEntriesReply(term=4, success=True, prev_index=6, match_index=7, conflict_term=None,
                       conflict_index=0, read_round=2),
    GetArgs(key="k", clerk=9, seq=2),
    PutAppendArgs(key="k", value="v", op="Append", clerk=9, seq=3),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_messages_round_trip_through_frames(message: Any) -> None:
    reader = FrameReader()
    data = frame([1, message.wire()])
    bodies = reader.feed(data[:3]) + reader.feed(data[3:])  # split anywhere
    assert len(bodies) == 1
    decoded = kv_server_decoder().decode(unpack(bodies[0])[1])
    assert decoded == message


def test_replies_round_trip() -> None:
    for reply in (GetReply(err="OK", value="x", seq=4), PutAppendReply(err="ErrWrongLeader", seq=5)):
        assert kv_clerk_decoder().decode(unpack(frame(reply.wire())[4:])) == reply


BAD: list[tuple[str, Any]] = [
    ("not a list", {"a": 1}),
    ("unknown kind", ["Shutdown", 1]),
    ("too few fields", ["RV", 1, 2]),
    ("negative term", ["RV", -1, 1, 0, 0]),
    ("boolean as integer", ["RV", True, 1, 0, 0]),
    ("string as integer", ["RV", "3", 1, 0, 0]),
    ("bad entry", ["AE", 1, 0, 0, 0, [[1, 1]], 0]),
    ("bad command", ["AE", 1, 0, 0, 0, [[1, 1, ["exec", "k", "v", 1, 1]]], 0]),
    ("get with a value", ["AE", 1, 0, 0, 0, [[1, 1, ["get", "k", "v", 1, 1]]], 0]),
    ("no-op with a key", ["AE", 1, 0, 0, 0, [[1, 1, ["noop", "k", None, 0, 0]]], 0]),
    ("no-op of a clerk", ["AE", 1, 0, 0, 0, [[1, 1, ["noop", "", None, 3, 1]]], 0]),
    ("no-op with a value", ["AE", 1, 0, 0, 0, [[1, 1, ["noop", "", "v", 0, 0]]], 0]),
    ("bad literal", ["PutAppend", "k", "v", "Delete", 1, 1]),
    ("huge integer", ["Get", "k", 1 << 64, 1]),
]


@pytest.mark.parametrize(("why", "wire"), BAD, ids=[w for w, _ in BAD])
def test_malformed_messages_are_wire_errors(why: str, wire: Any) -> None:
    with pytest.raises(WireError):
        kv_server_decoder().decode(wire)


def test_frames_over_the_limit_and_bad_msgpack_are_refused() -> None:
    with pytest.raises(WireError, match="over the"):
        FrameReader(limit=10).feed(struct.pack(">I", 11) + b"x" * 11)
    with pytest.raises(WireError):
        unpack(b"\xc1")  # a byte msgpack never uses
    with pytest.raises(WireError):
        unpack(msgpack.packb(msgpack.ExtType(1, b"obj")))  # extension types: refused
    with pytest.raises(WireError):
        read_hello(["hello", 99, "peer", 1])
    assert read_hello(hello("client", None)) == ("client", None)


def _raw(address: Any, data: bytes) -> bytes:
    """Send `data` on a fresh connection; what comes back before the server closes it."""
    with socket.create_connection((address.host, address.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_a_server_closes_bad_connections_and_goes_on(tmp_path: Path) -> None:
    with running_cluster(tmp_path, trace=False) as cluster:
        address = cluster.addresses[0]
        attacks = [
            struct.pack(">I", (64 << 20) + 1),  # oversized frame
            frame(["hello", 1, "peer", 1]) + b"\0\0\0\x01\xc1",  # undecodable msgpack
            frame(["not a hello"]),
            frame(hello("peer", 0)),  # in the name of the server itself
            frame(hello("peer", 1)) + frame([1, ["RV", -5, 1, 0, 0]]),  # a bad field
            frame(hello("client", None)) + frame([1, ["RV", 1, 2, 0, 0]]),  # wrong role
            frame(hello("peer", 1)) + frame([1, ["Get", "k", 1, 1]]),  # a clerk's request
        ]
        for data in attacks:
            assert _raw(address, data) == b""
        assert cluster.exited() == {}, "a server died of a bad frame"
        answer = run_loop(status(address))
        assert answer is not None and answer["id"] == 0
        log = (tmp_path / "s0.log").read_text(encoding="utf-8")
        closed = [line for line in log.splitlines() if "closed:" in line]
        assert len(closed) == len(attacks), log  # one line per bad connection
        assert "Traceback" not in log
