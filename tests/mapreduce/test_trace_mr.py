"""The coordinator's trace, and the checker that judges it against the spec's rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.trace_check.mapreduce import check_trace
from checker.verdict import EXIT_BAD_INPUT, EXIT_VIOLATION, Verdict
from impl.mapreduce.core import CoordinatorCore, MapAssignment, ReduceAssignment
from impl.mapreduce.protocol import reply_to_map
from impl.mapreduce.trace import TraceWriter
from spec.errors import BadInput
from tests.mapreduce.harness import environment, run_mr


def write_trace(path: Path) -> None:
    """A whole job in virtual time: a re-issued map whose late first attempt wins, a discarded
    backup, then the reduces."""
    core = CoordinatorCore(["a", "b"], 2, task_timeout=10.0)
    writer = TraceWriter(path, core, ["a", "b"])

    def ask(now: float, worker: str) -> MapAssignment | ReduceAssignment:
        reply = core.request(now)
        writer.step(int(now * 1000), worker, {"op": "ask", "worker": worker}, reply_to_map(reply))
        assert isinstance(reply, MapAssignment | ReduceAssignment)
        return reply

    def report(now: float, worker: str, task: MapAssignment | ReduceAssignment) -> None:
        kind = "map" if isinstance(task, MapAssignment) else "reduce"
        decision = core.complete(kind, task.task, task.attempt)
        msg = {
            "op": "done",
            "worker": worker,
            "kind": kind,
            "task": task.task,
            "attempt": task.attempt,
        }
        writer.step(
            int(now * 1000),
            worker,
            msg,
            {"type": "ack", "committed": type(decision).__name__ == "Commit"},
        )

    slow, other = ask(0.0, "w1"), ask(0.5, "w2")
    report(3.0, "w2", other)
    backup = ask(10.0, "w3")  # map 0 re-issued at its timeout
    report(11.0, "w1", slow)  # the slow first attempt wins ...
    report(12.0, "w3", backup)  # ... and the backup is discarded
    for now in (13.0, 14.0):
        report(now + 0.5, "w2", ask(now, "w2"))
    writer.close()


def edit(path: Path, seq: int, change: dict[str, object], where: str = "") -> None:
    lines = path.read_text().splitlines()
    record = json.loads(lines[seq])
    target = record[where] if where else record
    target.update(change)
    lines[seq] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")


def test_a_real_schedule_passes_mr(tmp_path: Path) -> None:
    write_trace(tmp_path / "t.jsonl")
    result = check_trace(tmp_path / "t.jsonl")
    assert result.verdict is Verdict.OK, result.describe("t")
    assert result.finished and result.reissues == 1


def test_early_reissue_is_caught_mr(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path)
    edit(path, 0, {"task_timeout_ms": 10_500}, where="config")  # the re-issue came 0.5 s early
    result = check_trace(path)
    assert result.verdict is Verdict.VIOLATION
    assert [f.rule for f in result.findings] == ["never re-issued before the timeout"]
    assert result.findings[0].line == 5  # header, ask, ask, report, then the backup's hand-out


def test_second_commit_is_caught_mr(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path)
    edit(path, 6, {"committed": True}, where="reply")  # the backup overwrote the winner
    rules = [f.rule for f in check_trace(path).findings]
    assert "each intermediate file reflects exactly one completed map execution" in rules


def test_done_too_early_is_caught_mr(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path)
    edit(path, 8, {"done": True}, where="state")  # claims done with a reduce unfinished
    result = check_trace(path)
    assert result.verdict is Verdict.VIOLATION
    assert result.findings[0].line == 9 and "done" in result.findings[0].detail


def test_reduce_before_maps_is_caught_mr(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path)
    edit(path, 1, {"type": "reduce", "task": 0, "attempt": 0, "n_map": 2}, where="reply")
    rules = {f.rule for f in check_trace(path).findings}
    assert "reduces only after every map is committed" in rules


def test_malformed_trace_is_bad_input_mr(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:3], "{not json", *lines[3:]]) + "\n")
    with pytest.raises(BadInput) as error:
        check_trace(path)
    assert error.value.line == 4
    result = run_mr("check-trace", str(path), cwd=tmp_path)
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr.strip().count("\n") == 0 and f"{path}:4:" in result.stderr


def test_cli_exit_status_follows_the_verdict_mr(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_trace(path)
    assert run_mr("check-trace", str(path), cwd=tmp_path).returncode == 0
    edit(path, 0, {"task_timeout_ms": 10_500}, where="config")
    result = run_mr("check-trace", str(path), cwd=tmp_path)
    assert result.returncode == EXIT_VIOLATION
    assert "never re-issued before the timeout" in result.stdout


def test_check_trace_reads_a_mapreduce_trace_as_mr_check_trace_does_mr(tmp_path: Path) -> None:
    """`dscheck check-trace` hands a MapReduce trace to the same checker, with the same
    verdict, findings and exit status as `dscheck mr check-trace`."""
    path = tmp_path / "t.jsonl"
    write_trace(path)
    for edited in (False, True):
        if edited:
            edit(path, 0, {"task_timeout_ms": 10_500}, where="config")
        via_mr = run_mr("check-trace", str(path), cwd=tmp_path)
        generic = subprocess.run(
            [sys.executable, "-m", "checker", "check-trace", str(path)],
            cwd=tmp_path, env=environment(), capture_output=True, text=True, check=False,
        )
        assert generic.returncode == via_mr.returncode == (EXIT_VIOLATION if edited else 0)
        assert generic.stdout == via_mr.stdout and generic.stderr == via_mr.stderr == ""
    as_json = subprocess.run(
        [sys.executable, "-m", "checker", "check-trace", "--json", str(path)],
        cwd=tmp_path, env=environment(), capture_output=True, text=True, check=False,
    )
    report = json.loads(as_json.stdout)
    assert (report["system"], report["verdict"]) == ("mapreduce", "violation")
    assert [f["rule"] for f in report["findings"]] == ["never re-issued before the timeout"]


def test_envelope_errors_come_from_the_shared_reader_mr(tmp_path: Path) -> None:
    """The one trace reader checks the envelope of a MapReduce trace: a gap in seq is bad
    input at its line, and a Raft trace is not a MapReduce trace."""
    path = tmp_path / "t.jsonl"
    write_trace(path)
    edit(path, 3, {"seq": 7})
    with pytest.raises(BadInput) as error:
        check_trace(path)
    assert (error.value.line, error.value.message) == (
        4, "seq is 7; expected 3 (consecutive from 1)")
    golden = Path(__file__).resolve().parents[2] / "traces" / "golden"
    result = run_mr("check-trace", str(golden / "raft-basic-agree-2B-seed1.jsonl"), cwd=tmp_path)
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr.count("\n") == 1 and "expected a \"mapreduce\" trace" in result.stderr


def test_the_coordinators_trace_follows_the_schema_mr(tmp_path: Path) -> None:
    import jsonschema

    root = Path(__file__).resolve().parents[2]
    schema = json.loads((root / "traces" / "trace.schema.json").read_text())
    header = jsonschema.Draft202012Validator({"$ref": "#/$defs/header", "$defs": schema["$defs"]})
    event = jsonschema.Draft202012Validator({"$ref": "#/$defs/mapreduce_event",
                                             "$defs": schema["$defs"]})
    path = tmp_path / "t.jsonl"
    write_trace(path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    header.validate(records[0])
    for record in records[1:]:
        event.validate(record)
    records[0]["config"]["n_map"] = "two"
    assert not header.is_valid(records[0])
    del records[1]["reply"]
    assert not event.is_valid(records[1])
