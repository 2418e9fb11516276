"""Every bug flag is found, with a shortest counterexample that replays through the spec."""

from __future__ import annotations

import json

import pytest

from checker.modelcheck import Options, check
from checker.modelcheck.models import RaftModel
from checker.modelcheck.trace import replay_holds, to_itf
from checker.verdict import Verdict
from spec import raft
from tests.modelcheck.naive import naive_search

# The smallest bounds (found by trying) at which each flag shows; the CLI defaults are larger.
SMALLEST = {
    "no-step-down": dict(max_term=2),
    "unpersisted-vote": dict(max_term=1, max_restarts=1),
    "vote-without-log-check": dict(max_term=2),
    "stale-append-truncates": dict(max_term=1),
    "figure8-commit": dict(max_term=3, max_messages=1),
}


def test_every_flag_has_a_test() -> None:
    assert set(SMALLEST) == set(raft.BUGS)


@pytest.mark.parametrize("bug", sorted(SMALLEST))
def test_bug_gives_a_counterexample_that_replays(bug: str) -> None:
    config = raft.Config(servers=3, bugs=frozenset({bug}), **SMALLEST[bug])  # type: ignore[arg-type]
    model = RaftModel(config=config)
    result = check(model)
    assert result.verdict is Verdict.VIOLATION
    trace = result.counterexample
    assert trace is not None
    assert replay_holds(model, trace)
    # The same steps are harmless without the bug: the flag is what breaks the invariant.
    clean = raft.Config(servers=3, **SMALLEST[bug])  # type: ignore[arg-type]
    assert not replay_holds(RaftModel(config=clean), trace)
    itf = json.loads(json.dumps(to_itf(model, trace)))
    assert len(itf["states"]) == len(trace.steps) + 1


@pytest.mark.parametrize("bug", ["no-step-down", "unpersisted-vote", "stale-append-truncates"])
def test_counterexample_is_shortest(bug: str) -> None:
    config = raft.Config(servers=3, bugs=frozenset({bug}), **SMALLEST[bug])  # type: ignore[arg-type]
    _, least = naive_search(config, stop_at_violation=True)
    result = check(RaftModel(config=config))
    assert result.counterexample is not None
    assert least is not None and len(result.counterexample.steps) == least


def test_correct_spec_checks_clean_at_the_figure8_bounds() -> None:
    config = raft.Config(servers=3, **SMALLEST["figure8-commit"])  # type: ignore[arg-type]
    assert check(RaftModel(config=config)).verdict is Verdict.OK


def test_parallel_search_finds_and_replays_a_bug() -> None:
    config = raft.Config(
        servers=3, bugs=frozenset({"unpersisted-vote"}), max_term=1, max_restarts=1
    )
    model = RaftModel(config=config)
    result = check(model, Options(workers=2))
    assert result.verdict is Verdict.VIOLATION
    assert result.counterexample is not None and replay_holds(model, result.counterexample)


@pytest.mark.campaign
@pytest.mark.parametrize("bug", sorted(SMALLEST))
def test_bug_found_at_the_cli_defaults(bug: str) -> None:
    restarts = 1 if bug == "unpersisted-vote" else 0
    config = raft.Config(bugs=frozenset({bug}), max_restarts=restarts)
    assert check(RaftModel(config=config)).verdict is Verdict.VIOLATION


@pytest.mark.campaign
def test_correct_spec_is_clean_at_the_cli_defaults() -> None:
    assert check(RaftModel(config=raft.Config())).verdict is Verdict.OK
