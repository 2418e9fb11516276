"""The runtime's wire format: length-prefixed msgpack frames, decoded into the typed messages
of the cores, validated field by field, bounded in size (DESIGN.md sections 1 and 7).

A frame is a 4-byte big-endian length and that many bytes of msgpack. Its payload is a list:

* the first frame on a connection is a hello, `["hello", VERSION, role, sender]`: role
  `"peer"` (sender: the server id), `"client"` (a clerk) or `"admin"` (status and, when
  the server allows it, fault injection);
* then every frame is `[id, message]`: `id` numbers the message for the traces (a sender's
  own counter; traces merge sends and receives by it), `message` is the message's `wire()`
  list — a Raft message between peers, a clerk's request or a server's reply — or, on an
  admin connection, a plain request and its answer.

Decoding never evaluates anything: msgpack gives plain values (extension types are
refused), and each message kind is rebuilt from its dataclass's fields in order, every field
checked against its declared type (integers are never booleans and never negative; a
`Literal` must be one of its values; log entries are `[index, term, command]` with the
command checked by the service). Anything else is a `WireError`, which closes that
connection only.
"""

from __future__ import annotations

import dataclasses
import struct
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgpack

from impl.kv.machine import GET, KINDS, NOOP_OP, Op
from impl.kv.messages import GetArgs, GetReply, PutAppendArgs, PutAppendReply
from impl.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    InstallSnapshot,
    InstallSnapshotReply,
    RequestVote,
    RequestVoteReply,
)

VERSION = 1
LENGTH = struct.Struct(">I")
MAX_FRAME = 64 << 20  # a snapshot travels in one frame; the limit is a setting of the server
MAX_INT = (1 << 63) - 1
ROLES = ("peer", "client", "admin")

# tag (a message's wire()[0]) -> class: the one table of the messages the runtime carries.
RAFT_MESSAGES: dict[str, type] = {
    "RV": RequestVote, "RVR": RequestVoteReply, "AE": AppendEntries,
    "AER": AppendEntriesReply, "IS": InstallSnapshot, "ISR": InstallSnapshotReply,
}
CLERK_REQUESTS: dict[str, type] = {"Get": GetArgs, "PutAppend": PutAppendArgs}
CLERK_REPLIES: dict[str, type] = {"GetReply": GetReply, "PutAppendReply": PutAppendReply}

Check = Callable[[Any], Any]  # returns the value as the message holds it, or raises


class WireError(ValueError):
    """A frame or message that does not follow the protocol."""


# ---------------------------------------------------------------------------- frames
def frame(payload: Any) -> bytes:
    body: bytes = msgpack.packb(payload, use_bin_type=True)
    return LENGTH.pack(len(body)) + body


def _refuse_extension(code: int, data: bytes) -> Any:
    raise WireError(f"extension type {code} refused")


def unpack(body: bytes) -> Any:
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True,
                               ext_hook=_refuse_extension)
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError,
            msgpack.StackError) as error:
        raise WireError(f"undecodable msgpack: {error}") from None


class FrameReader:
    """Splits a byte stream into frame bodies; a frame over `limit` is a WireError."""

    def __init__(self, limit: int = MAX_FRAME) -> None:
        self.limit = limit
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer.extend(data)
        bodies = []
        offset = 0
        while len(buffer) - offset >= LENGTH.size:
            (length,) = LENGTH.unpack_from(buffer, offset)
            if length > self.limit:
                raise WireError(f"frame of {length} bytes is over the {self.limit}-byte limit")
            end = offset + LENGTH.size + length
            if end > len(buffer):
                break
            bodies.append(bytes(buffer[offset + LENGTH.size:end]))
            offset = end
        if offset:
            del buffer[:offset]
        return bodies


