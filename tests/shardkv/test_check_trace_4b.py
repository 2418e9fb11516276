"""`dscheck check-trace` on `shardkv` and `shardctrler` traces.

Every lab scenario's trace checks clean (tests/shardkv/lab.py's `play` and
tests/shardctrler/test_part4a.py's check each run of the default suites). Here: each fault
flag of the implementation is caught by check-trace with the property it breaks named (two of
them in runs whose lab checks all pass); hand-edited traces are caught at the edited line;
the fast judge (one shard, and the calls a step touched, at a time) finds each violation
at the same line as its naive twin that judges the whole view; malformed traces are one line
`path:line: …` and exit 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import checker.trace_check.shardkv as shardkv_check
from checker.trace_check import TraceResult, check_trace
from checker.verdict import Verdict
from impl.shardctrler.scenarios import BY_NAME as CTRL_BY_NAME
from impl.shardkv.labtester import ShardTestFailure
from impl.shardkv.scenarios import BY_NAME
from impl.shardkv.scenarios.chaos import simulate
from impl.trace import TraceWriter
from tests.shardkv.shard_naive import NaiveShardJudge

ROOT = Path(__file__).resolve().parents[2]


def record(path: Path, name: str, seed: int = 1, bugs: frozenset[str] = frozenset(),
           fails: bool = False) -> Path:
    """Scenario `name`'s trace at `path` (kept whole when a lab check fails, as `fails`
    says it must)."""
    with path.open("w", encoding="utf-8") as stream:
        if fails:
            with pytest.raises(ShardTestFailure):
                BY_NAME[name].run(seed, TraceWriter(stream), bugs=bugs)
        else:
            BY_NAME[name].run(seed, TraceWriter(stream), bugs=bugs)
    return path


def record_random(path: Path, bugs: frozenset[str]) -> Path:
    """Two virtual seconds of the random schedule (joins, leaves, three clients)."""
    with path.open("w", encoding="utf-8") as stream:
        run = simulate(seed=1, clients=3, crashes=False, duration_ms=2000, bugs=bugs,
                       trace=TraceWriter(stream))
    assert run.failure is None  # the lab's checks all hold
    return path


def found(result: TraceResult) -> set[str]:
    return {v.invariant for v in result.violations}


# ---- fault flags


def test_serving_after_handoff_is_two_servers_4B(tmp_path: Path) -> None:
    path = record(tmp_path / "t.jsonl", "join_leave_4B", bugs=frozenset(
        {"serve-after-handoff"}), fails=True)
    result = check_trace(path, max_violations=100)
    assert result.verdict is Verdict.VIOLATION
    v = next(v for v in result.violations if v.invariant == "AtMostOneServer")
    assert v.detail.count("serving") == 2 and len(v.nodes) == 2


def test_a_shard_moved_without_its_duplicate_table_applies_a_call_twice_4B(
        tmp_path: Path) -> None:
    path = record(tmp_path / "t.jsonl", "unreliable2_4B", bugs=frozenset(
        {"dup-table-not-migrated"}), fails=True)
    result = check_trace(path)
    assert found(result) == {"NoCallAppliedTwice"}
    assert "applied twice" in result.violations[0].detail


def test_configurations_out_of_order_where_the_lab_checks_pass_4B(tmp_path: Path) -> None:
    # TestStaticShards passes with the flag on (no configuration is lost in its effects);
    # the trace shows a group that skipped configuration 2.
    path = record(tmp_path / "t.jsonl", "static_shards_4B", bugs=frozenset(
        {"unordered-configs"}))
    result = check_trace(path)
    assert "ConfigurationsInOrder" in found(result)
    v = next(v for v in result.violations if v.invariant == "ConfigurationsInOrder")
    assert "from configuration" in v.detail


def test_a_shard_deleted_before_it_was_installed_loses_writes_4B(tmp_path: Path) -> None:
    # The lab's checks and the history audit pass on this short run (the lost writes are
    # never read back); the trace shows an acknowledged write that no group holds.
    path = record_random(tmp_path / "t.jsonl", frozenset({"delete-before-install"}))
    result = check_trace(path)
    assert {"NoAckedWriteLost", "HandoffsCompleted"} <= found(result)
    v = next(v for v in result.violations if v.invariant == "NoAckedWriteLost")
    assert "is in no copy that a group serves or hands off" in v.detail


def test_the_same_random_run_without_the_flag_checks_clean(tmp_path: Path) -> None:
    result = check_trace(record_random(tmp_path / "t.jsonl", frozenset()))
    assert result.verdict is Verdict.OK and result.calls > 50


def test_the_command_names_the_property(tmp_path: Path) -> None:
    path = record(tmp_path / "t.jsonl", "unreliable2_4B", bugs=frozenset(
        {"dup-table-not-migrated"}), fails=True)
    proc = subprocess.run([sys.executable, "-m", "checker", "check-trace", str(path)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "VIOLATION NoCallAppliedTwice" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "checker", "check-trace", "--json", str(path)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    out = json.loads(proc.stdout)
    assert (out["system"], out["verdict"], out["groups"]) == ("shardkv", "violation", 3)
    assert out["violations"][0]["invariant"] == "NoCallAppliedTwice"
    assert all(n.startswith("server-") for n in out["violations"][0]["nodes"])


# ---- the naive twin


@pytest.mark.parametrize(("name", "bugs", "fails"), [
    ("join_leave_4B", frozenset(), False),
    ("unreliable2_4B", frozenset(), False),
    ("join_leave_4B", frozenset({"serve-after-handoff"}), True),
    ("static_shards_4B", frozenset({"unordered-configs"}), False),
    ("unreliable2_4B", frozenset({"dup-table-not-migrated"}), True),
    ("random", frozenset({"delete-before-install"}), False),
])
def test_the_fast_judge_agrees_with_judging_the_whole_view(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, bugs: frozenset[str],
        fails: bool) -> None:
    path = (record_random(tmp_path / "t.jsonl", bugs) if name == "random"
            else record(tmp_path / "t.jsonl", name, bugs=bugs, fails=fails))
    fast = check_trace(path, max_violations=10_000)
    judges: list[NaiveShardJudge] = []

    class Recorded(NaiveShardJudge):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.first = {}
            judges.append(self)

    monkeypatch.setattr(shardkv_check, "ShardJudge", Recorded)
    check_trace(path, max_violations=10_000)
    first_fast: dict[str, int] = {}
    for v in fast.violations:
        if v.detail.startswith("shard "):  # the sharded KV invariants' violations
            first_fast[v.invariant] = min(first_fast.get(v.invariant, v.line), v.line)
    assert first_fast == judges[0].first
    assert bool(first_fast) == bool(bugs)  # each flag breaks one of them, nothing else does


# ---- edited traces


def lines_of(name: str) -> list[dict[str, Any]]:
    writer = TraceWriter(keep=True)
    BY_NAME[name].run(1, writer)
    return [json.loads(line) for line in writer.lines]


def write(tmp_path: Path, records: list[Any]) -> Path:
    path = tmp_path / "edited.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n"
                            for r in records))
    return path


def quiet_best_states(records: list[dict[str, Any]]) -> list[int]:
    """Positions of group servers' states that make their group's state at once: the
    replica applied the most so far, and its step applies nothing (no apply follows)."""
    best: dict[int, int] = {}
    out = []
    for n, r in enumerate(records[1:-1], start=1):
        sk = r.get("state", {}).get("shardkv") if isinstance(r.get("state"), dict) else None
        if sk is None:
            continue
        if sk["applied"] >= best.get(sk["gid"], 0):
            best[sk["gid"]] = sk["applied"]
            nxt = records[n + 1]
            if not (nxt.get("event") == "apply" and nxt.get("node") == r["node"]):
                out.append(n)
    return out


def test_a_second_server_of_a_shard_is_caught_at_its_line(tmp_path: Path) -> None:
    records: list[Any] = lines_of("join_leave_4B")
    serving: dict[int, set[str]] = {}  # gid -> shards its best state serves
    target = None
    for n in quiet_best_states(records):
        sk = records[n]["state"]["shardkv"]
        others = set().union(*(v for g, v in serving.items() if g != sk["gid"])) \
            if serving else set()
        free = sorted(others - set(sk["shards"]))
        if sk["num"] >= 2 and free:
            target = (n, free[0])
            break
        serving[sk["gid"]] = {s for s, v in sk["shards"].items() if v["status"] == "serving"}
    assert target is not None
    n, shard = target
    records[n]["state"]["shardkv"]["shards"][shard] = {
        "status": "serving", "keys": 0, "digest": "44136fa355b3678a", "dup": {}}
    result = check_trace(write(tmp_path, records), max_violations=50)
    v = next(v for v in result.violations if v.invariant == "AtMostOneServer")
    assert v.line == n + 1 and f"shard {shard}:" in v.detail


def test_a_get_that_returns_what_no_group_made_is_caught_at_its_return(
        tmp_path: Path) -> None:
    records: list[Any] = lines_of("join_leave_4B")
    calls = {r["call"]: r for r in records[1:] if r.get("event") == "invoke"
             and r["op"]["type"] == "get"}
    n = next(n for n, r in enumerate(records) if r.get("event") == "return"
             and r["call"] in calls and r["output"]["value"])
    records[n]["output"]["value"] = "not-what-was-written"
    result = check_trace(write(tmp_path, records))
    assert [(v.invariant, v.line) for v in result.violations] == [("ReplyMatchesState", n + 1)]
    assert result.violations[0].call


def test_an_unbalanced_join_is_caught_at_the_line_that_shows_it(tmp_path: Path) -> None:
    writer = TraceWriter(keep=True)
    CTRL_BY_NAME["basic_leave_join_4A"].run(1, writer)
    records: list[Any] = [json.loads(line) for line in writer.lines]
    n = next(n for n, r in enumerate(records) if isinstance(r.get("state"), dict)
             and "ctrl" in r["state"] and r["state"]["ctrl"]["latest"]["num"] == 2)
    latest = records[n]["state"]["ctrl"]["latest"]
    gids = sorted(int(g) for g in latest["groups"])
    assert len(gids) == 2
    latest["shards"] = [gids[0]] * 9 + [gids[1]]  # 9 and 1: a Join that did not balance
    result = check_trace(write(tmp_path, records))
    first = {v.invariant: v.line for v in reversed(result.violations)}
    assert first["Balanced"] == n + 1
    assert "ConfigurationsInOrder" in first  # the other servers show another configuration 2


def test_a_group_that_skips_a_configuration_is_caught_at_its_line(tmp_path: Path) -> None:
    records: list[Any] = lines_of("join_leave_4B")
    n = next(n for n in quiet_best_states(records)
             if records[n]["state"]["shardkv"]["num"] == 1)
    records[n]["state"]["shardkv"]["num"] = 3
    result = check_trace(write(tmp_path, records), max_violations=50)
    v = next(v for v in result.violations if v.invariant == "ConfigurationsInOrder")
    assert v.line == n + 1 and "from configuration 1 to 3" in v.detail


# ---- malformed traces


def _edit_header(rs: list[Any]) -> None:
    del rs[0]["config"]["groups"]


def _first(rs: list[Any], pred: Any) -> int:
    return next(n for n, r in enumerate(rs) if n > 0 and pred(r))


def _group_state(r: Any) -> bool:
    return isinstance(r.get("state"), dict) and "shardkv" in r["state"] \
        and r["state"]["shardkv"]["shards"]


MALFORMED = [
    ("no groups", _edit_header, lambda rs: 1, "config.groups"),
    ("no shardkv", lambda rs: rs[_first(rs, _group_state)]["state"].pop("shardkv"),
     lambda rs: _first(rs, _group_state) + 1, "needs \"shardkv\""),
    ("bad status", lambda rs: next(iter(rs[_first(rs, _group_state)]["state"]["shardkv"][
        "shards"].values())).__setitem__("status", "lent"),
     lambda rs: _first(rs, _group_state) + 1, "status (serving|waiting|sending)"),
    ("bad config command", lambda rs: rs[_first(rs, lambda r: r.get("event") == "apply" and r[
        "command"][0] == "config")]["command"].__setitem__(2, [100]),
     lambda rs: _first(rs, lambda r: r.get("event") == "apply" and r["command"][0] == "config")
     + 1, "[\"config\", num, [gid × 10], groups]"),
    ("install from no group", lambda rs: rs[_first(rs, lambda r: r.get("event") == "apply" and r[
        "command"][0] == "install")]["command"].__setitem__(4, 999),
     lambda rs: _first(rs, lambda r: r.get("event") == "apply" and r["command"][0] == "install")
     + 1, "install from group 999"),
    ("bad controller configuration", lambda rs: rs[1]["state"]["ctrl"]["latest"].__setitem__(
        "shards", [0] * 9), lambda rs: 2, "10 gids"),
    ("put without a value", lambda rs: rs[_first(rs, lambda r: r.get("event") == "invoke" and r[
        "op"]["type"] == "put")]["op"].pop("value"),
     lambda rs: _first(rs, lambda r: r.get("event") == "invoke" and r["op"]["type"] == "put")
     + 1, "op.value"),
]


@pytest.mark.parametrize(("label", "edit", "line", "words"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_malformed_shardkv_traces_name_the_line(tmp_path: Path, label: str, edit: Any,
                                                 line: Any, words: str) -> None:
    records: list[Any] = lines_of("join_leave_4B")
    at = line(records)
    edit(records)
    path = write(tmp_path, records)
    proc = subprocess.run([sys.executable, "-m", "checker", "check-trace", str(path)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 2, proc.stdout[-500:]
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and f"{path}:{at}:" in proc.stderr
    assert words in proc.stderr


def test_a_service_state_that_is_not_its_raft_state_is_not_well_formed(tmp_path: Path) -> None:
    # The format's rule: a group server's shardkv.applied is its last_applied. A state that
    # breaks it is a finding about the server (WellFormedState), not a malformed file.
    records: list[Any] = lines_of("join_leave_4B")
    n = next(n for n, r in enumerate(records) if _group_state(r)
             and r["state"]["shardkv"]["applied"] >= 2)
    records[n]["state"]["shardkv"]["applied"] -= 1
    result = check_trace(write(tmp_path, records), max_violations=50)
    v = next(v for v in result.violations if v.invariant == "WellFormedState")
    assert v.line == n + 1 and "is not last_applied" in v.detail


def test_a_wasteful_controller_is_caught_by_check_trace_where_the_lab_passes_4A(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A rule that deals every shard afresh: balanced and deterministic, so TestBasic up to
    # "Concurrent leave/join" passes; its trace shows Joins and Leaves that move more shards
    # than the minimum (tests/shardctrler/test_mutants_4A.py has the lab's later catch).
    from spec import shardctrler

    def deal_afresh(shards: Any, gids: Any) -> tuple[int, ...]:
        present = sorted(set(gids))
        return tuple(present[i % len(present)] if present else 0 for i in range(len(shards)))

    monkeypatch.setattr(shardctrler, "rebalance", deal_afresh)
    path = tmp_path / "ctrl.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        CTRL_BY_NAME["concurrent_leave_join_4A"].run(1, TraceWriter(stream))
    monkeypatch.undo()  # the checker judges by the spec's own rule
    result = check_trace(path)
    assert result.system == "shardctrler"
    assert "MinimalMovement" in found(result)
    assert "Balanced" not in found(result)  # what it makes is balanced: only wasteful
