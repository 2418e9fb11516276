"""The clients' histories of the lab 4 traces: `shardkv` (clerk calls, kv model) and
`shardctrler` (controller calls, the shardctrler model).

A `shardkv` trace records its clerks' gets, puts and appends exactly as a `kv` trace does
(`invoke`, `return`, and the groups' `apply` events, which settle calls still pending at the
end: checker/trace_check/kv_history.py reads them). Its groups also apply commands of their
own — configurations, shard installs and deletes — and the controller applies Join, Leave,
Move and Query; those are not clerk calls, and are left out before the kv reading (an apply
of a clerk call is one whose command starts with get, put or append). Histories of calls on
different keys are independent, so one history spans every group and every
reconfiguration: linearizability is judged across migrations.

A `shardctrler` trace (and the controller's part of a `shardkv` trace) records its clerks'
calls as `invoke` events with `op.type` join, leave, move or query, and `return` events
whose output is `{"config": …}` for a query, `{"error": reason}` for a change the
controller refused, and null otherwise. Calls still pending at the end keep an unknown
outcome. Times are the events' sequence numbers; an operation's line is its invoke's line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checker.linearizability.history import Input, Operation, history
from checker.trace_check.kv_history import KINDS, kv_history
from spec.errors import BadInput
from spec.shardctrler import Configuration

CTRL_KINDS = ("join", "leave", "move", "query")


def shardkv_history(events: Iterable[Mapping[str, Any]], path: str = "<trace>") -> list[Operation]:
    """The get/put/append operations of a shardkv trace's events, in call order, numbered."""
    return kv_history((e for e in events if _kv_event(e)), path)


def _kv_event(event: Mapping[str, Any]) -> bool:
    if event.get("event") != "apply" or event.get("kind") != "command":
        return True
    command = event.get("command")
    return isinstance(command, list) and bool(command) and command[0] in KINDS


def shardctrler_history(events: Iterable[Mapping[str, Any]],
                        path: str = "<trace>") -> list[Operation]:
    """The join/leave/move/query operations of a trace's controller clerks, numbered."""
    pending: dict[int, tuple[int | str, Input, int]] = {}
    operations: list[Operation] = []
    for event in events:
        kind, at = event.get("event"), event.get("seq", 0)
        if kind == "invoke":
            op = event.get("op")
            if isinstance(op, dict) and op.get("type") in CTRL_KINDS:
                call = event.get("call")
                if not isinstance(call, int) or isinstance(call, bool):
                    raise BadInput(f"call must be an integer, not {call!r}", path, at + 1)
                client = event.get("client")
                if not isinstance(client, int | str) or isinstance(client, bool):
                    raise BadInput("an invoke needs a client (a name or an integer)", path,
                                   at + 1)
                pending[call] = (client, _ctrl_input(op, path, at), at)
        elif kind == "return":
            call = event.get("call")
            if isinstance(call, int) and call in pending:
                client, inp, called = pending.pop(call)
                operations.append(Operation(client=client, input=inp,
                                            output=_ctrl_output(inp, event.get("output"),
                                                                path, at),
                                            call=called, ret=at, line=called + 1))
    for client, inp, called in pending.values():
        operations.append(Operation(client=client, input=inp, output=None, call=called,
                                    ret=None, output_known=False, line=called + 1))
    operations.sort(key=lambda op: op.call)
    return list(history(operations))


def _ctrl_input(op: dict[str, Any], path: str, at: int) -> Input:
    f = op["type"]
    try:
        if f == "join":
            groups = op["groups"]
            return f, None, tuple(sorted((int(gid), tuple(_strings(servers)))
                                         for gid, servers in groups.items()))
        if f == "leave":
            return f, None, tuple(sorted(_int(g) for g in op["gids"]))
        if f == "move":
            return f, None, (_int(op["shard"]), _int(op["gid"]))
        return f, None, _int(op["num"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadInput(f"a {f} needs " + {
            "join": "groups: {gid: [server, ...]}", "leave": "gids: [gid, ...]",
            "move": "integers shard and gid", "query": "an integer num"}[f], path,
            at + 1) from None


def _ctrl_output(inp: Input, output: Any, path: str, at: int) -> Any:
    if inp[0] != "query":
        if output is None:
            return None
        if isinstance(output, dict) and isinstance(output.get("error"), str):
            return output["error"]
        raise BadInput("a change's return needs output null or {\"error\": reason}", path,
                       at + 1)
    try:
        config = output["config"]
        return Configuration(_int(config["num"]), tuple(_int(g) for g in config["shards"]),
                             tuple(sorted((int(gid), tuple(_strings(servers)))
                                          for gid, servers in config["groups"].items())))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadInput("a query's return needs output.config: {num, shards, groups}", path,
                       at + 1) from None


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(value)
    return value


def _strings(values: Any) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(values)
    return values
