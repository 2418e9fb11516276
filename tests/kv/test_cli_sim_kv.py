"""`dscheck sim kv`: scenarios and random faults, trace and history files, the audit's
verdict in the exit status, and one-line errors with exit 2 for impossible settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dscheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def test_random_faults_write_a_trace_and_a_history_that_dscheck_lin_reads(
        tmp_path: Path) -> None:
    trace, history = tmp_path / "run.jsonl", tmp_path / "history.jsonl"
    result = dscheck("sim", "kv", "--seed", "4", "--servers", "3", "--clients", "4",
                     "--unreliable", "--maxraftstate", "800", "--duration", "3",
                     "--trace", str(trace), "--history", str(history), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["verdict"] == "ok" and summary["failure"] is None
    assert summary["servers"] == 3 and summary["unreliable"] and summary["maxraftstate"] == 800
    assert summary["calls"] > 0 and summary["settled"] + summary["unknown"] > 0
    assert summary["linearizability"]["verdict"] == "ok"
    header = json.loads(trace.read_text().splitlines()[0])
    assert (header["format"], header["system"], header["seed"]) == ("dscheck-trace", "kv", 4)
    lin = dscheck("lin", "--model", "kv", str(history))
    assert lin.returncode == 0, lin.stdout + lin.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.jsonl", "run.jsonl"]


def test_a_named_scenario_prints_its_pass_lines_and_the_audit() -> None:
    result = dscheck("sim", "kv", "--scenario", "TestOnePartition3A", "--seed", "2")
    assert result.returncode == 0, result.stderr
    for title in ("progress in majority", "no progress in minority", "completion after heal"):
        assert f"Test: {title} (3A) ... Passed" in result.stdout
    assert "linearizability: OK" in result.stdout


def test_scenario_list_names_all_23() -> None:
    result = dscheck("sim", "kv", "--scenario", "list")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 23
    assert sum("3A" in line.split()[0] for line in lines) == 14


@pytest.mark.parametrize("args", [
    ["--servers", "0"],
    ["--clients", "0"],
    ["--maxraftstate", "0"],
    ["--maxraftstate", "-7"],
    ["--duration", "-1"],
    ["--seed", "abc"],
    ["--no-such-option"],
    ["--scenario", "no_such_scenario"],
    ["--scenario", "basic_3A", "--servers", "3"],
    ["--scenario", "basic_3A", "--no-crashes"],
    ["--trace", "/no/such/directory/run.jsonl"],
])
def test_impossible_settings_are_one_line_and_exit_2(args: list[str]) -> None:
    result = dscheck("sim", "kv", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_server_that_raises_is_a_violation_naming_the_fault_and_the_trace_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from checker.cli.main import main
    from impl.kv import server as kv_server

    apply = kv_server.KVServer._apply

    def broken(self: kv_server.KVServer, index: int, term: int, op: Any) -> None:
        if index >= 20:
            raise ZeroDivisionError("the store went wrong")
        apply(self, index, op=op, term=term)

    monkeypatch.setattr(kv_server.KVServer, "_apply", broken)
    out, history = tmp_path / "run.jsonl", tmp_path / "history.jsonl"
    try:
        code = main(["sim", "kv", "--seed", "2", "--servers", "3", "--duration", "3",
                     "--trace", str(out), "--history", str(history), "--json"])
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    assert code == 1, captured.err
    summary = json.loads(captured.out)
    fault = summary["fault"]
    assert summary["verdict"] == "violation" and fault["kind"] == "exception"
    assert fault["error"] == "ZeroDivisionError: the store went wrong"
    assert isinstance(fault["node"], int) and fault["event_is_trace_seq"]
    lines = out.read_text().splitlines()
    assert json.loads(lines[-1])["seq"] == fault["event"] - 1  # every event before the fault
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.jsonl", "run.jsonl"]
