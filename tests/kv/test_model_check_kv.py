"""`model-check kv`: the correct spec is exhausted clean at the default bounds (reads through
the log, and by ReadIndex) with every "sometimes" property reached; each bug flag is found with
a shortest counterexample (a naive search agrees on its length) that replays through the spec
and is harmless without the flag."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.modelcheck import Options, check
from checker.modelcheck.models.kv import KVModel
from checker.modelcheck.trace import replay_holds, to_itf
from checker.verdict import Verdict
from spec import kv
from tests.kv.naive_spec import naive_search

ROOT = Path(__file__).resolve().parents[2]

# The property each flag breaks first at the default bounds.
BROKEN = {
    "no-dup-check": "NoCallAppliedTwice",
    "dup-not-in-snapshot": "ReplicasAgree",
    "stale-read": "NoStaleRead",
    "reply-before-apply": "ReplyMatchesState",
}


def test_every_flag_has_a_test() -> None:
    assert set(BROKEN) == set(kv.BUGS)


@pytest.mark.parametrize("read_index", [False, True])
def test_correct_spec_is_exhausted_clean_at_the_default_bounds(read_index: bool) -> None:
    result = check(KVModel(config=kv.Config(read_index=read_index)))
    assert result.verdict is Verdict.OK
    assert result.reason == "every reachable state explored"
    assert result.distinct_states > 40_000
    assert all(result.sometimes.values()), result.sometimes
    assert ("ReadServed" in result.sometimes) == read_index


@pytest.mark.parametrize("bug", sorted(BROKEN))
def test_bug_is_found_with_a_shortest_counterexample_that_replays(bug: str) -> None:
    read_index = bug == "stale-read"
    config = kv.Config(bugs=frozenset({bug}), read_index=read_index)
    model = KVModel(config=config)
    result = check(model)
    assert result.verdict is Verdict.VIOLATION
    trace = result.counterexample
    assert trace is not None and trace.invariant == BROKEN[bug]
    assert replay_holds(model, trace)
    _, least = naive_search(config, stop_at_violation=True)
    assert least == len(trace.steps)
    # The flag is what breaks it: the same steps are not a violating behaviour without it.
    clean = kv.Config(read_index=read_index)
    assert not replay_holds(KVModel(config=clean), trace)
    itf = json.loads(json.dumps(to_itf(model, trace)))
    assert len(itf["states"]) == len(trace.steps) + 1


def test_checker_counts_exactly_the_naive_states_and_in_parallel_too() -> None:
    config = kv.Config(max_log=3)
    states, violation = naive_search(config)
    serial = check(KVModel(config=config))
    assert violation is None and serial.distinct_states == len(states)
    parallel = check(KVModel(config=config), Options(workers=2))
    assert parallel.verdict is serial.verdict is Verdict.OK
    assert parallel.distinct_states == serial.distinct_states


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "model-check", "kv", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)


def test_cli_clean_exits_0_and_bug_exits_1_with_the_counterexample() -> None:
    clean = run("--max-log", "3", "--json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["verdict"] == "ok"
    bug = run("--bug", "no-dup-check")
    assert bug.returncode == 1
    assert "NoCallAppliedTwice" in bug.stdout and "store: s0={'k': 'xx'}" in bug.stdout
    stale = run("--bug", "stale-read")  # the flag turns ReadIndex reads on
    assert stale.returncode == 1 and "NoStaleRead" in stale.stdout


def test_cli_list_bugs_and_bad_options() -> None:
    listed = run("--list-bugs")
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(kv.BUGS)
    for args, words in [(("--calls", "append k"), "is not 'get KEY'"),
                        (("--calls", "get k,"), "an empty call"),
                        (("--replicas", "9"), "9 is not in the range")]:
        result = run(*args)
        assert result.returncode == 2, args
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert run("--max-states", "50").returncode == 3
