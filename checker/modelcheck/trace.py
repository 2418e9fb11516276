"""Counterexamples: rebuilt from fingerprints by replaying the spec, re-checked, rendered.

The search keeps only fingerprints and parent links. To report a violation, the path of
fingerprints is replayed through `spec.raft.successors` from an initial state: at each step
the successor whose canonical fingerprint is the next one on the path is taken. The result is
a concrete behaviour of the spec (not a reconstruction that could disagree with it), and the
violated invariant is evaluated again on it before it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checker.modelcheck.encoding import fingerprint
from checker.modelcheck.model import Model
from checker.modelcheck.result import Counterexample, Step
from spec.raft import (
    INVARIANTS,
    TRANSITION_INVARIANTS,
    Action,
    Config,
    Entry,
    Snapshot,
    describe_message,
    initial_states,
    successors,
)
from spec.raft_tla import TlaState, as_raft_state


@dataclass(frozen=True)
class Violation:
    """Where the search found a violation: a state invariant at the state `fingerprint`, or
    (when `action` is set) a transition invariant on the step `action` from `fingerprint`."""

    invariant: str
    fingerprint: int
    action: Action | None


class ReplayError(AssertionError):
    """The spec does not reproduce a path the search reported: a checker bug, never shown as
    a counterexample."""


def rebuild(
    config: Config, model: Model, symmetry: bool, path: list[int], violation: Violation
) -> Counterexample:
    """Replay `path` (fingerprints from an initial state) and the violating step, if any."""
    successors = model.successors

    def fp(state: Any) -> int:
        return fingerprint(model.canonical(state, symmetry))

    current = next((s for s in model.initial_states(config) if fp(s) == path[0]), None)
    if current is None:
        raise ReplayError("no initial state has the path's first fingerprint")
    initial = current
    steps: list[Step] = []
    for target in path[1:]:
        found = next(((a, t) for a, t in successors(current, config) if fp(t) == target), None)
        if found is None:
            raise ReplayError(f"replay diverged after {len(steps)} steps")
        steps.append(Step(*found))
        current = found[1]
    if violation.action is not None:
        holds = TRANSITION_INVARIANTS[violation.invariant]
        before = as_raft(current)
        last = next(
            ((a, t) for a, t in successors(current, config) if not holds(before, as_raft(t))), None
        )
        if last is None:
            raise ReplayError(f"replayed step does not violate {violation.invariant}")
        steps.append(Step(*last))
    elif INVARIANTS[violation.invariant](as_raft(current)):
        raise ReplayError(f"replayed state does not violate {violation.invariant}")
    return Counterexample(violation.invariant, initial, tuple(steps))


def replay_holds(config: Config, trace: Counterexample) -> bool:
    """Independent re-check of a counterexample: each step is a step of the spec, and the end
    violates the invariant. (Tests call this on every counterexample the checker reports.)"""
    current = before = trace.initial
    if current not in initial_states(config):
        return False
    for step in trace.steps:
        if (step.action, step.state) not in set(successors(current, config)):
            return False
        before, current = current, step.state
    if trace.invariant in TRANSITION_INVARIANTS:
        return bool(trace.steps) and not TRANSITION_INVARIANTS[trace.invariant](before, current)
    return not INVARIANTS[trace.invariant](current)


# ---------------------------------------------------------------- rendering


def as_raft(state: Any) -> Any:
    """A raft.tla-mode state as its `spec.raft.State` view; a `spec.raft.State` as itself."""
    return as_raft_state(state) if isinstance(state, TlaState) else state


def variables(state: Any) -> dict[str, Any]:
    """The state as named variables of plain JSON values (per-server ones as lists by id),
    under the spec's own names (docs/vocabulary.md); they are also the ITF variables. A
    raft.tla-mode state is shown through its `spec.raft.State` view."""
    state = as_raft(state)
    return {
        "term": list(state.term),
        "role": [r.name.lower() for r in state.role],
        "voted_for": list(state.voted_for),
        "log": [[_entry(e) for e in log] for log in state.log],
        "snapshot": [_snapshot(s) for s in state.snapshot],
        "commit_index": list(state.commit_index),
        "votes_responded": [sorted(v) for v in state.votes_responded],
        "votes_granted": [sorted(v) for v in state.votes_granted],
        "next_index": [list(r) for r in state.next_index],
        "match_index": [list(r) for r in state.match_index],
        "network": sorted(describe_message(m) for m in state.network),
        "restarts": state.restarts,
    }


def _entry(e: Entry) -> str:
    return f"t{e.term}:v{e.value}"


def _snapshot(s: Snapshot) -> dict[str, Any]:
    return {"index": s.index, "term": s.term, "values": list(s.values)}


def changes(before: Any, after: Any) -> dict[str, Any]:
    """Only the variables that changed in a step; per-server ones as {server: new value}."""
    old, new = variables(before), variables(after)
    out: dict[str, Any] = {}
    for name, value in new.items():
        if value == old[name]:
            continue
        if isinstance(value, list) and name != "network":
            out[name] = {
                f"s{i}": v for i, (v, w) in enumerate(zip(value, old[name], strict=True)) if v != w
            }
        elif name == "network":
            sent = sorted(set(value) - set(old[name]))
            gone = sorted(set(old[name]) - set(value))
            out[name] = {"+": sent, "-": gone}
        else:
            out[name] = value
    return out


def to_itf(trace: Counterexample, config: Config) -> dict[str, Any]:
    """The counterexample as ITF (the Informal Trace Format of Apalache and Quint): a
    `#meta` object, the variable names, and one object per state; the action taken to reach
    each state is recorded in the state's `action` field (a string), `#meta.index` its place.
    The variables keep the spec's names (`variables`), not raft.tla's (`currentTerm`, ...):
    ITF allows any, and one vocabulary is read more easily than two (docs/vocabulary.md maps
    them)."""
    names = list(variables(trace.initial))

    def itf_value(v: Any) -> Any:
        if isinstance(v, (bool, str)) or v is None:
            return v if v is not None else "None"
        if isinstance(v, int):
            return {"#bigint": str(v)}
        if isinstance(v, list):
            return [itf_value(x) for x in v]
        if isinstance(v, dict):
            return {k: itf_value(x) for k, x in v.items()}
        raise TypeError(type(v))  # pragma: no cover

    states = []
    actions = ["Init", *(str(s.action) for s in trace.steps)]
    for index, (state, action) in enumerate(zip(trace.states, actions, strict=True)):
        record = {"#meta": {"index": index}, "action": action}
        record.update({k: itf_value(v) for k, v in variables(state).items()})
        states.append(record)
    return {
        "#meta": {
            "format": "ITF",
            "source": "dscheck model-check raft",
            "description": f"counterexample to {trace.invariant}",
            "config": {
                "servers": config.servers,
                "max_term": config.max_term,
                "max_log": config.max_log,
                "bugs": sorted(config.bugs),
            },
        },
        "vars": ["action", *names],
        "states": states,
    }
