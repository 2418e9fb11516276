"""`dscheck model-check raft`: exit statuses, JSON, ITF, --list-bugs, bad options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", "model-check", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )


def test_clean_spec_exits_0_with_the_json_summary() -> None:
    result = run("raft", "--servers", "2", "--max-term", "2", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "ok"
    assert out["counterexample"] is None
    assert out["distinct_states"] > 0 and out["depth"] > 1 and out["seconds"] >= 0
    assert out["sometimes"]["LeaderElected"] is True


def test_bug_exits_1_with_a_counterexample_and_writes_itf(tmp_path: Path) -> None:
    itf = tmp_path / "cex.itf.json"
    result = run("raft", "--bug", "no-step-down", "--max-term", "2", "--json", "--itf", str(itf))
    assert result.returncode == 1, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "violation"
    cex = out["counterexample"]
    assert cex["invariant"] == "ElectionSafety"
    assert cex["steps"][0]["action"].startswith("Timeout(")
    assert all(step["changes"] for step in cex["steps"])  # only changed variables, never empty
    written = json.loads(itf.read_text())
    assert written["#meta"]["format"] == "ITF"
    assert len(written["states"]) == cex["length"] + 1


def test_text_output_names_the_actions_and_the_invariant() -> None:
    result = run("raft", "--bug", "unpersisted-vote", "--max-term", "1")
    assert result.returncode == 1
    assert "Restart(s" in result.stdout
    assert "ElectionSafety" in result.stdout


def test_a_cut_search_exits_3() -> None:
    result = run("raft", "--max-term", "2", "--max-states", "50", "--json")
    assert result.returncode == 3
    assert json.loads(result.stdout)["verdict"] == "unknown"


def test_list_bugs() -> None:
    result = run("raft", "--list-bugs")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == [
        "figure8-commit",
        "vote-without-log-check",
        "unpersisted-vote",
        "stale-append-truncates",
        "no-step-down",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["raft", "--servers", "0"],
        ["raft", "--bug", "no-such-bug"],
        ["raft", "--max-term", "many"],
        ["raft", "--workers", "0"],
        ["paxos"],
        ["raft", "--no-such-option"],
        ["raft", "--itf", "/no/such/dir/x.json"],
        ["raft", "--semantics", "raft-tla-set"],
        ["raft", "--engine", "packed"],
        ["raft", "--semantics", "raft-tla", "--bug", "no-step-down"],
        ["raft", "--semantics", "raft-tla", "--snapshots"],
        ["mapreduce", "--maps", "0"],
    ],
)
def test_bad_options_get_one_line_and_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_mapreduce_runs_through_the_same_checker_report_json_and_itf(tmp_path: Path) -> None:
    """MapReduce has no search of its own: the same JSON, counterexample and ITF as Raft."""
    clean = run("mapreduce", "--json")
    assert clean.returncode == 0, clean.stderr
    out = json.loads(clean.stdout)
    assert (out["spec"], out["verdict"], out["distinct_states"]) == ("mapreduce", "ok", 19_831)
    assert out["sometimes"] == {"the job finishes": True}
    itf = tmp_path / "mr.itf.json"
    bad = run("mapreduce", "--mutation", "commit_every_report", "--json", "--itf", str(itf))
    assert bad.returncode == 1, bad.stderr
    cex = json.loads(bad.stdout)["counterexample"]
    assert "exactly one completed map execution" in cex["invariant"]
    assert all(step["changes"] for step in cex["steps"])
    written = json.loads(itf.read_text())
    assert written["#meta"]["source"] == "dscheck model-check mapreduce"
    assert len(written["states"]) == cex["length"] + 1
    raft_keys = set(json.loads(run("raft", "--servers", "1", "--json").stdout))
    assert raft_keys - {"semantics", "engine", "symmetry"} == set(out)


def test_mr_check_spec_is_the_same_search() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checker", "mr", "check-spec", "--mutation", "reduce_before_maps_done"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=300,
    )
    assert result.returncode == 1
    assert "Counterexample" in result.stdout and "replayed through the spec" in result.stdout
