"""The clients' history of a `kv` trace: clerk calls as operations of the kv model.

Each clerk call is an `invoke` at the clerk (`op`: type get/put/append, key, value, and the
call's (clerk, seq)) and, if it returned, a `return` (`output.value` for a get). A call still
pending at the end of the trace is settled from the servers' `apply` events when one of them
executed it (`executed: true` for the command [kind, key, value, clerk, seq]): it took
effect no later than that apply, with the output recorded there. Only calls no server
executed within the trace keep an unknown outcome. A get served by ReadIndex (a `read` event,
with the same command) settles a pending get the same way. This is what impl.kv.history does
with the servers' own records during a run, read back from the trace.

Times are the events' sequence numbers (as for Raft traces, checker/trace_check/history.py);
an operation's line is its invoke's line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from checker.linearizability.history import Input, Operation, history
from spec.errors import BadInput

KINDS = ("get", "put", "append")


def kv_history(events: Iterable[Mapping[str, Any]], path: str = "<trace>") -> list[Operation]:
    """The get/put/append operations of a kv trace's events, in call order, numbered."""
    pending: dict[int, tuple[int | str, Input, tuple[int, int], int]] = {}  # call -> ...
    executed: dict[tuple[int, int], tuple[int, Any]] = {}  # (clerk, seq) -> (seq, output)
    operations: list[Operation] = []
    for event in events:
        kind, at = event.get("event"), event.get("seq", 0)
        if kind == "invoke":
            op = event.get("op")
            if isinstance(op, dict) and op.get("type") in KINDS:
                pending[_int(event.get("call"), "call", at, path)] = _call(event, op, at, path)
        elif kind == "return":
            call = event.get("call")
            if isinstance(call, int) and call in pending:
                client, inp, _ident, called = pending.pop(call)
                output = event.get("output")
                value = output.get("value") if isinstance(output, dict) else None
                if inp[0] == "get" and not isinstance(value, str):
                    raise BadInput("a get's return needs output.value, a string", path, at + 1)
                operations.append(Operation(client=client, input=inp,
                                            output=value if inp[0] == "get" else None,
                                            call=called, ret=at, line=called + 1))
        elif kind == "read" or (kind == "apply" and event.get("kind") == "command"
                                and event.get("executed")):
            command = event.get("command")
            if not (isinstance(command, list) and len(command) == 5):
                raise BadInput(f"an {kind}'s command must be [kind, key, value, clerk, seq]",
                               path, at + 1)
            ident = (_int(command[3], "command's clerk", at, path),
                     _int(command[4], "command's seq", at, path))
            executed.setdefault(ident, (at, event.get("output")))
    for client, inp, ident, called in pending.values():
        found = executed.get(ident)
        if found is not None and found[0] > called:  # settled from the servers
            operations.append(Operation(client=client, input=inp,
                                        output=found[1] if inp[0] == "get" else None,
                                        call=called, ret=found[0], line=called + 1))
        else:  # unknown: may take effect any time after its call, or never
            operations.append(Operation(client=client, input=inp, output=None, call=called,
                                        ret=None, output_known=False, line=called + 1))
    operations.sort(key=lambda op: op.call)
    return list(history(operations))


def _call(event: Mapping[str, Any], op: dict[str, Any], at: int,
          path: str) -> tuple[int | str, Input, tuple[int, int], int]:
    key, value, f = op.get("key"), op.get("value"), op["type"]
    if not isinstance(key, str) or (f != "get" and not isinstance(value, str)):
        raise BadInput(f"a {f} needs a string key{'' if f == 'get' else ' and value'}",
                       path, at + 1)
    client = event.get("client")
    if not isinstance(client, int | str) or isinstance(client, bool):
        raise BadInput("an invoke needs a client (a name or an integer)", path, at + 1)
    ident = (_int(op.get("clerk"), "op.clerk", at, path), _int(op.get("seq"), "op.seq", at, path))
    return client, (f, key, None if f == "get" else value), ident, at


def _int(value: Any, what: str, at: int, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadInput(f"{what} must be an integer, not {value!r}", path, at + 1)
    return value
