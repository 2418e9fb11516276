"""What a model-checking run returns: a verdict with its evidence and its figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checker.modelcheck.model import Model
from checker.verdict import Verdict


@dataclass(frozen=True, kw_only=True)
class Options:
    """How to search; what is searched (bounds, symmetry, engine) is the model's.

    max_depth    stop after this many BFS levels (the initial states are level 1); None: no limit
    max_states   stop once this many distinct states are stored; None: no limit
    time_limit   stop after this many seconds; None: no limit
    workers      processes exploring in parallel (1: in this process)
    """

    max_depth: int | None = None
    max_states: int | None = None
    time_limit: float | None = None
    workers: int = 1

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        for name in ("max_depth", "max_states"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.time_limit is not None and self.time_limit <= 0:
            raise ValueError("time_limit must be positive")


@dataclass(frozen=True)
class Step:
    """One step of a counterexample: the action taken and the state it led to."""

    action: Any
    state: Any


@dataclass(frozen=True)
class Counterexample:
    """A shortest behaviour from an initial state to a violation, replayed through the
    model's replay model (the readable spec). `invariant` is violated by the last state (or,
    for a transition invariant such as LeaderAppendOnly, by the last step)."""

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


@dataclass(frozen=True, kw_only=True)
class ModelCheckResult:
    """The outcome. `depth` counts BFS levels as TLC does (a lone initial state is depth 1).
    `reason` says why the verdict is UNKNOWN (which bound cut the search) or which invariant
    was violated. `sometimes` maps each "sometimes" property to whether a state reached it."""

    verdict: Verdict
    model: Model[Any]
    options: Options
    distinct_states: int
    states_generated: int
    depth: int
    seconds: float
    reason: str
    counterexample: Counterexample | None = None
    sometimes: dict[str, bool] = field(default_factory=dict)
