"""The coordinator/worker wire protocol: framed msgpack or JSON, decoded into typed messages.

One RPC is one connection: the worker connects, sends one frame, reads one frame, closes (as the
lab's `call()` dials per call). A frame is a 4-byte big-endian length and a payload of at most
`MAX_FRAME` bytes. The payload is a msgpack map or a JSON object; the coordinator accepts either
and answers in the codec it was asked in (a JSON object starts with `{`, which no msgpack map
does). Nothing is ever unpickled or evaluated: payloads become plain dicts, which are validated
field by field into the dataclasses below, so a stray client gets an error reply, not a crash.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import msgpack

from impl.mapreduce.core import (
    Exit,
    MapAssignment,
    ReduceAssignment,
    TaskKind,
    Wait,
)

Codec = Literal["msgpack", "json"]
CODECS: tuple[Codec, ...] = ("msgpack", "json")
MAX_FRAME = 1 << 20
HEADER = struct.Struct(">I")
T = TypeVar("T")


class WireError(Exception):
    """A frame or message that does not follow the protocol."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AskForTask:
    worker: str  # for the coordinator's log only

    def describe(self) -> str:
        return f"{self.worker} asks for a task"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportDone:
    worker: str
    kind: TaskKind
    task: int
    attempt: int

    def describe(self) -> str:
        return f"{self.worker} finished {self.kind} {self.task}#{self.attempt}"


Request = AskForTask | ReportDone


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack:
    committed: bool  # False: another attempt had already committed this task


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorReply:
    message: str


Reply = MapAssignment | ReduceAssignment | Wait | Exit | Ack | ErrorReply


# ---- payloads ---------------------------------------------------------------------------------


def encode(message: dict[str, Any], codec: Codec) -> bytes:
    if codec == "json":
        payload = json.dumps(message, separators=(",", ":")).encode()
    else:
        payload = msgpack.packb(message, use_bin_type=True)
    if len(payload) > MAX_FRAME:
        raise WireError(f"message of {len(payload)} bytes exceeds the {MAX_FRAME}-byte limit")
    return HEADER.pack(len(payload)) + payload


def decode_payload(payload: bytes) -> tuple[dict[str, Any], Codec]:
    codec: Codec = "json" if payload[:1] == b"{" else "msgpack"
    try:
        if codec == "json":
            value = json.loads(payload.decode("utf-8"))
        else:
            value = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except (
        ValueError,
        UnicodeDecodeError,
        msgpack.ExtraData,
        msgpack.FormatError,
        msgpack.StackError,
    ) as error:
        raise WireError(f"undecodable {codec} payload: {error}") from error
    if not isinstance(value, dict):
        raise WireError(f"expected a {codec} map, got {type(value).__name__}")
    return value, codec


def frame_length(header: bytes) -> int:
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME:
        raise WireError(f"frame of {length} bytes exceeds the {MAX_FRAME}-byte limit")
    return int(length)


# ---- typed messages <-> plain maps ------------------------------------------------------------


def request_to_map(request: Request) -> dict[str, Any]:
    if isinstance(request, AskForTask):
        return {"op": "ask", "worker": request.worker}
    return {
        "op": "done",
        "worker": request.worker,
        "kind": request.kind,
        "task": request.task,
        "attempt": request.attempt,
    }


def request_from_map(value: dict[str, Any]) -> Request:
    op = value.get("op")
    worker = _field(value, "worker", str)
    if op == "ask":
        return AskForTask(worker=worker)
    if op == "done":
        kind = _field(value, "kind", str)
        if kind not in ("map", "reduce"):
            raise WireError(f"field 'kind' must be 'map' or 'reduce', got {kind!r}")
        return ReportDone(
            worker=worker,
            kind="map" if kind == "map" else "reduce",
            task=_field(value, "task", int),
            attempt=_field(value, "attempt", int),
        )
    raise WireError(f"unknown request op {op!r} (expected 'ask' or 'done')")


def reply_to_map(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, MapAssignment):
        return {
            "type": "map",
            "task": reply.task,
            "attempt": reply.attempt,
            "filename": reply.filename,
            "path": reply.path,
            "n_reduce": reply.n_reduce,
        }
    if isinstance(reply, ReduceAssignment):
        return {
            "type": "reduce",
            "task": reply.task,
            "attempt": reply.attempt,
            "n_map": reply.n_map,
        }
    if isinstance(reply, Wait):
        return {"type": "wait"}
    if isinstance(reply, Exit):
        return {"type": "exit"}
    if isinstance(reply, Ack):
        return {"type": "ack", "committed": reply.committed}
    return {"type": "error", "message": reply.message}


def reply_from_map(value: dict[str, Any]) -> Reply:
    kind = value.get("type")
    if kind == "map":
        return MapAssignment(
            task=_field(value, "task", int),
            attempt=_field(value, "attempt", int),
            filename=_field(value, "filename", str),
            path=_field(value, "path", str),
            n_reduce=_field(value, "n_reduce", int),
        )
    if kind == "reduce":
        return ReduceAssignment(
            task=_field(value, "task", int),
            attempt=_field(value, "attempt", int),
            n_map=_field(value, "n_map", int),
        )
    if kind == "wait":
        return Wait()
    if kind == "exit":
        return Exit()
    if kind == "ack":
        return Ack(committed=_field(value, "committed", bool))
    if kind == "error":
        return ErrorReply(message=_field(value, "message", str))
    raise WireError(f"unknown reply type {kind!r}")


def _field(value: dict[str, Any], name: str, expected: type[T]) -> T:
    field = value.get(name)
    # bool is a subclass of int: a task number must not be `true`.
    if not isinstance(field, expected) or (expected is int and isinstance(field, bool)):
        raise WireError(f"field {name!r} must be {expected.__name__}, got {field!r}")
    if expected is int and not 0 <= field < 1 << 31:  # type: ignore[operator]
        raise WireError(f"field {name!r} out of range: {field!r}")
    return field
