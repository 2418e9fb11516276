"""The key/value service's spec (`spec/kv.py`) as a model for the one search.

States are the spec's frozen dataclasses, stored as they are: no symmetry (clerks make
different calls; replicas are few). The spec's properties take the configuration first; the
model binds it once. ReadServed is a "sometimes" property only when reads use ReadIndex.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from checker.modelcheck.model import Model
from spec import kv as spec


@dataclass(frozen=True, kw_only=True, eq=False)
class KVModel(Model[spec.State]):
    """`spec.kv` bounded by `config` (`spec.kv.Config`, validated there)."""

    config: spec.Config = field(default_factory=spec.Config)

    name = "kv"
    index_label = "s"
    set_variables = frozenset({"replies", "effects"})

    def __post_init__(self) -> None:
        c = self.config
        sometimes = {name: holds for name, holds in spec.SOMETIMES.items()
                     if c.read_index or name != "ReadServed"}
        object.__setattr__(self, "invariants", _bound(spec.INVARIANTS, c))
        object.__setattr__(self, "sometimes", _bound(sometimes, c))

    def initial_states(self) -> list[spec.State]:
        return spec.initial_states(self.config)

    def successors(self, state: spec.State) -> Iterator[tuple[str, spec.State]]:
        return spec.successors(self.config, state)

    def variables(self, state: spec.State) -> dict[str, Any]:
        return variables(state)

    def describe_initial(self, state: spec.State) -> str:
        return "Init: every replica empty at index 0, the log empty, no call made"

    def bounds_text(self) -> str:
        return self.config.describe()

    def summary(self) -> dict[str, Any]:
        c = self.config
        return {
            "spec": "kv",
            "config": {
                "replicas": c.replicas,
                "calls": [[list(call) for call in calls] for calls in c.calls],
                "max_log": c.max_log,
                "read_index": c.read_index,
                "snapshots": c.snapshots,
                "bugs": sorted(c.bugs),
            },
        }


def variables(state: spec.State) -> dict[str, Any]:
    """The state as named plain-JSON variables: the committed log, per replica its applied
    index, store and duplicate table, per clerk its call, the answers in flight, and the
    history (calls returned, where calls took effect)."""
    return {
        "log": [op.describe() for op in state.log],
        "applied": [m.applied for m in state.replicas],
        "store": [spec.describe_store(m.store) for m in state.replicas],
        "dup": [_dup(m.dup) for m in state.replicas],
        "clerks": {f"c{i}": f"#{c.seq}" + (" pending" if c.pending else "")
                   + (f" read index {c.read_index}" if c.read_index >= 0 else "")
                   for i, c in enumerate(state.clerks)},
        "replies": sorted(_reply(r) for r in state.replies),
        "returned": [f"c{call.op.clerk}.{call.op.seq}"
                     + ("" if call.output is None else f" {call.output!r}")
                     for call in state.calls if call.returned],
        "effects": sorted(_effect(e) for e in state.effects),
    }


def _dup(dup: spec.Dup) -> str:
    return "(" + " ".join(f"c{c}:{q}" for c, q in dup) + ")"


def _reply(r: spec.Reply) -> str:
    shown = "" if r.output is None else f" {r.output!r}"
    return f"c{r.clerk}.{r.seq}{shown} from {r.index}"


def _effect(e: spec.Effect) -> str:
    how = "read" if e.read else ("executed" if e.executed else "duplicate")
    return f"c{e.clerk}.{e.seq} {how} at {e.index}"


def _bound(
    properties: dict[str, Callable[..., bool]], config: spec.Config
) -> dict[str, Callable[..., bool]]:
    return {name: partial(holds, config) for name, holds in properties.items()}
