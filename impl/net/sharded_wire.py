"""The sharded service's wire (impl.net.sharded): the controller's and the shard groups'
messages and log entries, read as strictly as the key/value service's (impl.net.wire) — every
message rebuilt field by field; a configuration has one gid per shard, each 0 or one of its
groups, its groups sorted with positive gids; a Query's number is at least -1; a shard number
is 0..9; a log entry is one of the service's commands, each field checked."""

from __future__ import annotations

from typing import Any

from impl.net.wire import (
    CLERK_REPLIES,
    CLERK_REQUESTS,
    MAX_INT,
    RAFT_MESSAGES,
    Decoder,
    WireError,
    _integer,
    _string,
    decode_op,
)
from impl.shardctrler.machine import JOIN, KINDS, LEAVE, MOVE, QUERY, CtrlOp
from impl.shardctrler.messages import (
    ChangeReply,
    JoinArgs,
    LeaveArgs,
    MoveArgs,
    QueryArgs,
    QueryReply,
)
from impl.shardkv.machine import DELETE, INSTALL, RECONFIGURE, Command, Delete, Install, Reconfigure
from impl.shardkv.messages import TransferArgs, TransferReply
from spec.shardctrler import NSHARDS, Configuration

CTRL_REQUESTS: dict[str, type] = {"Join": JoinArgs, "Leave": LeaveArgs, "Move": MoveArgs,
                                  "Query": QueryArgs}
CTRL_REQUESTS_TYPES = frozenset(CTRL_REQUESTS.values())
CTRL_REPLIES: dict[str, type] = {"ChangeReply": ChangeReply, "QueryReply": QueryReply}
TRANSFER: dict[str, type] = {"Transfer": TransferArgs, "TransferReply": TransferReply}


# ---------------------------------------------------------------------------- field checks
def _signed(value: Any) -> int:
    """A configuration number in a Query: -1 asks for the newest."""
    if type(value) is not int or not -1 <= value <= MAX_INT:
        raise WireError(f"expected an integer >= -1, got {value!r:.40}")
    return value


def _list(value: Any, what: str) -> list[Any] | tuple[Any, ...]:
    if type(value) not in (list, tuple):  # msgpack gives lists; the cores' own, tuples
        raise WireError(f"{what} must be a list")
    parts: list[Any] | tuple[Any, ...] = value
    return parts


def _groups(value: Any) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """(gid, servers) pairs, sorted by gid, every gid > 0."""
    groups = []
    for item in _list(value, "groups"):
        pair = _list(item, "a group")
        if len(pair) != 2:
            raise WireError("a group is [gid, [server, ...]]")
        gid = _integer(pair[0])
        if gid == 0:
            raise WireError("gid 0 names no group")
        groups.append((gid, tuple(_string(s) for s in _list(pair[1], "servers"))))
    gids = [gid for gid, _ in groups]
    if gids != sorted(set(gids)):
        raise WireError("groups must be sorted by gid, each once")
    return tuple(groups)


def _configuration(value: Any) -> Configuration | None:
    if value is None:
        return None
    parts = _list(value, "a configuration")
    if len(parts) != 3:
        raise WireError("a configuration is [num, shards, groups]")
    shards = tuple(_integer(g) for g in _list(parts[1], "shards"))
    groups = _groups(parts[2])
    if len(shards) != NSHARDS:
        raise WireError(f"a configuration has {NSHARDS} shards, not {len(shards)}")
    known = {gid for gid, _ in groups}
    if any(g != 0 and g not in known for g in shards):
        raise WireError("a shard is assigned to a group the configuration does not list")
    return Configuration(_integer(parts[0]), shards, groups)


def decode_ctrl_op(value: Any) -> CtrlOp:
    """A controller log entry, `[kind, arg, clerk, seq]`."""
    parts = _list(value, "a controller command")
    if len(parts) != 4 or parts[0] not in KINDS or type(parts[0]) is not str:
        raise WireError(f"a controller command is [kind, arg, clerk, seq], kind one of {KINDS}")
    kind, arg = parts[0], parts[1]
    if kind == JOIN:
        arg = _groups(arg)
    elif kind == LEAVE:
        arg = tuple(_integer(g) for g in _list(arg, "gids"))
    elif kind == MOVE:
        pair = _list(arg, "a move")
        if len(pair) != 2:
            raise WireError("a move is [shard, gid]")
        arg = (_integer(pair[0]), _integer(pair[1]))
    elif kind == QUERY:
        arg = _signed(arg)
    return CtrlOp(kind, arg, _integer(parts[2]), _integer(parts[3]))


def _items(value: Any, key: Any, item: Any) -> tuple[tuple[Any, Any], ...]:
    out = []
    for pair in _list(value, "items"):
        if type(pair) not in (list, tuple) or len(pair) != 2:
            raise WireError("an item is a pair")
        out.append((key(pair[0]), item(pair[1])))
    return tuple(out)


def decode_shard_command(value: Any) -> Command:
    """A shard group's log entry: a clerk call, a configuration, an install or a delete."""
    parts = _list(value, "a shard group command")
    if not parts:
        raise WireError("a shard group command is a list")
    kind = parts[0]
    if kind == RECONFIGURE and len(parts) == 4:
        config = _configuration(list(parts[1:]))
        assert config is not None
        return Reconfigure(RECONFIGURE, config.num, config.shards, config.groups)
    if kind == INSTALL and len(parts) == 6:
        shard = _integer(parts[2])
        if shard >= NSHARDS:
            raise WireError(f"shard {shard} is not 0..{NSHARDS - 1}")
        return Install(INSTALL, _integer(parts[1]), shard, _items(parts[3], _string, _string),
                       _items(parts[4], _integer, _integer), _integer(parts[5]))
    if kind == DELETE and len(parts) == 3:
        shard = _integer(parts[2])
        if shard >= NSHARDS:
            raise WireError(f"shard {shard} is not 0..{NSHARDS - 1}")
        return Delete(DELETE, _integer(parts[1]), shard)
    if kind in (RECONFIGURE, INSTALL, DELETE):
        raise WireError(f"a malformed {kind} command")
    op = decode_op(parts)
    if op.kind == "noop":
        raise WireError("a shard group appends no no-op")
    return op


def _transfer_shard(value: Any) -> int:
    shard = _integer(value)
    if shard >= NSHARDS:
        raise WireError(f"shard {shard} is not 0..{NSHARDS - 1}")
    return shard


def ctrl_decoder() -> Decoder:
    """What a controller server reads: Raft's messages, the controller clerks' requests."""
    return Decoder({**RAFT_MESSAGES, **CTRL_REQUESTS}, decode_ctrl_op,
                   {(QueryArgs, "num"): _signed, (JoinArgs, "groups"): _groups})


def shard_decoder() -> Decoder:
    """What a group's server reads: Raft's messages, clerks' calls, other groups' transfers
    and their answers, the controller's answers to its polls."""
    return Decoder({**RAFT_MESSAGES, **CLERK_REQUESTS, **TRANSFER, **CTRL_REPLIES},
                   decode_shard_command,
                   {(QueryReply, "config"): _configuration,
                    (TransferArgs, "shard"): _transfer_shard,
                    (TransferReply, "shard"): _transfer_shard})


def shard_clerk_decoder() -> Decoder:
    """What a clerk of the sharded service reads: the groups' and the controller's answers."""
    return Decoder({**CLERK_REPLIES, **CTRL_REPLIES}, decode_shard_command,
                   {(QueryReply, "config"): _configuration})
