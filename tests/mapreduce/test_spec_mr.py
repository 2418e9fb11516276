"""The coordinator's spec: exhaustive checks for small jobs, mutants caught, and the core
conforming to the spec step by step."""

from __future__ import annotations

import random

import pytest

from checker.modelcheck import ModelCheckResult, Options, check
from checker.modelcheck.models import MapReduceModel
from checker.modelcheck.trace import replay_holds
from checker.verdict import Verdict
from impl.mapreduce.core import (
    Commit,
    CoordinatorCore,
    MapAssignment,
    ReduceAssignment,
    TaskState,
)
from spec import mapreduce as spec


def check_job(config: spec.Config, **options: int) -> ModelCheckResult:
    """The one model checker, on the coordinator's spec for `config`."""
    return check(MapReduceModel(config=config), Options(**options))


@pytest.mark.parametrize(
    "config",
    [spec.Config(1, 1, 1, 2), spec.Config(2, 1, 2, 2), spec.Config(2, 2, 2, 2)],
    ids=lambda c: c.describe(),
)
def test_invariants_hold_in_every_reachable_state_mr(config: spec.Config) -> None:
    result = check_job(config)
    assert result.verdict is Verdict.OK, result.reason
    assert result.distinct_states > 1 and result.counterexample is None
    assert result.sometimes == {"the job finishes": True}


def test_the_default_job_has_the_specs_own_state_count_mr() -> None:
    """No symmetry, no abstraction: the generic search stores exactly the spec's states
    (19,831, the figure of the spec's own breadth-first search before it moved here)."""
    result = check_job(spec.Config())
    assert (result.verdict, result.distinct_states) == (Verdict.OK, 19_831)


@pytest.mark.campaign
@pytest.mark.parametrize(
    "config",
    [spec.Config(2, 2, 3, 2), spec.Config(2, 2, 2, 3), spec.Config(3, 2, 2, 2)],
    ids=lambda c: c.describe(),
)
def test_invariants_hold_for_larger_jobs_mr(config: spec.Config) -> None:
    assert check_job(config).verdict is Verdict.OK


@pytest.mark.parametrize(
    ("mutation", "violated"),
    [
        ("commit_every_report", "exactly one completed map execution"),
        ("reduce_before_maps_done", "each reduce output reflects exactly one"),
        ("done_when_reduces_issued", "done implies every output is final"),
    ],
)
def test_each_mutant_is_caught_with_a_replayable_trace_mr(
    mutation: spec.Mutation, violated: str
) -> None:
    config = spec.Config(2, 2, 2, 2, mutation)
    model = MapReduceModel(config=config)
    result = check(model)
    assert result.verdict is Verdict.VIOLATION
    cex = result.counterexample
    assert cex is not None and violated in cex.invariant
    assert replay_holds(model, cex)
    # The shortest counterexample: BFS returns the first violating state at its least depth.
    assert len(cex.steps) <= 8


def test_reduce_output_mutant_alone_violates_the_reduce_invariant_mr() -> None:
    """With one map task, overwriting is visible on the reduce output itself."""
    result = check_job(spec.Config(1, 1, 2, 2, "commit_every_report"))
    assert result.verdict is Verdict.VIOLATION


def test_state_bound_gives_unknown_never_ok_mr() -> None:
    result = check_job(spec.Config(2, 2, 2, 2), max_states=50)
    assert result.verdict is Verdict.UNKNOWN


def take(config: spec.Config, prefix: str, current: spec.State) -> spec.State:
    """The spec's successor by the action named `prefix`; fails if the spec does not allow it."""
    matches = [s for a, s in spec.successors(config, current) if a.startswith(prefix)]
    assert matches, (prefix, spec.describe(config, current))
    return matches[0]


def test_core_conforms_to_the_spec_mr() -> None:
    """Drive the real core with random schedules; every step must be a step of the spec."""
    config = spec.Config(n_map=2, n_reduce=2, n_workers=3, max_attempts=10**6)
    finished = reissued = 0
    for seed in range(100):
        rng = random.Random(seed)
        core = CoordinatorCore(["a", "b"], 2, task_timeout=5.0)
        state = spec.initial_states(config)[0]
        now = 0.0
        held: dict[int, MapAssignment | ReduceAssignment] = {}

        for _ in range(300):
            now += rng.choice([0.0, 1.0, 5.0])
            worker = rng.randrange(config.n_workers)
            if worker in held:
                assignment = held.pop(worker)
                kind = "map" if isinstance(assignment, MapAssignment) else "reduce"
                name = f"{kind}{assignment.task}#{assignment.attempt}"
                if rng.random() < 0.2:
                    state = take(config, f"worker {worker} crashes", state)
                    continue
                state = take(config, f"worker {worker} executes {name}", state)
                decision = core.complete(kind, assignment.task, assignment.attempt)
                outcome = "committed" if isinstance(decision, Commit) else "discarded"
                state = take(config, f"worker {worker} reports {name}: {outcome}", state)
            else:
                before = {(k, t): core.state_of(k, t) for k in ("map", "reduce") for t in range(2)}
                reply = core.request(now)
                # The core expires overdue tasks lazily, on a request: the spec's timeouts.
                for (kind, task), was in before.items():
                    if was is TaskState.IN_PROGRESS:
                        expired = core.state_of(kind, task) is not TaskState.IN_PROGRESS or (
                            isinstance(reply, MapAssignment | ReduceAssignment)
                            and reply.task == task
                            and (kind == "map") == isinstance(reply, MapAssignment)
                        )
                        if expired:
                            state = take(config, f"{kind}{task} times out", state)
                if isinstance(reply, MapAssignment | ReduceAssignment):
                    kind = "map" if isinstance(reply, MapAssignment) else "reduce"
                    state = take(
                        config, f"worker {worker} gets {kind}{reply.task}#{reply.attempt}", state
                    )
                    held[worker] = reply
            for name, holds in spec.INVARIANTS.items():
                assert holds(config, state), (seed, name)
            assert state.done == core.done
        finished += core.done
        reissued += core.progress().reissued > 0
    # The schedules exercised what matters: whole jobs, and re-issued tasks.
    assert finished >= 50 and reissued >= 50, (finished, reissued)
