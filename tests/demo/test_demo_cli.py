"""`dscheck demo` end to end: it simulates, records, and every stage judges the record — for
one seed or several, and also when the implementation under test is broken."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.cli.main import main
from checker.demo import run as demo_run
from impl.raft.node import RaftNode
from impl.shardkv.scenarios import chaos as shard_chaos
from spec.raft import Config
from tests.broken_cores import raising_at_match
from tests.kv import mutants

ROOT = Path(__file__).resolve().parents[2]
SMALL = Config(servers=3, max_term=1, max_log=1, max_messages=1)  # a model check of a second


def test_demo_runs_every_checker_on_the_recorded_run(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "checker", "demo", "--duration", "5", "--out", str(out), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [s["stage"] for s in report["stages"]] == [
        "simulate", "trace invariants", "linearizability",
        "kv simulate", "kv trace invariants", "kv linearizability",
        "shardkv simulate", "shardkv trace invariants", "shardkv linearizability",
        "model check"]
    assert [s["seed"] for s in report["stages"]] == [1, 1, 1, 1, 1, 1, 1, 1, 1, None]
    assert all(s["verdict"] == "ok" for s in report["stages"])
    assert report["seeds"] == [1] and report["rests_on"] == "1 seed: a single run; try --seeds N"
    assert report == json.loads((out / "report.json").read_text())
    trace = (out / "raft-trace.jsonl").read_text().splitlines()
    assert json.loads(trace[0])["format"] == "dscheck-trace"
    lin = next(s for s in report["stages"] if s["stage"] == "linearizability")
    assert lin["figures"]["operations"] > 0 and lin["figures"]["model"] == "log"
    html = (out / "linearizability.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "raft-trace.jsonl" in html  # the trace audited
    assert "kv-trace.jsonl" in html  # every run's history, in one report
    assert "shardkv-trace.jsonl" in html
    assert sorted(p.name for p in out.iterdir()) == [
        "kv-trace.jsonl", "linearizability.html", "raft-trace.jsonl",
        "report.json", "shardkv-trace.jsonl"]  # no separate history
    # The history is the trace's own: `dscheck lin` audits the trace to the same verdict.
    audit = subprocess.run(
        [sys.executable, "-m", "checker", "lin", str(out / "raft-trace.jsonl"), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert audit.returncode == 0, audit.stderr
    audited = json.loads(audit.stdout)
    assert (audited["verdict"], audited["operations"]) == ("ok", lin["figures"]["operations"])
    # The key/value run: its trace is a kv trace, judged by what `dscheck check-trace` and
    # `dscheck lin` find on it.
    kv_trace = out / "kv-trace.jsonl"
    header = json.loads(kv_trace.read_text().splitlines()[0])
    assert (header["format"], header["system"]) == ("dscheck-trace", "kv")
    stages = {s["stage"]: s for s in report["stages"]}
    assert stages["kv simulate"]["figures"]["calls"] > 0
    assert stages["kv simulate"]["files"] == [str(kv_trace)]
    judged = stages["kv trace invariants"]["figures"]
    assert {"ReplicasAgree", "NoCallAppliedTwice", "ReplyMatchesState", "ElectionSafety"} \
        <= set(judged["invariants"])
    checked = subprocess.run(
        [sys.executable, "-m", "checker", "check-trace", str(kv_trace), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert checked.returncode == 0, checked.stderr
    verdict = json.loads(checked.stdout)
    assert (verdict["verdict"], verdict["states"], verdict["calls"]) == (
        "ok", judged["states"], judged["calls"])
    kv_lin = stages["kv linearizability"]["figures"]
    assert kv_lin["model"] == "kv" and kv_lin["operations"] == stages["kv simulate"]["figures"][
        "calls"]
    audit = subprocess.run(
        [sys.executable, "-m", "checker", "lin", str(kv_trace), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert audit.returncode == 0, audit.stderr
    audited = json.loads(audit.stdout)
    assert (audited["verdict"], audited["operations"]) == ("ok", kv_lin["operations"])
    # The sharded run: a shardkv trace, judged by what `dscheck check-trace` and `dscheck
    # lin` find on it.
    shard_trace = out / "shardkv-trace.jsonl"
    header = json.loads(shard_trace.read_text().splitlines()[0])
    assert (header["format"], header["system"]) == ("dscheck-trace", "shardkv")
    assert stages["shardkv simulate"]["figures"]["calls"] > 0
    assert stages["shardkv simulate"]["figures"]["joins"] >= 1
    assert stages["shardkv simulate"]["files"] == [str(shard_trace)]
    judged = stages["shardkv trace invariants"]["figures"]
    assert {"ElectionSafety", "Balanced", "MinimalMovement", "ReplicasAgree",
            "ReplyMatchesState", "AtMostOneServer", "NoAckedWriteLost",
            "NewOwnerExtendsOldOwner", "ConfigurationsInOrder"} <= set(judged["invariants"])
    checked = subprocess.run(
        [sys.executable, "-m", "checker", "check-trace", str(shard_trace), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert checked.returncode == 0, checked.stderr
    verdict = json.loads(checked.stdout)
    assert (verdict["verdict"], verdict["states"], verdict["calls"], verdict["groups"]) == (
        "ok", judged["states"], judged["calls"], 3)
    shard_lin = stages["shardkv linearizability"]["figures"]
    assert shard_lin["model"] == "kv"
    assert shard_lin["operations"] == stages["shardkv simulate"]["figures"]["calls"]
    audit = subprocess.run(
        [sys.executable, "-m", "checker", "lin", str(shard_trace), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert audit.returncode == 0, audit.stderr
    audited = json.loads(audit.stdout)
    assert (audited["verdict"], audited["operations"]) == ("ok", shard_lin["operations"])


def test_demo_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checker", "demo", "--servers", "0"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "dscheck-demo").exists()


# -- in this process: several seeds, and broken implementations ---------------------------

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def small_model_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real model check, at bounds that take a second (these tests are about the runs)."""
    original = demo_run._model_check
    monkeypatch.setattr(demo_run, "_model_check", lambda bounds: original(SMALL))


