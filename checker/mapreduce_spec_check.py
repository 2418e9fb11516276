"""Exhaustive breadth-first check of `spec/mapreduce.py` for one small, bounded job.

A deliberately small explorer, written before the generic model checker existed: it enumerates
every reachable state of the spec from its initial states, checks every named invariant on each
state and every step property on each transition, and returns the shortest counterexample (BFS
order) as a list of named actions. It can move onto the generic model checker once that exists;
the spec module is already in the shape it expects (initial states, successors, invariants).

A run that stops at `max_states` before the state space is exhausted is UNKNOWN, never OK.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field, replace

from checker.verdict import Verdict
from spec import mapreduce as spec


@dataclass(frozen=True, slots=True)
class Step:
    action: str  # the action that led here ("initial" for the first state)
    state: spec.State


@dataclass(frozen=True, slots=True)
class SpecCheckResult:
    verdict: Verdict
    config: spec.Config
    states: int
    transitions: int
    depth: int
    seconds: float
    violated: str | None = None
    trace: tuple[Step, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        head = (
            f"{self.verdict.value.upper()}: {self.config.describe()}: {self.states} states, "
            f"{self.transitions} transitions, depth {self.depth}, {self.seconds:.2f} s"
        )
        if self.verdict is Verdict.UNKNOWN:
            return head + " (state bound reached before the space was exhausted)"
        if self.violated is None:
            return head
        lines = [head, f"violated: {self.violated}"]
        for number, step in enumerate(self.trace):
            lines.append(f"  {number:2}. {step.action}")
            lines.append(f"      {spec.describe(self.config, step.state)}")
        return "\n".join(lines)


def check(config: spec.Config, max_states: int = 2_000_000) -> SpecCheckResult:
    started = time.monotonic()
    parent: dict[spec.State, tuple[spec.State | None, str]] = {}
    depth_of: dict[spec.State, int] = {}
    frontier: deque[spec.State] = deque()
    transitions = 0

    def result(
        verdict: Verdict, violated: str | None = None, last: spec.State | None = None
    ) -> SpecCheckResult:
        trace = _trace(parent, last) if last is not None else ()
        return SpecCheckResult(
            verdict=verdict,
            config=config,
            states=len(parent),
            transitions=transitions,
            depth=max(depth_of.values(), default=0),
            seconds=time.monotonic() - started,
            violated=violated,
            trace=trace,
        )

    for state in spec.initial_states(config):
        if state not in parent:
            parent[state] = (None, "initial")
            depth_of[state] = 0
            frontier.append(state)
            if (broken := _broken_invariant(config, state)) is not None:
                return result(Verdict.VIOLATION, broken, state)
    while frontier:
        state = frontier.popleft()
        for action, following in spec.successors(config, state):
            transitions += 1
            for name, holds in spec.STEP_PROPERTIES.items():
                if not holds(config, state, following):
                    found = result(Verdict.VIOLATION, name, state)
                    return replace(found, trace=(*found.trace, Step(action, following)))
            if following in parent:
                continue
            parent[following] = (state, action)
            depth_of[following] = depth_of[state] + 1
            if (broken := _broken_invariant(config, following)) is not None:
                return result(Verdict.VIOLATION, broken, following)
            if len(parent) >= max_states:
                return result(Verdict.UNKNOWN)
            frontier.append(following)
    return result(Verdict.OK)


def _broken_invariant(config: spec.Config, state: spec.State) -> str | None:
    for name, holds in spec.INVARIANTS.items():
        if not holds(config, state):
            return name
    return None


def _trace(
    parent: dict[spec.State, tuple[spec.State | None, str]], last: spec.State
) -> tuple[Step, ...]:
    steps: list[Step] = []
    current: spec.State | None = last
    while current is not None:
        previous, action = parent[current]
        steps.append(Step(action, current))
        current = previous
    return tuple(reversed(steps))


def replay(config: spec.Config, trace: tuple[Step, ...]) -> bool:
    """Re-validate a counterexample: each step must be an action the spec allows (STYLE.md 9)."""
    if not trace or trace[0].state not in spec.initial_states(config):
        return False
    for before, after in itertools.pairwise(trace):
        if (after.action, after.state) not in set(spec.successors(config, before.state)):
            return False
    return True
