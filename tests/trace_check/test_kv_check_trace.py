"""`dscheck check-trace` on `kv` traces: every lab scenario's trace checks clean against the
Raft and the key/value properties; edited traces are caught at the line that breaks them; a
malformed kv trace is one line `path:line: …` and exit 2, a state that breaks the format's
relations a WellFormedState violation; and the incremental judge agrees with a naive one that
re-judges the whole state, by the spec's own definitions, after every event."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from checker.trace_check import check_trace
from checker.trace_check.render import render_json
from checker.verdict import Verdict
from impl.kv.scenarios import BY_NAME, SCENARIOS
from impl.kv.scenarios.chaos import simulate
from impl.trace import TraceWriter
from spec import kv
from tests.trace_check.kv_naive import naive_first_violations

ROOT = Path(__file__).resolve().parents[2]
KV_NAMES = [inv.name for inv in kv.PROPERTIES]


def record(path: Path, **kwargs: Any) -> Path:
    with path.open("w", encoding="utf-8") as sink:
        run = simulate(trace=TraceWriter(sink), **kwargs)
    assert run.failure is None, run.failure
    return path


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_every_lab_scenarios_trace_checks_clean(name: str, tmp_path: Path) -> None:
    path = record(tmp_path / f"{name}.jsonl", seed=1, scenario=BY_NAME[name])
    result = check_trace(path)
    assert result.verdict is Verdict.OK, [(v.invariant, v.detail) for v in result.violations]
    assert result.system == "kv" and result.invariants[-len(KV_NAMES):] == KV_NAMES
    assert result.calls > 0 and result.evaluated > 0


@pytest.mark.parametrize("read_index", [False, True])
def test_random_fault_traces_check_clean_with_snapshots_and_read_index(
        read_index: bool, tmp_path: Path) -> None:
    path = record(tmp_path / "run.jsonl", seed=4, servers=5, clients=4, unreliable=True,
                  maxraftstate=800, duration_ms=6000, read_index=read_index)
    text = path.read_text()
    assert '"event":"snapshot"' in text and '"event":"crash"' in text
    assert ('"event":"read"' in text) == read_index
    result = check_trace(path)
    assert result.verdict is Verdict.OK, [(v.invariant, v.detail) for v in result.violations]
    out = json.loads(render_json(result))
    assert out["system"] == "kv" and out["calls"] == result.calls and out["violations"] == []


# ---------------------------------------------------------------- edited traces


@pytest.fixture(scope="module")
def small_trace(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    path = record(tmp_path_factory.mktemp("kv") / "t.jsonl", seed=1,
                  scenario=BY_NAME["one_partition_3A"])
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    path = tmp_path / "edited.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def first_index(records: list[dict[str, Any]], test: Any) -> int:
    return next(n for n, r in enumerate(records) if test(r))


def test_a_reply_the_log_never_made_breaks_reply_matches_state(
        small_trace: list[dict[str, Any]], tmp_path: Path) -> None:
    records = [dict(r) for r in small_trace]
    calls = {r["call"]: r for r in records if r.get("event") == "invoke"}
    n = first_index(records, lambda r: r.get("event") == "return"
                    and calls[r["call"]]["op"]["type"] == "get")
    records[n] = {**records[n], "output": {"value": "never written"}}
    result = check_trace(write(tmp_path, records))
    v = result.violations[0]
    assert (v.invariant, v.line) == ("ReplyMatchesState", n + 1)
    assert "'never written'" in v.detail and v.call.startswith("c")


def test_a_second_execution_breaks_no_call_applied_twice(
        small_trace: list[dict[str, Any]], tmp_path: Path) -> None:
    records = [dict(r) for r in small_trace]
    first = first_index(records, lambda r: r.get("event") == "apply" and r["executed"]
                        and r["command"][0] == "put")
    later = first_index(records, lambda r: r.get("event") == "apply"
                        and r["index"] > records[first]["index"])
    # A later entry claims to be the same call, executed again.
    records[later] = {**records[later], "command": records[first]["command"],
                      "executed": True}
    result = check_trace(write(tmp_path, records), max_violations=50)
    names = {v.invariant: v for v in result.violations}
    assert "NoCallAppliedTwice" in names
    assert names["NoCallAppliedTwice"].line == later + 1


def test_a_replica_whose_store_differs_at_an_index_breaks_replicas_agree(
        small_trace: list[dict[str, Any]], tmp_path: Path) -> None:
    records = [json.loads(json.dumps(r)) for r in small_trace]
    states = [n for n, r in enumerate(records)
              if isinstance(r.get("node"), int) and "state" in r
              and r["state"]["kv"]["applied"] > 0]
    target = records[states[0]]["state"]["kv"]["applied"]
    later = next(n for n in states[1:] if records[n]["state"]["kv"]["applied"] == target
                 and records[n]["node"] != records[states[0]]["node"])
    records[later]["state"]["kv"]["digest"] = "0123456789abcdef"
    records[later]["state"]["kv"].pop("store", None)
    result = check_trace(write(tmp_path, records))
    v = result.violations[0]
    assert (v.invariant, v.line) == ("ReplicasAgree", later + 1)
    assert records[later]["node"] in v.servers


def test_a_state_that_breaks_the_kv_formats_relations_is_well_formed_state(
        small_trace: list[dict[str, Any]], tmp_path: Path) -> None:
    records = [json.loads(json.dumps(r)) for r in small_trace]
    n = first_index(records, lambda r: isinstance(r.get("node"), int) and "state" in r
                    and r["state"]["kv"]["applied"] > 0)
    records[n]["state"]["kv"]["applied"] += 1
    records[n]["state"]["log_runs"] = [[2, 1, 1]]  # a run that ends before it starts
    done = run_cli(write(tmp_path, records))
    assert done.returncode == 1
    assert "VIOLATION WellFormedState" in done.stdout
    assert "is not last_applied" in done.stdout and "log_runs" in done.stdout


# ---------------------------------------------------------------- malformed: exit 2


def run_cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "check-trace", str(path), *args],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=120)


def server_state_line(records: list[dict[str, Any]]) -> int:
    return first_index(records, lambda r: isinstance(r.get("node"), int) and "state" in r)


def edit(records: list[dict[str, Any]], n: int, **changes: Any) -> list[dict[str, Any]]:
    out = [json.loads(json.dumps(r)) for r in records]
    out[n].update(changes)
    return out


def malformed_cases(records: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], int,
                                                                 str]]:
    s = server_state_line(records)
    state = records[s]["state"]
    apply = first_index(records, lambda r: r.get("event") == "apply")
    invoke = first_index(records, lambda r: r.get("event") == "invoke")
    no_kv = {k: v for k, v in state.items() if k != "kv"}
    return [
        (edit(records, s, state=no_kv), s, "needs \"kv\""),
        (edit(records, s, state={**state, "kv": {**state["kv"], "digest": "xyz"}}), s,
         "is not 16 hex digits"),
        (edit(records, s, state={**state, "kv": {**state["kv"], "dup": {"c1": 1}}}), s,
         "dup must map clerk ids"),
        (edit(records, s, state={**state, "log_runs": [[1, "two", 1]]}), s,
         "expected [[first index, last index, term]"),
        (edit(records, apply, command=["cas", "k", "v", 1, 1]), apply,
         "command must be [kind"),
        (edit(records, apply, executed="yes"), apply, "needs index ≥ 1 and executed"),
        (edit(records, invoke, op={**records[invoke]["op"], "seq": "one"}), invoke,
         "invoke: a "),
        ([*records[:3], {**records[3], "event": "read", "node": 0, "index": 1,
                          "command": ["get", "k", None, 1, 1]}], 3,
         "read: needs index ≥ 0 and output"),
    ]


def test_a_malformed_kv_trace_is_one_line_and_exit_2(small_trace: list[dict[str, Any]],
                                                      tmp_path: Path) -> None:
    for records, n, words in malformed_cases(small_trace):
        path = write(tmp_path, records[: n + 1])
        done = run_cli(path)
        assert done.returncode == 2, (words, done.stdout)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"dscheck: {path}:{n + 1}: "), lines
        assert words in lines[0], (words, lines[0])


# ---------------------------------------------------------------- the naive twin


def test_the_incremental_judge_agrees_with_a_naive_one(small_trace: list[dict[str, Any]],
                                                       tmp_path: Path) -> None:
    records = [json.loads(json.dumps(r)) for r in small_trace]
    # The clean trace, then three edits that break different properties.
    variants = [records]
    calls = {r["call"]: r for r in records if r.get("event") == "invoke"}
    n = first_index(records, lambda r: r.get("event") == "return"
                    and calls[r["call"]]["op"]["type"] == "get")
    variants.append(edit(records, n, output={"value": "nope"}))
    s = first_index(records, lambda r: isinstance(r.get("node"), int) and "state" in r
                    and r["state"]["kv"]["applied"] >= 2)
    lost = json.loads(json.dumps(records))
    lost[s]["state"]["kv"]["dup"] = {}
    variants.append(lost)
    a = first_index(records, lambda r: r.get("event") == "apply" and r["executed"])
    twice = json.loads(json.dumps(records))
    twice.insert(a + 1, {**records[a], "index": records[a]["index"] + 1000})
    for seq, r in enumerate(twice[1:], start=1):
        r["seq"] = seq
    variants.append(twice)
    for records in variants:
        result = check_trace(write(tmp_path, records), max_violations=1000)
        mine: dict[str, int] = {}
        for v in result.violations:
            if v.invariant in KV_NAMES:
                mine[v.invariant] = min(v.line, mine.get(v.invariant, v.line))
        assert mine == naive_first_violations(records)
    assert naive_first_violations(variants[0]) == {}
    assert all(naive_first_violations(v) for v in variants[1:])
