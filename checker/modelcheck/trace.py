"""Counterexamples: rebuilt from fingerprints by replaying the model, re-checked, rendered.

The search keeps only fingerprints and parent links. To report a violation, the path of
fingerprints is replayed through the replay model's successors from an initial state: at each
step the successor whose canonical fingerprint is the next one on the path is taken. The result
is a concrete behaviour of the (readable) spec, not a reconstruction that could disagree with
it, and the violated property is evaluated again, by its definition, before it is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checker.modelcheck.model import Model, fingerprint
from checker.modelcheck.result import Counterexample, Step


@dataclass(frozen=True)
class Violation:
    """Where the search found a violation: a state invariant at the state `fingerprint`, or
    (when `action` is set) a transition invariant on the step `action` from `fingerprint`."""

    invariant: str
    fingerprint: int
    action: Any | None


class ReplayError(AssertionError):
    """The model does not reproduce a path the search reported: a checker bug, never shown as
    a counterexample."""


def rebuild(
    model: Model[Any],
    path: list[int],
    violation: Violation,
    fingerprint: Callable[[Any], int] = fingerprint,
) -> Counterexample:
    """Replay `path` (fingerprints from an initial state, taken with `fingerprint`) and the
    violating step, if any."""

    def fp(state: Any) -> int:
        return fingerprint(model.canonical(state))

    current = next((s for s in model.initial_states() if fp(s) == path[0]), None)
    if current is None:
        raise ReplayError("no initial state has the path's first fingerprint")
    initial = current
    steps: list[Step] = []
    for target in path[1:]:
        found = next(((a, t) for a, t in model.successors(current) if fp(t) == target), None)
        if found is None:
            raise ReplayError(f"replay diverged after {len(steps)} steps")
        steps.append(Step(*found))
        current = found[1]
    if violation.action is not None:
        holds = model.transition_invariants[violation.invariant]
        before = current
        last = next(((a, t) for a, t in model.successors(current) if not holds(before, t)), None)
        if last is None:
            raise ReplayError(f"replayed step does not violate {violation.invariant}")
        steps.append(Step(*last))
    elif model.invariants[violation.invariant](current):
        raise ReplayError(f"replayed state does not violate {violation.invariant}")
    return Counterexample(violation.invariant, initial, tuple(steps))


def replay_holds(model: Model[Any], trace: Counterexample) -> bool:
    """Independent re-check of a counterexample: it starts in an initial state, each step is a
    step of the model, and the end violates the property by its definition. (Tests call this
    on every counterexample the checker reports.)"""
    current = before = trace.initial
    if current not in list(model.initial_states()):
        return False
    for step in trace.steps:
        if (step.action, step.state) not in set(model.successors(current)):
            return False
        before, current = current, step.state
    if trace.invariant in model.transition_invariants:
        holds = model.transition_invariants[trace.invariant]
        return bool(trace.steps) and not holds(before, current)
    return not model.invariants[trace.invariant](current)


# ---------------------------------------------------------------- rendering


def changes(model: Model[Any], before: Any, after: Any) -> dict[str, Any]:
    """Only the variables that changed in a step: per-index ones (lists) as {label: new
    value} for the positions that changed, keyed ones (dicts) as the keys that changed,
    set-valued ones as what was added and removed."""
    old, new = model.variables(before), model.variables(after)
    label = model.index_label
    out: dict[str, Any] = {}
    for name, value in new.items():
        if value == old[name]:
            continue
        if name in model.set_variables:
            sent = sorted(set(value) - set(old[name]))
            gone = sorted(set(old[name]) - set(value))
            out[name] = {"+": sent, "-": gone}
        elif isinstance(value, dict) and isinstance(old[name], dict):
            out[name] = {k: v for k, v in value.items() if old[name].get(k) != v}
        elif isinstance(value, list) and len(value) == len(old[name]):
            out[name] = {
                f"{label}{i}": v
                for i, (v, w) in enumerate(zip(value, old[name], strict=True))
                if v != w
            }
        else:
            out[name] = value
    return out


def to_itf(model: Model[Any], trace: Counterexample) -> dict[str, Any]:
    """The counterexample as ITF (the Informal Trace Format of Apalache and Quint): a
    `#meta` object, the variable names, and one object per state; the action taken to reach
    each state is recorded in the state's `action` field (a string), `#meta.index` its place.
    The variables keep the model's own names (`Model.variables`; for Raft the spec's, not
    raft.tla's `currentTerm`...): ITF allows any, and one vocabulary is read more easily than
    two (docs/vocabulary.md)."""
    names = list(model.variables(trace.initial))

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
    actions = ["Init", *(model.describe_action(s.action) for s in trace.steps)]
    for index, (state, action) in enumerate(zip(trace.states, actions, strict=True)):
        record = {"#meta": {"index": index}, "action": action}
        record.update({k: itf_value(v) for k, v in model.variables(state).items()})
        states.append(record)
    return {
        "#meta": {
            "format": "ITF",
            "source": f"dscheck model-check {model.name}",
            "description": f"counterexample to {trace.invariant}",
            "config": model.summary()["config"],
        },
        "vars": ["action", *names],
        "states": states,
    }
