"""`dscheck lin`: exit statuses, one summary line per file, --json, time limits, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from checker.verdict import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATION

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "traces" / "golden" / "histories"
OK_FILE = str(GOLDEN / "kv-ok.jsonl")
BAD_FILE = str(GOLDEN / "kv-stale-read.jsonl")


def lin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", "lin", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def _hard_history(tmp_path: Path) -> str:
    """Twenty concurrent writes, then two reads that each need a different write to be the
    last: no order explains both, no cheap proof sees it, and the search must try every
    subset of the writes."""
    lines = ['{"format": "dscheck-history", "version": 1, "model": "register"}']
    for c in range(20):
        lines.append(json.dumps({"type": "invoke", "client": c, "time": 0, "f": "write", "value": c}))
    for c in range(20):
        lines.append(json.dumps({"type": "ok", "client": c, "time": 1}))
    for c, t, v in ((98, 2, 0), (99, 4, 1)):
        lines.append(json.dumps({"type": "invoke", "client": c, "time": t, "f": "read"}))
        lines.append(json.dumps({"type": "ok", "client": c, "time": t + 1, "value": v}))
    path = tmp_path / "hard.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_ok_file_exits_0_with_one_summary_line() -> None:
    result = lin(OK_FILE)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.strip().splitlines() == [result.stdout.strip()]
    assert ": OK" in result.stdout


def test_violation_exits_1_and_explains() -> None:
    result = lin(BAD_FILE)
    assert result.returncode == EXIT_VIOLATION
    assert "VIOLATION" in result.stdout
    assert "the model returns 'new' here" in result.stdout


def test_exit_status_is_the_worst_over_files(tmp_path: Path) -> None:
    assert lin(OK_FILE, BAD_FILE).returncode == EXIT_VIOLATION
    assert lin(OK_FILE, _hard_history(tmp_path), "--timeout", "0.3").returncode == EXIT_UNKNOWN


def test_time_limit_is_unknown_never_ok(tmp_path: Path) -> None:
    result = lin("--json", "--timeout", "0.3", _hard_history(tmp_path))
    assert result.returncode == EXIT_UNKNOWN
    data = json.loads(result.stdout)
    assert data["verdict"] == "unknown"


def test_json_has_one_object_per_file_with_the_evidence() -> None:
    result = lin("--json", OK_FILE, BAD_FILE)
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["file"] for o in objects] == [OK_FILE, BAD_FILE]
    assert [o["verdict"] for o in objects] == ["ok", "violation"]
    for o in objects:
        assert isinstance(o["operations"], int) and isinstance(o["seconds"], float)
    failing = objects[1]["failing"][0]
    assert failing["key"] == "k"
    assert [op["text"] for op in failing["prefix"]] == ["c0 put['k']('old') -> nil", "c1 put['k']('new') -> nil"]
    assert failing["refusals"][0]["model_output"] == "new"
    assert failing["must_precede"]["output"] == "old"


def test_model_and_format_options(tmp_path: Path) -> None:
    # The Knossos golden file read as a plain register cannot hold its cas.
    knossos = str(GOLDEN / "register-knossos.edn")
    assert lin(knossos, "--model", "cas-register").returncode == EXIT_OK
    result = lin(knossos, "--format", "jsonl")
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr.startswith(f"dscheck: {knossos}:1: ")


def test_bad_input_is_one_line_exit_2_and_no_partial_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.log"
    broken.write_text("INFO  jepsen.util - 2\t:invoke\t:cas\t[3\n")
    result = lin(OK_FILE, str(broken))
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == ""  # nothing checked or printed before the bad file was found
    assert result.stderr.startswith(f"dscheck: {broken}:1: the value '[3' is not valid EDN")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_file_and_bad_option_exit_2(tmp_path: Path) -> None:
    assert lin(str(tmp_path / "nope")).returncode == EXIT_BAD_INPUT
    assert lin(OK_FILE, "--model", "queue").returncode == EXIT_BAD_INPUT
    assert lin(OK_FILE, "--timeout", "-1").returncode == EXIT_BAD_INPUT


def test_an_operation_the_model_does_not_know_is_bad_input_before_any_output(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(
        '{"format": "dscheck-history", "version": 1, "model": "kv"}\n'
        '{"type": "invoke", "client": 0, "f": "increment", "key": "k", "value": 1}\n'
        '{"type": "ok", "client": 0}\n'
    )
    result = lin(OK_FILE, str(wrong))
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == ""
    assert result.stderr.startswith(f"dscheck: {wrong}:2: c0 increment['k'](1) -> nil: kv model")
