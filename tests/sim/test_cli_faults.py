"""`dscheck sim raft` with a broken Raft core: the fault is a VIOLATION that names the
exception, the event and the node; the trace up to it is kept under its final name (no
temporary file left) and `dscheck check-trace` reads it; an interrupted run leaves nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.cli import sim as sim_cli
from checker.cli.main import main
from tests.broken_cores import chattering, raising_at_match

Capture = pytest.CaptureFixture[str]


def dscheck(capsys: Capture, *args: str) -> tuple[int, str, str]:
    """Run the command in this process (so that a monkeypatched core is the one it runs)."""
    try:
        code = main(list(args))  # click hands back an Exit's status instead of exiting
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr()
    return (code if isinstance(code, int) else 0), out.out, out.err


@pytest.fixture
def core_raises() -> Iterator[None]:
    with raising_at_match(5):
        yield


@pytest.fixture
def core_chatters() -> Iterator[None]:
    with chattering():
        yield


def test_a_core_exception_is_a_violation_and_the_partial_trace_is_kept(
        capsys: Capture, tmp_path: Path, core_raises: None) -> None:
    out = tmp_path / "run.jsonl"
    code, stdout, stderr = dscheck(capsys, "sim", "raft", "--seed", "3", "--servers", "3",
                                   "--duration", "5", "--trace", str(out), "--json")
    assert code == 1, stderr
    summary = json.loads(stdout)
    fault = summary["fault"]
    assert summary["verdict"] == "violation" and fault["kind"] == "exception"
    assert fault["error"] == "ZeroDivisionError: commit arithmetic went wrong"
    assert isinstance(fault["node"], int) and fault["event_is_trace_seq"]
    assert summary["failure"].startswith("the implementation raised ZeroDivisionError")
    assert f"at event {fault['event']} (node {fault['node']}," in summary["failure"]
    assert [p.name for p in tmp_path.iterdir()] == ["run.jsonl"]  # no temporary left behind
    lines = out.read_text().splitlines()
    assert json.loads(lines[-1])["seq"] == fault["event"] - 1  # every event before the fault
    code, stdout, stderr = dscheck(capsys, "check-trace", str(out), "--json")
    assert code in (0, 1) and stderr == ""  # judged, never "bad input"
    assert json.loads(stdout)["events"] == fault["event"] - 1


def test_the_text_summary_names_the_fault_and_the_trace(
        capsys: Capture, tmp_path: Path, core_raises: None) -> None:
    out = tmp_path / "run.jsonl"
    code, stdout, _ = dscheck(capsys, "sim", "raft", "--seed", "3", "--servers", "3",
                              "--duration", "5", "--trace", str(out))
    assert code == 1
    assert "VIOLATION: the implementation raised ZeroDivisionError: commit arithmetic went " \
           "wrong at event" in " ".join(stdout.split())
    assert f"judge it with 'dscheck check-trace {out}'" in " ".join(stdout.split())


def test_a_run_the_watchdog_stops_is_a_violation(capsys: Capture, tmp_path: Path,
                                                 core_chatters: None) -> None:
    out = tmp_path / "run.jsonl"
    code, stdout, _ = dscheck(capsys, "sim", "raft", "--seed", "1", "--servers", "3",
                              "--duration", "5", "--trace", str(out), "--json")
    summary = json.loads(stdout)
    assert code == 1 and summary["fault"]["kind"] == "stalled"
    assert "virtual time stopped advancing" in summary["failure"]
    assert [p.name for p in tmp_path.iterdir()] == ["run.jsonl"]


def test_an_interrupted_run_leaves_no_file(capsys: Capture, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(**kwargs: Any) -> Any:
        kwargs["trace"].header("raft", {"servers": 3}, 1)
        raise KeyboardInterrupt

    monkeypatch.setattr(sim_cli, "simulate", interrupted)
    code, _, _ = dscheck(capsys, "sim", "raft", "--trace", str(tmp_path / "run.jsonl"))
    assert code == 130
    assert list(tmp_path.iterdir()) == []
