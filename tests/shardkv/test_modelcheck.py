"""`model-check shardkv`: the correct spec is exhausted clean at the default bounds with every
"sometimes" property reached; each bug flag is found with a shortest counterexample (a naive
search agrees on its length) that replays through the spec and is harmless without the flag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.modelcheck import Options, check
from checker.modelcheck.models import ShardKVModel
from checker.modelcheck.trace import replay_holds, to_itf
from checker.verdict import Verdict
from spec import shardkv
from tests.shardkv.naive import naive_search

ROOT = Path(__file__).resolve().parents[2]

# The property each flag breaks first at the default bounds.
BROKEN = {
    "serve-after-handoff": "AtMostOneServer",
    "dup-table-not-migrated": "NoCallAppliedTwice",
    "unordered-configs": "ConfigurationsInOrder",
    "delete-before-install": "NoAckedWriteLost",
    "volatile-dup-table": "NoCallAppliedTwice",
}


def test_every_flag_has_a_test() -> None:
    assert set(BROKEN) == set(shardkv.BUGS)


def test_correct_spec_is_exhausted_clean_at_the_default_bounds() -> None:
    result = check(ShardKVModel())
    assert result.verdict is Verdict.OK
    assert result.reason == "every reachable state explored"
    assert result.distinct_states > 50_000
    assert all(result.sometimes.values()), result.sometimes


@pytest.mark.parametrize("bug", sorted(BROKEN))
def test_bug_is_found_with_a_shortest_counterexample_that_replays(bug: str) -> None:
    config = shardkv.Config(bugs=frozenset({bug}))
    model = ShardKVModel(config=config)
    result = check(model)
    assert result.verdict is Verdict.VIOLATION
    trace = result.counterexample
    assert trace is not None and trace.invariant == BROKEN[bug]
    assert replay_holds(model, trace)
    _, least = naive_search(config, stop_at_violation=True)
    assert least == len(trace.steps)
    # The flag is what breaks it: the same steps are not a violating behaviour without it.
    clean = shardkv.Config(bugs=frozenset())
    assert not replay_holds(ShardKVModel(config=clean), trace)
    itf = json.loads(json.dumps(to_itf(model, trace)))
    assert len(itf["states"]) == len(trace.steps) + 1


def test_parallel_search_gives_the_same_results() -> None:
    config = shardkv.Config(clerks=1, max_messages=2)
    serial = check(ShardKVModel(config=config))
    parallel = check(ShardKVModel(config=config), Options(workers=2))
    assert parallel.verdict is serial.verdict is Verdict.OK
    assert parallel.distinct_states == serial.distinct_states
    buggy = ShardKVModel(config=shardkv.Config(bugs=frozenset({"delete-before-install"})))
    found = check(buggy, Options(workers=2))
    assert found.counterexample is not None and replay_holds(buggy, found.counterexample)


def test_checker_counts_exactly_the_naive_states() -> None:
    config = shardkv.Config(clerks=1, calls=1, max_messages=2)
    states, _ = naive_search(config)
    assert check(ShardKVModel(config=config)).distinct_states == len(states)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "model-check", "shardkv", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)


def test_cli_clean_exits_0_and_bug_exits_1_with_the_counterexample() -> None:
    clean = run("--clerks", "1", "--json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["verdict"] == "ok"
    bug = run("--bug", "delete-before-install")
    assert bug.returncode == 1
    assert "NoAckedWriteLost" in bug.stdout and "Send(Transfer s1 #2 g1→g2" in bug.stdout


def test_cli_list_bugs_and_bad_options() -> None:
    listed = run("--list-bugs")
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(shardkv.BUGS)
    for args, words in [(("--configs", "11 13"), "expected gids 1..2"),
                        (("--configs", "1x"), "not a gid per shard"),
                        (("--groups", "9"), "9 is not in the range")]:
        result = run(*args)
        assert result.returncode == 2, args
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert run("--max-states", "50").returncode == 3
