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

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from checker.linearizability.history import Input, Operation
from checker.linearizability.model import Model


def _append(length: int, inp: Input) -> tuple[Hashable, Any]:
    # The log's state is its length: the output of an append is the index it lands at. The
    # command itself does not affect the index, so it need not be part of the state.
    if inp[0] != "append":
        raise ValueError(f"log model: unknown operation {inp[0]!r} (expected append)")
    return length + 1, length + 1


LOG = Model(
    name="raft-log",
    init=lambda: 0,
    step=_append,
    describe_state=lambda length: f"log of {length} entries",
)


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
                input=("append", None, _hashable(command)),
                output=index,
                call=call_seq,
                ret=returned,
            )
        )
    operations.sort(key=lambda op: op.call)
    return operations


def _hashable(value: Any) -> Hashable:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    assert isinstance(value, Hashable)
    return value
