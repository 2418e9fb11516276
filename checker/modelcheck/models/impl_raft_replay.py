"""A counterexample of the Raft cores, confirmed on the simulator before it is reported.

The search's counterexample is a path of the model's states; its actions are the cores' own
events. `to_schedule` writes them as a `steps` schedule (`impl.sim.schedule`), which
`dscheck sim raft --schedule FILE` plays; `confirm` plays it here on the simulator (the
real `RaftNode` drivers, persisters and trace writer) and checks that after every step the
cluster is exactly the model's state: every core, what every server persisted, what every
service holds, and the messages in flight. The trace that run records is the counterexample
as `dscheck check-trace` reads it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from checker.modelcheck.models import impl_raft_state as st
from checker.modelcheck.models.impl_raft import Event, ImplRaftModel
from checker.modelcheck.result import Counterexample
from impl.raft.scenarios.scripted import Observation, StepsRun, play_steps
from impl.sim.schedule import Schedule, wire_json


class ReplayMismatch(AssertionError):
    """The simulator did not reproduce the model's counterexample: a checker bug, never
    reported as a finding."""


def to_schedule(model: ImplRaftModel, trace: Counterexample) -> Schedule:
    steps = [_step(step.action) for step in trace.steps]
    return Schedule(kind="steps", servers=model.config.servers,
                    bugs=tuple(sorted(model.config.bugs)), items=tuple(steps))


def _step(event: Event) -> dict[str, Any]:
    if event.message is not None:
        m = event.message
        wire = wire_json(st.unpack_message(m).wire())
        return {"op": event.kind.lower(), "from": m[1], "to": m[2], "msg": wire}
    if event.kind == "Timer":
        return {"op": "timer", "node": event.node, "timer": event.arg}
    if event.kind == "Start":
        return {"op": "start", "node": event.node, "command": event.arg}
    if event.kind == "Snapshot":
        return {"op": "snapshot", "node": event.node, "index": event.arg}
    return {"op": event.kind.lower(), "node": event.node}


def confirm(model: ImplRaftModel, trace: Counterexample) -> tuple[Schedule, StepsRun]:
    """Play the counterexample on the simulator; ReplayMismatch at the first step whose
    outcome differs from the model's state."""
    schedule = to_schedule(model, trace)
    run = play_steps(schedule)
    for k, (state, seen) in enumerate(zip(trace.states, run.observations, strict=True)):
        difference = _difference(model, state, seen)
        if difference:
            where = "the initial state" if k == 0 else f"step {k} ({trace.steps[k - 1].action})"
            raise ReplayMismatch(f"the simulator differs from the model after {where}: "
                                 f"{difference}")
    return schedule, run


def _difference(model: ImplRaftModel, state: st.Packed, seen: Observation) -> str:
    n, reduce = model.config.servers, model.config.reduce
    for i, server in enumerate(state[0]):
        image = seen.cores[i]
        core = () if image is None else st.pack_core(image, n, reduce)
        if core != server[0]:
            return f"server {i}'s core"
        hard, data = seen.persisted[i]
        persisted = st.FRESH_PERSISTED if hard is None else st.pack_hard(hard, data)
        if persisted != server[2]:
            return f"what server {i} persisted"
        if seen.applied[i] != server[3] or int(seen.gaps[i]) != server[4]:
            return f"what server {i}'s service holds"
    bag = Counter(st.pack_message(src, dst, m) for src, dst, m in seen.in_flight)
    if tuple(sorted(bag.items())) != state[1]:
        return "the messages in flight"
    return ""
