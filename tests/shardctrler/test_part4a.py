"""Part 4A — the shard controller: the 11 sub-tests of the lab's TestBasic and TestMulti
(scenarios §5.3–5.4), each a test of its own named after it.

Each test plays its Go test function on the simulator up to and including that sub-test
(the sub-tests build on each other) under three seeds; the lab's checks
(impl/shardctrler/labtester.py, impl/shardctrler/scenarios.py) raise on failure, and the
clerks' history is audited for linearizability against the controller's spec. The two
pairs of "minimal transfers" sub-tests check the intended property, which the Go versions
never reach (their loops name absent groups). `pytest -k 4A` runs the part; `--campaign`
adds fifty more seeds per sub-test.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from checker.linearizability import render_text
from checker.shardctrler.audit import audit
from checker.trace_check import check_trace
from checker.verdict import Verdict
from impl.shardctrler.scenarios import BY_NAME, SCENARIOS, CtrlRun
from impl.trace import TraceWriter

DEFAULT_SEEDS = (1, 2, 3)
CAMPAIGN_SEEDS = tuple(range(4, 54))
seeds = pytest.mark.parametrize("seed", DEFAULT_SEEDS)


def play(name: str, seed: int) -> CtrlRun:
    """Run sub-test `name` under `seed`; its pass line is the run's last. The clerks' whole
    history is then audited against the controller's spec, one call at a time: it must be
    linearizable (no time-out: UNKNOWN would fail). Its trace must check clean: the
    controller's Raft invariants, and its properties (configurations in order, each Join and
    Leave balanced and minimal)."""
    scenario = BY_NAME[name]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.jsonl"
        with path.open("w", encoding="utf-8") as stream:
            run = scenario.run(seed, TraceWriter(stream))
        checked = check_trace(path)
    assert checked.verdict is Verdict.OK, f"{name} seed {seed}: trace " + "; ".join(
        f"{v.invariant} at line {v.line}: {v.detail}" for v in checked.violations)
    assert run.summaries[-1].title == scenario.title
    result = audit(run.tester.history)
    assert result.verdict is Verdict.OK, f"{name} seed {seed}:\n" + render_text(result.result)
    return run


@seeds
def test_basic_leave_join_4A(seed: int) -> None:
    """TestBasic: Basic leave/join."""
    play("basic_leave_join_4A", seed)


@seeds
def test_historical_queries_4A(seed: int) -> None:
    """TestBasic: Historical queries (every server shut down in turn)."""
    play("historical_queries_4A", seed)


@seeds
def test_move_4A(seed: int) -> None:
    """TestBasic: Move."""
    play("move_4A", seed)


@seeds
def test_concurrent_leave_join_4A(seed: int) -> None:
    """TestBasic: Concurrent leave/join (10 clerks)."""
    play("concurrent_leave_join_4A", seed)


@seeds
def test_minimal_transfers_after_joins_4A(seed: int) -> None:
    """TestBasic: Minimal transfers after joins (the intended property)."""
    play("minimal_transfers_after_joins_4A", seed)


@seeds
def test_minimal_transfers_after_leaves_4A(seed: int) -> None:
    """TestBasic: Minimal transfers after leaves (the intended property)."""
    play("minimal_transfers_after_leaves_4A", seed)


@seeds
def test_multi_group_join_leave_4A(seed: int) -> None:
    """TestMulti: Multi-group join/leave."""
    play("multi_group_join_leave_4A", seed)


@seeds
def test_concurrent_multi_leave_join_4A(seed: int) -> None:
    """TestMulti: Concurrent multi leave/join (10 clerks)."""
    play("concurrent_multi_leave_join_4A", seed)


@seeds
def test_minimal_transfers_after_multijoins_4A(seed: int) -> None:
    """TestMulti: Minimal transfers after multijoins (the intended property)."""
    play("minimal_transfers_after_multijoins_4A", seed)


@seeds
def test_minimal_transfers_after_multileaves_4A(seed: int) -> None:
    """TestMulti: Minimal transfers after multileaves (the intended property)."""
    play("minimal_transfers_after_multileaves_4A", seed)


@seeds
def test_check_same_config_on_servers_4A(seed: int) -> None:
    """TestMulti: Check Same config on servers (the leader shut down)."""
    run = play("check_same_config_on_servers_4A", seed)
    assert [s.title for s in run.summaries] == [
        "Test: Multi-group join/leave", "Test: Concurrent multi leave/join",
        "Test: Minimal transfers after multijoins", "Test: Minimal transfers after multileaves",
        "Test: Check Same config on servers"]


def test_there_are_eleven_sub_tests_each_tested_here() -> None:
    names = {s.name for s in SCENARIOS}
    assert len(names) == 11
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")
              and name.endswith("_4A")}
    assert names <= tested


@pytest.mark.campaign
@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_4A(name: str, seed: int) -> None:
    play(name, seed)
