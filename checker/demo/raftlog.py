"""Raft seen from its clients: a replicated log, audited for linearizability.

A client hands a command to the leader (`start`), which answers with the index and term the
entry will have if it commits. Seen from outside, Raft is then an append-only log whose
`append(command)` returns the entry's index: the call takes effect when the entry commits,
and returns when a server first applies (index, term). A Raft that lost a committed entry,
committed two entries at one index, or committed an entry at an index that real time forbids,
produces a history no sequential log can explain.

Which `start` an applied entry belongs to is exact: a leader creates at most one entry per
index in its term (§5.3), so (index, term) names one `start` call. A `start` whose entry was
never applied within the trace has an unknown outcome (it may commit after the trace ends, or
never), which the checker treats soundly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from checker.linearizability.formats import hashable
from checker.linearizability.history import Operation
from checker.linearizability.models import LOG

__all__ = ["LOG", "history_lines", "log_history"]


def log_history(events: Iterable[Mapping[str, Any]]) -> list[Operation]:
    """The append operations of a Raft trace's events (DESIGN.md section 3), in trace order.

    Times are the events' sequence numbers: they order every event of a simulated run totally,
    where many events share one virtual millisecond.
    """
    invoked: dict[int, tuple[int, Any]] = {}  # call -> (seq of invoke, command)
    accepted: dict[tuple[int, int], tuple[int, int, Any]] = {}  # (index, term) -> call info
    applied_at: dict[tuple[int, int], int] = {}  # (index, term) -> seq of first apply
    for event in events:
        kind = event.get("event")
        if kind == "invoke" and event["op"].get("type") == "start":
            invoked[event["call"]] = (event["seq"], event["op"].get("command"))
        elif kind == "return" and event["call"] in invoked:
            call_seq, command = invoked.pop(event["call"])
            output = event["output"]
            if output.get("is_leader") and output["index"] > 0:
                accepted[(output["index"], output["term"])] = (event["call"], call_seq, command)
        elif kind == "apply" and event.get("kind") == "command":
            applied_at.setdefault((event["index"], event["term"]), event["seq"])
    operations = []
    for (index, term), (call, call_seq, command) in accepted.items():
        returned = applied_at.get((index, term))
        operations.append(
            Operation(
                client=call,  # one client per call: a tester may have many starts in flight
                input=("append", None, hashable(command)),
                output=index,
                call=call_seq,
                ret=returned,
            )
        )
    operations.sort(key=lambda op: op.call)
    return operations


def history_lines(operations: Iterable[Operation]) -> Iterator[str]:
    """The operations as a `dscheck-history` (traces/HISTORY.md), so `dscheck lin` can re-audit
    them: invokes and returns in time order; an append never applied has no return line."""
    yield json.dumps({"format": "dscheck-history", "version": 1, "model": LOG.name})
    events: list[tuple[float, int, dict[str, Any]]] = []
    for op in operations:
        events.append((op.call, 0, {"type": "invoke", "client": op.client, "time": op.call,
                                    "f": "append", "value": op.input[2]}))
        if op.ret is not None:
            events.append((op.ret, 1, {"type": "ok", "client": op.client, "time": op.ret,
                                       "value": op.output}))
    for _time, _order, event in sorted(events, key=lambda e: (e[0], e[1])):
        yield json.dumps(event)