def demo(capsys: Capture, *args: str) -> tuple[int, str]:
    try:
        code = main(["demo", *args])
    except SystemExit as stop:
        code = stop.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().out


def test_seeds_runs_every_seeded_stage_per_seed_and_says_so(
        capsys: Capture, tmp_path: Path, small_model_check: None) -> None:
    out = tmp_path / "demo"
    code, stdout = demo(capsys, "--seed", "2", "--seeds", "2", "--duration", "3",
                        "--out", str(out), "--json")
    assert code == 0
    report = json.loads(stdout)
    assert report["seeds"] == [2, 3] and report["seed"] == 2
    assert report["rests_on"] == "2 seeds (2–3): every run judged by every check"
    assert [(s["stage"], s["seed"]) for s in report["stages"]] == [
        ("simulate", 2), ("trace invariants", 2), ("linearizability", 2),
        ("kv simulate", 2), ("kv trace invariants", 2), ("kv linearizability", 2),
        ("shardkv simulate", 2), ("shardkv trace invariants", 2),
        ("shardkv linearizability", 2),
        ("simulate", 3), ("trace invariants", 3), ("linearizability", 3),
        ("kv simulate", 3), ("kv trace invariants", 3), ("kv linearizability", 3),
        ("shardkv simulate", 3), ("shardkv trace invariants", 3),
        ("shardkv linearizability", 3),
        ("model check", None)]
    assert report == json.loads((out / "report.json").read_text())
    traces = [out / "raft-trace-seed2.jsonl", out / "raft-trace-seed3.jsonl",
              out / "kv-trace-seed2.jsonl", out / "kv-trace-seed3.jsonl",
              out / "shardkv-trace-seed2.jsonl", out / "shardkv-trace-seed3.jsonl"]
    assert [json.loads(p.read_text().splitlines()[0])["seed"] for p in traces] == [
        2, 3, 2, 3, 2, 3]
    code, text = demo(capsys, "--seed", "2", "--seeds", "2", "--duration", "3",
                      "--out", str(out))
    flat = " ".join(text.split())
    assert code == 0 and "simulate (seed 3)" in flat and "model check" in flat
    assert "2 seeds (2–3): every run judged by every check" in flat


def test_one_seed_says_the_verdict_rests_on_a_single_run(
        capsys: Capture, tmp_path: Path, small_model_check: None) -> None:
    code, text = demo(capsys, "--duration", "2", "--out", str(tmp_path))
    assert code == 0
    assert text.splitlines()[-2:] == ["1 seed: a single run; try --seeds N", "OK"]


@pytest.fixture
def core_raises() -> Iterator[None]:
    with raising_at_match(20):
        yield


def test_a_core_exception_is_reported_and_its_trace_still_judged(
        capsys: Capture, tmp_path: Path, core_raises: None, small_model_check: None) -> None:
    code, stdout = demo(capsys, "--duration", "5", "--out", str(tmp_path), "--json")
    assert code == 1
    stages = {s["stage"]: s for s in json.loads(stdout)["stages"]}
    simulated = stages["simulate"]
    fault = simulated["figures"]["fault"]
    assert simulated["verdict"] == "violation" and fault["kind"] == "exception"
    assert "the implementation raised ZeroDivisionError: commit arithmetic went wrong at event " \
           f"{fault['event']} (node {fault['node']}," in simulated["finding"]
    # The partial trace is kept under its name, and judged by the stages after.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kv-trace.jsonl", "linearizability.html", "raft-trace.jsonl", "report.json",
        "shardkv-trace.jsonl"]
    assert stages["trace invariants"]["figures"]["events"] == fault["event"] - 1
    assert stages["trace invariants"]["verdict"] == "ok"
    assert stages["linearizability"]["verdict"] == "ok"
    assert stages["linearizability"]["figures"]["operations"] > 0


