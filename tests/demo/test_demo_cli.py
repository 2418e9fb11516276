"""`dscheck demo` end to end: it simulates, records, and every stage judges the record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_every_checker_on_the_recorded_run(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "checker", "demo", "--duration", "5", "--out", str(out), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [s["stage"] for s in report["stages"]] == [
        "simulate", "trace invariants", "linearizability", "model check"]
    assert all(s["verdict"] == "ok" for s in report["stages"])
    assert report == json.loads((out / "report.json").read_text())
    trace = (out / "raft-trace.jsonl").read_text().splitlines()
    assert json.loads(trace[0])["format"] == "dscheck-trace"
    lin = next(s for s in report["stages"] if s["stage"] == "linearizability")
    assert lin["figures"]["operations"] > 0
    assert (out / "linearizability.html").read_text().startswith("<!DOCTYPE html>")
    # The recorded history is a file of its own that `dscheck lin` audits to the same verdict.
    audit = subprocess.run(
        [sys.executable, "-m", "checker", "lin", str(out / "raft-log-history.jsonl"), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert audit.returncode == 0, audit.stderr
    audited = json.loads(audit.stdout)
    assert (audited["verdict"], audited["operations"]) == ("ok", lin["figures"]["operations"])


def test_demo_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checker", "demo", "--servers", "0"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "dscheck-demo").exists()
