"""What a model-checking run returns: a verdict with its evidence and its figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checker.verdict import Verdict
from spec.raft import Action, Config


@dataclass(frozen=True)
class Options:
    """How to search (the model's bounds are in `spec.raft.Config`).

    max_depth    stop after this many BFS levels (the initial states are level 1); None: no limit
    max_states   stop once this many distinct states are stored; None: no limit
    time_limit   stop after this many seconds; None: no limit
    symmetry     keep one state per orbit of server-id renamings
    workers      processes exploring in parallel (1: in this process)
    model        which spec: "raft" (spec.raft) or "raft-tla" / "raft-tla-clean-bag"
                 (spec.raft_tla, raft.tla's semantics; see checker.modelcheck.model)
    engine       "spec" (the readable spec's functions), "packed" (raft-tla only: the same
                 relation specialised to packed states) or "auto" (packed where it exists)
    """

    max_depth: int | None = None
    max_states: int | None = None
    time_limit: float | None = None
    symmetry: bool = True
    workers: int = 1
    model: str = "raft"
    engine: str = "auto"


@dataclass(frozen=True)
class Step:
    """One step of a counterexample: the action taken and the state it led to."""

    action: Action
    state: Any  # a spec.raft.State (or a spec.raft_tla.TlaState in raft.tla mode)


@dataclass(frozen=True)
class Counterexample:
    """A shortest behaviour from an initial state to a violation, replayed through the spec.
    `invariant` is violated by the last state (or, for a transition invariant such as
    LeaderAppendOnly, by the last step)."""

    invariant: str
    initial: Any
    steps: tuple[Step, ...]

    @property
    def states(self) -> list[Any]:
        return [self.initial, *(s.state for s in self.steps)]


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running search, for the live progress line."""

    generated: int
    distinct: int
    queue: int
    depth: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.distinct / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ModelCheckResult:
    """The outcome. `depth` counts BFS levels as TLC does (a lone initial state is depth 1).
    `reason` says why the verdict is UNKNOWN (which bound cut the search) or which invariant
    was violated. `sometimes` maps each "sometimes" property to whether a state reached it."""

    verdict: Verdict
    config: Config
    options: Options
    distinct_states: int
    states_generated: int
    depth: int
    seconds: float
    reason: str
    counterexample: Counterexample | None = None
    sometimes: dict[str, bool] = field(default_factory=dict)
