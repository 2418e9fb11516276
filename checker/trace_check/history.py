"""The clients' history a trace records (DESIGN.md section 3), for `dscheck lin` to audit.

A trace's `invoke` and `return` events are the calls clients made; each system says what they
mean as operations of a sequential model, through one `HistoryView`: the model judged by
default, and the function that turns the trace's events into operations. `dscheck lin FILE`
on a trace, and the demo's linearizability stage, read histories only through `VIEWS`, so a
new system (the key/value service, whose clients get, put and append) adds a view here.

Raft seen from its clients: a replicated log
---------------------------------------------
A client hands a command to the leader (`start`), which answers with the index and term the
entry will have if it commits. Seen from outside, Raft is then an append-only log whose
`append(command)` returns the entry's index: the call takes effect when the entry commits,
and returns when a server first applies (index, term). A Raft that lost a committed entry,
committed two entries at one index, or committed an entry at an index that real time forbids,
produces a history no sequential log can explain.

Which `start` an applied entry belongs to is exact: a leader creates at most one entry per
index in its term (§5.3), so (index, term) names one `start` call — and should a broken
leader hand out one (index, term) twice, both calls are kept, so that the log model refuses
them. A `start` whose entry was never applied within the trace has an unknown outcome (it may
commit after the trace ends, or never), which the checker treats soundly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any, TypeGuard

from checker.linearizability.formats import hashable
from checker.linearizability.history import Operation, history
from checker.trace_check.kv_history import kv_history
from checker.trace_check.reader import Event, read_events, read_header
from checker.trace_check.shard_history import shardctrler_history, shardkv_history
from spec.errors import BadInput

__all__ = ["VIEWS", "HistoryView", "log_history", "trace_history"]


@dataclass(frozen=True)
class HistoryView:
    """How one system's trace reads as a history: the model it is judged against by default,
    and the operations its events make (`operations(events, path)`)."""

    model: str
    operations: Callable[[Iterable[Event], str], list[Operation]]


def trace_history(stream: IO[str], path: str) -> tuple[str, list[Operation]]:
    """The default model and the operations of the trace in `stream` (BadInput if it is not
    a trace, or its system records no client history)."""
    header = read_header(stream, path, tuple(VIEWS))
    view = VIEWS[header.system]
    return view.model, view.operations(read_events(stream, path, header), path)


def log_history(events: Iterable[Mapping[str, Any]], path: str = "<trace>") -> list[Operation]:
    """The append operations of a Raft trace's events, in call order, numbered.

    Times are the events' sequence numbers: they order every event of a simulated run totally,
    where many events share one virtual millisecond. An operation's line is its invoke's line
    (seq + 1: the header is line 1)."""
    invoked: dict[int, tuple[int, Any]] = {}  # call -> (seq of invoke, command)
    accepted: dict[tuple[int, int], list[tuple[int, int, Any]]] = {}  # (index, term) -> calls
    applied: dict[tuple[int, int], list[int]] = {}  # (index, term) -> seqs of its applies
    for event in events:
        kind, seq = event.get("event"), event.get("seq", 0)
        if kind == "invoke":
            op = _field(event, "op", dict, path)
            if op.get("type") == "start":
                invoked[_field(event, "call", int, path)] = (seq, op.get("command"))
        elif kind == "return":
            call = _field(event, "call", int, path)
            if call in invoked:
                call_seq, command = invoked.pop(call)
                output = _field(event, "output", dict, path)
                index, term = output.get("index"), output.get("term")
                if not (_is_int(index) and _is_int(term)):
                    raise BadInput("a start's output needs integers index and term",
                                   path, seq + 1)
                if output.get("is_leader") is True and index > 0:
                    accepted.setdefault((index, term), []).append((call, call_seq, command))
        elif kind == "apply" and event.get("kind") == "command":
            index, term = event.get("index"), event.get("term")
            if not (_is_int(index) and _is_int(term)):
                raise BadInput("an apply needs integers index and term", path, seq + 1)
            applied.setdefault((index, term), []).append(seq)
    operations = []
    for (index, term), calls in accepted.items():
        for call, call_seq, command in calls:
            # The append returns when its entry is first applied after the call.
            returned = next((s for s in applied.get((index, term), ()) if s > call_seq), None)
            operations.append(Operation(
                client=call,  # one client per call: a tester may have many starts in flight
                input=("append", None, hashable(command)),
                output=index,
                call=call_seq,
                ret=returned,
                line=call_seq + 1,
            ))
    operations.sort(key=lambda op: op.call)
    return list(history(operations))


def _raft_operations(events: Iterable[Event], path: str) -> list[Operation]:
    return log_history((event.record for event in events), path)


def _kv_operations(events: Iterable[Event], path: str) -> list[Operation]:
    return kv_history((event.record for event in events), path)


def _shardkv_operations(events: Iterable[Event], path: str) -> list[Operation]:
    return shardkv_history((event.record for event in events), path)


def _shardctrler_operations(events: Iterable[Event], path: str) -> list[Operation]:
    return shardctrler_history((event.record for event in events), path)


VIEWS: dict[str, HistoryView] = {
    "raft": HistoryView(model="log", operations=_raft_operations),
    "kv": HistoryView(model="kv", operations=_kv_operations),  # checker/trace_check/kv_history.py
    # checker/trace_check/shard_history.py
    "shardkv": HistoryView(model="kv", operations=_shardkv_operations),
    "shardctrler": HistoryView(model="shardctrler", operations=_shardctrler_operations),
}


def _field(event: Mapping[str, Any], key: str, kind: type, path: str) -> Any:
    value = event.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadInput(f"{event.get('event')}: {key!r} must be a {kind.__name__}, not "
                       f"{value!r}", path, event.get("seq", 0) + 1)
    return value


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
