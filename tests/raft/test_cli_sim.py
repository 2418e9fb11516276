"""`dscheck sim raft`: summaries, traces, and one-line errors with exit 2 for bad settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dscheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def test_random_schedule_prints_a_summary_and_writes_a_trace(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    result = dscheck("sim", "raft", "--seed", "4", "--servers", "3", "--unreliable",
                     "--duration", "3", "--trace", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["verdict"] == "ok" and summary["servers"] == 3 and summary["unreliable"]
    assert summary["commits"] > 0 and summary["rpcs"] > 0 and summary["bytes"] > 0
    assert summary["leaders_per_term"]
    lines = out.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "dscheck-trace"
    assert json.loads(lines[0])["seed"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["run.jsonl"]  # no temporary left behind


def test_named_scenario_runs_and_reports_in_text() -> None:
    result = dscheck("sim", "raft", "--scenario", "TestBasicAgree2B", "--seed", "2")
    assert result.returncode == 0, result.stderr
    assert "basic_agree_2B" in result.stdout and "leaders per term" in result.stdout
    assert "OK" in result.stdout


def test_scenario_list_names_all_28() -> None:
    result = dscheck("sim", "raft", "--scenario", "list")
    assert result.returncode == 0
    assert len(result.stdout.strip().splitlines()) == 28


@pytest.mark.parametrize("args", [
    ["--servers", "0"],
    ["--drop-rate", "1.5"],
    ["--duration", "-1"],
    ["--no-such-option"],
    ["--scenario", "no_such_scenario"],
    ["--scenario", "figure8_2C", "--servers", "3"],
    ["--seed", "abc"],
])
def test_bad_settings_are_one_line_and_exit_2(args: list[str], tmp_path: Path) -> None:
    result = dscheck("sim", "raft", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