# ---------------------------------------------------------------------------- field checks
def _integer(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_INT:
        raise WireError(f"expected an integer >= 0, got {_show(value)}")
    return value


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise WireError(f"expected true or false, got {_show(value)}")
    return value


def _string(value: Any) -> str:
    if type(value) is not str:
        raise WireError(f"expected a string, got {_show(value)}")
    return value


def _binary(value: Any) -> bytes:
    if type(value) is not bytes:
        raise WireError(f"expected bytes, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_for(hint: Any, decode_command: Check) -> Check:
    """The check of one declared field type."""
    if hint is int:
        return _integer
    if hint is bool:
        return _boolean
    if hint is str:
        return _string
    if hint is bytes:
        return _binary
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        allowed = frozenset(args)

        def literal(value: Any) -> Any:
            if type(value) is not str or value not in allowed:
                raise WireError(f"expected one of {sorted(allowed)}, got {_show(value)}")
            return value
        return literal
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        check = _check_for(inner, decode_command)
        return lambda value: None if value is None else check(value)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis and args[0] is not Entry:
        item = _check_for(args[0], decode_command)

        def homogeneous(value: Any) -> tuple[Any, ...]:
            if type(value) is not list:
                raise WireError(f"expected a list, got {_show(value)}")
            return tuple(item(v) for v in value)
        return homogeneous
    if origin is tuple and Ellipsis not in args:
        items = [_check_for(a, decode_command) for a in args]

        def fixed(value: Any) -> tuple[Any, ...]:
            if type(value) is not list or len(value) != len(items):
                raise WireError(f"expected a list of {len(items)}, got {_show(value)}")
            return tuple(check(v) for check, v in zip(items, value, strict=True))
        return fixed
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        # A value type inside a message (a configuration): its fields in order, as a list.
        nested = Decoder({hint.__name__: hint}, decode_command)
        return lambda value: nested.decode([hint.__name__, *value]) \
            if type(value) is list else nested.decode(value)
    if origin is tuple and args == (Entry, Ellipsis):
        def entries(value: Any) -> tuple[Entry, ...]:
            if type(value) is not list:
                raise WireError("entries must be a list")
            out = []
            for item in value:
                if type(item) is not list or len(item) != 3:
                    raise WireError("an entry must be [index, term, command]")
                out.append(Entry(index=_integer(item[0]), term=_integer(item[1]),
                                 command=decode_command(item[2])))
            return tuple(out)
        return entries
    raise TypeError(f"no wire check for the field type {hint!r}")


class Decoder:
    """Rebuilds messages of the classes in `table` from their wire lists."""

    def __init__(self, table: Mapping[str, type], decode_command: Check,
                 special: Mapping[tuple[type, str], Check] | None = None) -> None:
        """`special` replaces the check of a field its type alone cannot say (a signed
        number, a value with rules of its own): (class, field name) -> check."""
        self._kinds: dict[str, tuple[type, list[tuple[str, Check]], int]] = {}
        special = special or {}
        for tag, cls in table.items():
            hints = typing.get_type_hints(cls)
            fields = [f for f in dataclasses.fields(cls) if f.init]
            required = sum(1 for f in fields if f.default is dataclasses.MISSING
                           and f.default_factory is dataclasses.MISSING)
            checks = [(f.name, special.get((cls, f.name))
                       or _check_for(hints[f.name], decode_command)) for f in fields]
            self._kinds[tag] = (cls, checks, required)

    def decode(self, wire: Any) -> Any:
        if type(wire) is not list or not wire or type(wire[0]) is not str:
            raise WireError("a message must be a list starting with its kind")
        kind = self._kinds.get(wire[0])
        if kind is None:
            raise WireError(f"unknown message kind {_show(wire[0])}")
        cls, checks, required = kind
        values = wire[1:]
        if not required <= len(values) <= len(checks):
            raise WireError(f"{wire[0]}: {len(values)} fields, expected {required}"
                            + (f" to {len(checks)}" if len(checks) != required else ""))
        try:
            fields = {name: check(value) for (name, check), value in zip(checks, values, strict=False)}
        except WireError as error:
            raise WireError(f"{wire[0]}: {error}") from None
        return cls(**fields)


# ---------------------------------------------------------------------------- the key/value service
def decode_op(value: Any) -> Op:
    """A key/value log entry's command, `[kind, key, value, clerk, seq]`."""
    if type(value) not in (list, tuple) or len(value) != 5:
        raise WireError("a key/value command must be [kind, key, value, clerk, seq]")
    kind, key, written, clerk, seq = value
    if kind == NOOP_OP.kind and type(kind) is str:
        # The entry a ReadIndex leader appends when its term has none: one form only.
        if [key, written, clerk, seq] != [NOOP_OP.key, None, 0, 0] or type(clerk) is not int \
                or type(seq) is not int:
            raise WireError(f"a no-op must be {list(NOOP_OP)}")
        return NOOP_OP
    if kind not in KINDS or type(kind) is not str:
        raise WireError(f"command kind {_show(kind)} is not get, put, append or noop")
    if (kind == GET) != (written is None):
        raise WireError("a get carries no value; a put or append carries one")
    return Op(kind, _string(key), None if written is None else _string(written),
              _integer(clerk), _integer(seq))


def kv_server_decoder() -> Decoder:
    """What a key/value server reads: Raft's messages from peers, clerks' requests."""
    return Decoder({**RAFT_MESSAGES, **CLERK_REQUESTS}, decode_op)


def kv_clerk_decoder() -> Decoder:
    """What a clerk reads: the servers' replies."""
    return Decoder(CLERK_REPLIES, decode_op)


def hello(role: str, sender: int | None) -> list[Any]:
    return ["hello", VERSION, role, sender]


def read_hello(payload: Any) -> tuple[str, int | None]:
    """(role, sender) of a hello frame's payload."""
    if (type(payload) is not list or len(payload) != 4 or payload[0] != "hello"
            or payload[1] != VERSION or payload[2] not in ROLES):
        raise WireError(f"expected a hello of version {VERSION} (peer, client or admin)")
    role, sender = payload[2], payload[3]
    if role == "peer":
        return role, _integer(sender)
    if sender is not None:
        raise WireError("only a peer names itself in its hello")
    return role, None


def read_numbered(payload: Any) -> tuple[int, Any]:
    """(id, message wire list) of a frame after the hello."""
    if type(payload) is not list or len(payload) != 2:
        raise WireError("expected [id, message]")
    return _integer(payload[0]), payload[1]