@pytest.fixture
def visible_log_indexes_corrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A core that reports its log one index off once it holds ten entries: the lab's checks
    see nothing (they read what is applied), the trace shows it."""
    original = RaftNode._state  # what a server's trace line records of its core's state

    def corrupted(self: RaftNode) -> dict[str, Any]:
        state = original(self)
        if len(state["log"]) >= 10:  # type: ignore[arg-type]
            state = {**state, "log": [[index + 1, term] for index, term in state["log"]]}  # type: ignore[attr-defined]
        return state

    monkeypatch.setattr(RaftNode, "_state", corrupted)


def test_corrupt_log_indexes_are_a_trace_violation_not_bad_input(
        capsys: Capture, tmp_path: Path, visible_log_indexes_corrupted: None,
        small_model_check: None) -> None:
    code, stdout = demo(capsys, "--duration", "5", "--reliable", "--out", str(tmp_path),
                        "--json")
    assert code == 1
    stages = {s["stage"]: s for s in json.loads(stdout)["stages"]}
    assert stages["simulate"]["verdict"] == "ok"
    judged = stages["trace invariants"]
    assert judged["verdict"] == "violation"
    assert judged["finding"].startswith("WellFormedState violated at line ")
    assert "consecutively" in judged["figures"]["violations"][0]["detail"]


# -- a broken key/value server: its own stages find it, the Raft stages stay clean ---------

@pytest.mark.parametrize(("mutant", "invariant"), [
    (mutants.no_duplicate_detection, "NoCallAppliedTwice"),
    (mutants.replicas_diverge, "ReplicasAgree"),
], ids=["no-duplicate-detection", "replicas-diverge"])
def test_a_broken_kv_server_fails_the_kv_stages_with_its_property_named(
        mutant: Callable[[pytest.MonkeyPatch], None], invariant: str, capsys: Capture,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_model_check: None) -> None:
    mutant(monkeypatch)
    code, stdout = demo(capsys, "--duration", "5", "--out", str(tmp_path), "--json")
    assert code == 1
    stages = {s["stage"]: s for s in json.loads(stdout)["stages"]}
    assert all(stages[name]["verdict"] == "ok" for name in (
        "simulate", "trace invariants", "linearizability", "model check"))
    assert stages["kv simulate"]["verdict"] == "violation"  # the lab's own check saw it
    judged = stages["kv trace invariants"]
    assert judged["verdict"] == "violation"
    assert judged["finding"].startswith(f"{invariant} violated at line ")
    assert invariant in {v["invariant"] for v in judged["figures"]["violations"]}
    # The text report shows the violation, one line per finding, at the trace's line.
    code, text = demo(capsys, "--duration", "5", "--out", str(tmp_path))
    assert code == 1
    assert f"kv-trace.jsonl:{judged['figures']['violations'][0]['line']}:{invariant}" in \
        "".join(text.split())


# -- a broken shard group: the sharded stages find it, the lab's checks do not -------------

@pytest.mark.parametrize(("bug", "invariant"), [
    ("delete-before-install", "NoAckedWriteLost"),
    ("serve-after-handoff", "AtMostOneServer"),
])
def test_a_broken_shard_group_fails_the_shardkv_trace_stage_with_its_property_named(
        bug: str, invariant: str, capsys: Capture, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, small_model_check: None) -> None:
    # The implementation's fault flag switched on for the demo's sharded run.
    monkeypatch.setattr(shard_chaos, "simulate", functools.partial(
        shard_chaos.simulate, bugs=frozenset({bug})))
    code, stdout = demo(capsys, "--duration", "5", "--reliable", "--out", str(tmp_path),
                        "--json")
    assert code == 1
    stages = {s["stage"]: s for s in json.loads(stdout)["stages"]}
    assert all(stages[name]["verdict"] == "ok" for name in (
        "simulate", "trace invariants", "linearizability", "kv simulate",
        "kv trace invariants", "kv linearizability", "model check"))
    # Every lab check held on this run: the trace shows what they did not.
    assert stages["shardkv simulate"]["verdict"] == "ok"
    judged = stages["shardkv trace invariants"]
    assert judged["verdict"] == "violation"
    found = [v for v in judged["figures"]["violations"] if v["invariant"] == invariant]
    assert found and all(n.startswith("server-") for n in found[0]["nodes"])
    code, text = demo(capsys, "--duration", "5", "--reliable", "--out", str(tmp_path))
    assert code == 1
    assert f"shardkv-trace.jsonl:{found[0]['line']}:{invariant}" in "".join(text.split())
