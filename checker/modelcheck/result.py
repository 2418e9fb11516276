"""What a model-checking run returns: a verdict with its evidence and its figures."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from checker.modelcheck.model import Model
from checker.verdict import Verdict

ENGINES = ("local", "ray")


@dataclass(frozen=True, kw_only=True)
class Options:
    """How to search; what is searched (bounds, symmetry, engine) is the model's.

    max_depth         stop after this many BFS levels (the initial states are level 1); None:
                      no limit
    max_states        stop once this many distinct states are stored; None: no limit
    time_limit        stop after this many seconds; None: no limit
    workers           partitions exploring in parallel: processes forked here ("local"; 1: in
                      this process) or Ray actors ("ray")
    engine            "local" (this machine's processes) or "ray" (actors of a Ray cluster)
    address           the Ray cluster to join ("ray" only); None: start a local Ray for the run
    batch_size        states a Ray actor expands per call (each call should take ~10 ms or
                      more to pay for itself)
    in_flight         expand calls each Ray actor may have queued or unmerged: back-pressure
    spill_after       a partition keeps at most this many seen fingerprints in a dict and
                      moves the rest to sorted files on disk ("ray" and forked partitions;
                      needs numpy); None: never spill
    spill_dir         where spilled runs go (None: a temporary folder per partition)
    checkpoint        write the search's frontier and seen-sets to this folder at level
                      boundaries (and when a bound cuts the search), for `resume`
    checkpoint_every  seconds between two checkpoints (0: at every level)
    resume            continue the search saved in this folder (a checkpoint of the same
                      model configuration)
    per_node          progress reports carry per-node figures
    """

    max_depth: int | None = None
    max_states: int | None = None
    time_limit: float | None = None
    workers: int = 1
    engine: str = "local"
    address: str | None = None
    batch_size: int = 1000
    in_flight: int = 4
    spill_after: int | None = None
    spill_dir: Path | None = None
    checkpoint: Path | None = None
    checkpoint_every: float = 300.0
    resume: Path | None = None
    per_node: bool = False

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        for name in ("max_depth", "max_states", "spill_after"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.time_limit is not None and self.time_limit <= 0:
            raise ValueError("time_limit must be positive")
        if self.engine not in ENGINES:
            raise ValueError(f"unknown search engine {self.engine!r}; known: {', '.join(ENGINES)}")
        if self.address is not None and self.engine != "ray":
            raise ValueError("an address is for the ray engine only")
        if self.batch_size < 1 or self.in_flight < 1:
            raise ValueError("batch_size and in_flight must be at least 1")
        if self.checkpoint_every < 0:
            raise ValueError("checkpoint_every must be 0 or more")

    @property
    def stable_fingerprints(self) -> bool:
        """Whether fingerprints must be the same in every process, now and later: the search
        crosses interpreters (Ray's workers do not share this one's hash seed) or a file."""
        return self.engine == "ray" or self.checkpoint is not None or self.resume is not None


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
class NodeProgress:
    """One node's share of a running search."""

    node: str
    partitions: int
    distinct: int
    queue: int
    memory: int  # peak resident bytes of its partitions' processes, summed
    cpu: float = 0.0  # CPU seconds its partitions' processes have used, summed


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running search, for the live progress line."""

    generated: int
    distinct: int
    queue: int
    depth: int
    seconds: float
    #: Per node (a Ray node, or this machine's partitions), when asked for: its id and its
    #: own figures (partitions, distinct states stored, queue, resident memory in bytes).
    nodes: tuple[NodeProgress, ...] = ()

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
    #: The depth of the checkpoint this run resumed from (None: it started afresh); `seconds`
    #: counts this run only, the figures the whole search.
    resumed_at: int | None = None
    #: Per node at the end (see `Progress.nodes`), when the search ran on several.
    nodes: tuple[NodeProgress, ...] = ()

    def with_run(
        self, *, resumed_at: int | None, nodes: tuple[NodeProgress, ...]
    ) -> ModelCheckResult:
        """The same result, with how the run went (resumed, on which nodes)."""
        return replace(self, resumed_at=resumed_at, nodes=nodes)
