"""`dscheck mr` on bad input: one line, exit 2, and nothing left behind that looks like output."""

from __future__ import annotations

import re
from pathlib import Path

from checker.trace_check.mapreduce import check_trace
from checker.verdict import EXIT_BAD_INPUT, Verdict
from tests.mapreduce.harness import inputs, oracle, run_mr, sorted_output


def assert_one_line_exit_2(result: object, *needles: str) -> None:
    assert result.returncode == EXIT_BAD_INPUT, result  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


def no_outputs(directory: Path) -> bool:
    return not list(directory.glob("mr-out*")) and not list(directory.glob("mr-*-*"))


def test_missing_input_file_mr(shared_data: Path, tmp_path: Path) -> None:
    files = [*inputs(shared_data)[:2], "no-such-file.txt"]
    for verb in (["sequential", "wc"], ["coordinator"], ["run", "wc", "--workers", "1"]):
        result = run_mr(*verb, *files, cwd=tmp_path)
        assert_one_line_exit_2(result, "no-such-file.txt", "input file not found")
        assert no_outputs(tmp_path)
        assert not (tmp_path / "mr-coordinator.sock").exists()


def test_app_without_reduce_mr(shared_data: Path, tmp_path: Path) -> None:
    app = tmp_path / "half.py"
    app.write_text("def map(filename, contents):\n    return []\n")
    files = inputs(shared_data)[:1]
    for verb in (
        ["sequential", str(app)],
        ["worker", str(app)],
        ["run", str(app), "--workers", "1"],
    ):
        args = verb if verb[0] == "worker" else [*verb, *files]
        result = run_mr(*args, cwd=tmp_path)
        assert_one_line_exit_2(result, "half.py", "reduce()")
        assert no_outputs(tmp_path)


def test_unknown_app_name_mr(tmp_path: Path) -> None:
    assert_one_line_exit_2(run_mr("worker", "nosuchapp", cwd=tmp_path), "unknown application")


def test_unreachable_coordinator_mr(tmp_path: Path) -> None:
    result = run_mr("worker", "wc", "--wait", "0.5", cwd=tmp_path)
    assert_one_line_exit_2(result, "mr-coordinator.sock", "no coordinator answered")
    result = run_mr("worker", "wc", "--wait", "0.5", "--tcp", "127.0.0.1:9", cwd=tmp_path)
    assert_one_line_exit_2(result, "127.0.0.1:9")


def test_application_that_raises_stops_the_run_and_leaves_nothing_mr(
    shared_data: Path, tmp_path: Path
) -> None:
    app = tmp_path / "boom.py"
    app.write_text(
        "def map(filename, contents):\n    return [('k', 'v')]\n"
        "def reduce(key, values):\n    raise ValueError('boom')\n"
    )
    work = tmp_path / "job"
    result = run_mr(
        "run",
        str(app),
        *inputs(shared_data)[:2],
        "--workers",
        "2",
        "--dir",
        str(work),
        cwd=tmp_path,
    )
    assert_one_line_exit_2(result, "boom")
    assert no_outputs(work)


def test_run_leaves_the_oracles_output_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)
    work = tmp_path / "job"
    result = run_mr(
        "run", "wc", *files, "--workers", "2", "--dir", str(work), "--codec", "json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "8/8 map, 10/10 reduce" in result.stdout
    assert sorted(p.name for p in work.glob("mr-out-*")) == sorted(f"mr-out-{i}" for i in range(10))
    assert sorted_output(work) == oracle("wc", files, tmp_path / "oracle")


def test_run_restarts_crashed_workers_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)[:3]
    work = tmp_path / "job"
    result = run_mr(
        "run",
        "crash",
        *files,
        "--workers",
        "3",
        "--reduce",
        "3",
        "--task-timeout",
        "1",
        "--dir",
        str(work),
        "--trace",
        str(tmp_path / "run.trace.jsonl"),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted_output(work) == oracle("nocrash", files, tmp_path / "oracle")
    checked = check_trace(tmp_path / "run.trace.jsonl")
    assert checked.verdict is Verdict.OK and checked.finished, checked.describe("run.trace.jsonl")


def test_sequential_cli_writes_mr_out_0_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)
    result = run_mr("sequential", "wc", *files, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "mr-out-0").read_text().splitlines()
    assert lines[:3] == ["A 509", "ABOUT 2", "ACT 8"]  # scenarios 2.2
    counts = dict(line.split(" ") for line in lines)
    assert (counts["the"], counts["and"], counts["a"]) == ("29748", "23612", "13382")
    assert len(lines) == 22107 and sum(int(v) for v in counts.values()) == 623948


def test_run_that_cannot_finish_removes_what_it_committed_mr(
    shared_data: Path, tmp_path: Path
) -> None:
    """Workers that always die on one reduce key: after --max-restarts the run gives up (exit 1)
    and removes the intermediate and output files it had already committed."""
    app = tmp_path / "dies.py"
    app.write_text(
        "import os\n"
        "def map(filename, contents):\n    return [(k, '1') for k in 'abcdefghij']\n"
        "def reduce(key, values):\n"
        "    if key == 'j':\n        os._exit(1)\n"
        "    return str(len(values))\n"
    )
    work = tmp_path / "job"
    result = run_mr(
        "run",
        str(app),
        *inputs(shared_data)[:2],
        "--workers",
        "2",
        "--max-restarts",
        "2",
        "--task-timeout",
        "0.5",
        "--dir",
        str(work),
        cwd=tmp_path,
    )
    assert result.returncode == 1, result
    assert "partial files removed" in result.stderr
    assert "reduce phase" not in result.stdout  # it never completed
    assert no_outputs(work)


def test_run_forks_separate_concurrent_worker_processes_mr(
    shared_data: Path, tmp_path: Path
) -> None:
    """`run` forks its workers: they must still be separate processes (two distinct pids) that
    run maps at the same time, as the map-parallelism case asks."""
    files = inputs(shared_data)[:4]
    work = tmp_path / "job"
    result = run_mr("run", "mtiming", *files, "--workers", "2", "--dir", str(work), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = sorted_output(work).decode()
    assert len(re.findall(r"^times-", output, re.MULTILINE)) == 2, output
    assert re.search(r"^parallel.* 2", output, re.MULTILINE), output
