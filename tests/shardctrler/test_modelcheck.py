"""`model-check shardctrler`: every Join/Leave/Move sequence over a few gids is explored and
every rebalancing step keeps the properties; a wasteful rule is caught with a shortest,
replayable counterexample."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import deque
from pathlib import Path

from checker.modelcheck import check
from checker.modelcheck.models import ShardCtrlerModel
from checker.modelcheck.trace import replay_holds
from checker.verdict import Verdict
from spec import shardctrler

ROOT = Path(__file__).resolve().parents[2]


def test_every_reachable_configuration_keeps_the_properties() -> None:
    result = check(ShardCtrlerModel())
    assert result.verdict is Verdict.OK
    assert result.reason == "every reachable state explored"
    assert all(result.sometimes.values())


def naive_count(gids: int, shards: int) -> int:
    """Every (shards, groups) reachable from configuration 0, by plain breadth-first search
    over the spec's own operations."""
    start = shardctrler.initial(shards)
    seen = {(start.shards, start.groups)}
    queue = deque([start])
    while queue:
        config = queue.popleft()
        ops: list[shardctrler.Change] = []
        for gid in range(1, gids + 1):
            ops.append(shardctrler.Leave.of([gid]) if gid in config.gids
                       else shardctrler.Join.of({gid: (f"s{gid}",)}))
        ops += [shardctrler.Move(s, g) for s in range(shards) for g in config.gids]
        for op in ops:
            nxt = shardctrler.change(config, op)
            if (nxt.shards, nxt.groups) not in seen:
                seen.add((nxt.shards, nxt.groups))
                queue.append(nxt)
    return len(seen)


def test_the_checker_visits_exactly_the_reachable_configurations() -> None:
    result = check(ShardCtrlerModel(gids=3, shards=6))
    assert result.verdict is Verdict.OK
    assert result.distinct_states == naive_count(3, 6)


def test_joins_and_leaves_alone_over_four_groups() -> None:
    result = check(ShardCtrlerModel(gids=4, moves=False))
    assert result.verdict is Verdict.OK
    assert result.sometimes["EveryGroupPresent"] and not result.sometimes["UnbalancedByMoves"]


def test_a_wasteful_rule_is_caught() -> None:
    model = ShardCtrlerModel(rule="deal")
    result = check(model)
    assert result.verdict is Verdict.VIOLATION
    trace = result.counterexample
    assert trace is not None and trace.invariant == "MinimalMovement"
    assert replay_holds(model, trace)
    assert len(trace.steps) == 3  # Join 1, Join 2 (still minimal by luck), Join 3
    assert not replay_holds(ShardCtrlerModel(), trace)


def test_the_precondition_of_the_join_property_is_needed() -> None:
    """From an unbalanced configuration (made by Moves) a Join may have to give an old group
    shards: the property is stated from balanced configurations, and this shows why."""
    c1 = shardctrler.run([shardctrler.Join.of({1: ("a",), 2: ("b",)})])[-1]
    history = (c1,)
    for shard in range(5):
        history, _ = shardctrler.apply(history, shardctrler.Move(shard, 2))
    unbalanced = history[-1]
    after = shardctrler.change(unbalanced, shardctrler.Join.of({3: ("c",)}))
    assert set(after.shards_of(1)) - set(unbalanced.shards_of(1))  # group 1 gains a shard
    assert shardctrler.minimal_movement(unbalanced, after)


def test_cli_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checker", "model-check", "shardctrler", "--gids", "2",
         "--json"], capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "ok" and out["spec"] == "shardctrler"
    bad = subprocess.run(
        [sys.executable, "-m", "checker", "model-check", "shardctrler", "--gids", "9"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)
    assert bad.returncode == 2
