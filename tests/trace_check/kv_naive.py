"""A naive twin of the incremental KV trace judge (checker/trace_check/kv.py): after every
event it rebuilds the whole spec state from everything read so far and evaluates every
property on every instance with the spec's plain view (`spec.kv.StateView`: the log replayed
from index 1 for each lookup). Slow, and obviously right."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from impl.kv.node import store_digest
from spec import kv
from spec.kv import Call, Dup, Effect, Machine, Op, Store

STATE_EVENTS = ("receive", "timer", "restart", "return", "durable")


class NaiveView(kv.StateView):
    """The spec's own view, with `first_at` from what the trace showed (a trace records a
    server's state only after whole steps, not at every index)."""

    def __init__(self, state: kv.State, first: dict[int, tuple[Store | str, Dup]]) -> None:
        super().__init__(kv.Config(), state)
        self.first = first

    def first_at(self, index: int) -> tuple[Store | str, Dup] | None:
        return self.first.get(index)

    def clerk_ids(self) -> Iterable[int]:
        return {call.op.clerk for call in self.state.calls}


def naive_first_violations(records: list[dict[str, Any]]) -> dict[str, int]:
    """For each KV property, the first line (1-based, the header is line 1) after which the
    state read so far breaks it."""
    log: dict[int, Op] = {}
    first: dict[int, tuple[Store | str, Dup]] = {0: (store_digest({}), ())}
    machines: dict[int, Machine] = {}
    calls: dict[tuple[int, int], Call] = {}
    call_ids: dict[int, tuple[int, int]] = {}
    effects: set[Effect] = set()
    max_commit = 0
    found: dict[str, int] = {}
    for line, r in enumerate(records[1:], start=2):
        event, node = r["event"], r["node"]
        if isinstance(node, int):
            if event in STATE_EVENTS and "state" in r:
                state = r["state"]
                max_commit = max(max_commit, state["commit_index"])
                s = state["kv"]
                dup = tuple(sorted((int(c), q) for c, q in s["dup"].items()))
                machines[node] = Machine(s["applied"], s["digest"], dup)
                first.setdefault(s["applied"], (s["digest"], dup))
            elif event == "crash":
                machines.pop(node, None)
            elif event == "apply" and r["kind"] == "command":
                op = Op(*r["command"])
                log.setdefault(r["index"], op)
                if op.kind != kv.NOOP:
                    effects.add(Effect(op.clerk, op.seq, r["index"], r["executed"]))
            elif event == "read":
                op = Op(*r["command"])
                effects.add(Effect(op.clerk, op.seq, r["index"], False, read=True))
        elif event == "invoke" and r["op"]["type"] in kv.CALL_KINDS:
            o = r["op"]
            op = Op(o["type"], o["key"], o.get("value"), o["clerk"], o["seq"])
            calls[(op.clerk, op.seq)] = Call(op, fresh=max_commit)
            call_ids[r["call"]] = (op.clerk, op.seq)
        elif event == "return" and r["call"] in call_ids:
            ident = call_ids.pop(r["call"])
            call = calls[ident]
            value = (r["output"] or {}).get("value") if call.op.kind == kv.GET else None
            calls[ident] = Call(call.op, call.fresh, True, value)
        contiguous = []
        while len(contiguous) + 1 in log:
            contiguous.append(log[len(contiguous) + 1])
        whole = kv.State(log=tuple(contiguous), replicas=tuple(machines.values()), clerks=(),
                         replies=frozenset(), seen=(), calls=tuple(calls.values()),
                         effects=frozenset(effects))
        view = NaiveView(whole, first)
        for inv in kv.PROPERTIES:
            if inv.name in found:
                continue
            subjects = whole.replicas if inv.scope == "replica" else whole.calls
            if not all(inv.holds(view, subject) for subject in subjects):
                found[inv.name] = line
    return found
