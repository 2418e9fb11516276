"""The wire protocol: both codecs round-trip, and junk gets an error reply, not a crash."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from impl.mapreduce.coordinator import Coordinator
from impl.mapreduce.core import CoordinatorCore, Exit, MapAssignment, ReduceAssignment, Wait
from impl.mapreduce.naming import fnv1a_32, ihash, partition
from impl.mapreduce.protocol import (
    HEADER,
    Ack,
    AskForTask,
    ErrorReply,
    ReportDone,
    WireError,
    decode_payload,
    encode,
    reply_from_map,
    reply_to_map,
    request_from_map,
    request_to_map,
)
from impl.mapreduce.transport import Endpoint, call


def test_fnv1a_matches_published_vectors_mr() -> None:
    # FNV-1a 32-bit test vectors (Fowler/Noll/Vo); Go's hash/fnv.New32a gives the same.
    assert fnv1a_32(b"") == 0x811C9DC5
    assert fnv1a_32(b"a") == 0xE40C292C
    assert fnv1a_32(b"foobar") == 0xBF9CF968
    assert ihash("a") == 0xE40C292C & 0x7FFFFFFF
    assert partition("a", 10) == (0xE40C292C & 0x7FFFFFFF) % 10


@pytest.mark.parametrize("codec", ["msgpack", "json"])
def test_messages_round_trip_mr(codec: str) -> None:
    replies = [
        MapAssignment(task=3, attempt=1, filename="pg-x.txt", path="/d/pg-x.txt", n_reduce=10),
        ReduceAssignment(task=2, attempt=0, n_map=8),
        Wait(),
        Exit(),
        Ack(committed=False),
        ErrorReply(message="no"),
    ]
    for reply in replies:
        frame = encode(reply_to_map(reply), codec)  # type: ignore[arg-type]
        value, seen = decode_payload(frame[HEADER.size :])
        assert seen == codec and reply_from_map(value) == reply
    for request in (
        AskForTask(worker="w"),
        ReportDone(worker="w", kind="reduce", task=1, attempt=2),
    ):
        value, _ = decode_payload(encode(request_to_map(request), codec)[HEADER.size :])  # type: ignore[arg-type]
        assert request_from_map(value) == request


@pytest.mark.parametrize(
    "value",
    [
        {"op": "done", "worker": "w", "kind": "map", "task": True, "attempt": 0},
        {"op": "done", "worker": "w", "kind": "merge", "task": 0, "attempt": 0},
        {"op": "done", "worker": "w", "kind": "map", "task": -1, "attempt": 0},
        {"op": "shutdown", "worker": "w"},
        {"op": "ask"},
    ],
)
def test_malformed_requests_are_rejected_mr(value: dict[str, object]) -> None:
    with pytest.raises(WireError):
        request_from_map(value)


def test_coordinator_survives_junk_and_answers_both_codecs_mr(tmp_path: Path) -> None:
    async def scenario() -> None:
        (tmp_path / "in.txt").write_text("x")
        core = CoordinatorCore(["in.txt"], 1, 10.0)
        coordinator = Coordinator(
            core, tmp_path, Endpoint(unix_path=tmp_path / "c.sock"), hold=0.05
        )
        await coordinator.start()
        loop = asyncio.get_running_loop()

        def clients() -> list[object]:
            answers: list[object] = []
            for junk in (
                HEADER.pack(3) + b"\xc1\xc1\xc1",
                HEADER.pack(2) + b"[]",
                HEADER.pack(1 << 30),
            ):
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.connect(str(tmp_path / "c.sock"))
                    sock.sendall(junk)
                    sock.shutdown(socket.SHUT_WR)
                    answers.append(sock.recv(1 << 16))
            endpoint = Endpoint(unix_path=tmp_path / "c.sock")
            answers.append(call(endpoint, AskForTask(worker="json"), "json"))
            answers.append(
                call(endpoint, ReportDone(worker="x", kind="reduce", task=0, attempt=0), "msgpack")
            )
            return answers

        answers = await loop.run_in_executor(None, clients)
        await coordinator.close()
        # Undecodable payloads and an oversized frame get an error reply; the server lives on.
        assert b"error" in answers[0] and b"error" in answers[1]
        assert b"exceeds" in answers[2]
        assert isinstance(answers[3], MapAssignment)
        assert isinstance(answers[4], ErrorReply)  # never issued: refused, nothing renamed
        assert not (tmp_path / "c.sock").exists()

    asyncio.run(scenario())
