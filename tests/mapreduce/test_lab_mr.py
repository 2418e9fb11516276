"""The seven cases of the lab's test-mr.sh (scenarios section 2.4), with real processes.

Each test runs in a fresh directory (the script's `mr-tmp/`), starts `dscheck mr coordinator`
and `dscheck mr worker` processes the way the script does, and compares `sort mr-out* | grep .`
with the sorted sequential oracle byte for byte. Every process is killed if it outlives the
script's limit (45 s; 120 s in the crash test).
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from checker.trace_check.mapreduce import check_trace
from checker.verdict import Verdict
from tests.mapreduce.harness import (
    CRASH_PROCESS_LIMIT,
    inputs,
    job,
    oracle,
    sorted_output,
)


def test_wc_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)
    expected = oracle("wc", files, tmp_path / "oracle")
    work = tmp_path / "mr-tmp"
    work.mkdir()
    with job(work) as running:
        coordinator = running.coordinator(files)
        workers = [running.worker("wc") for _ in range(3)]
        # The script waits only for the coordinator, then compares at once: every output must
        # be final by the time the coordinator exits.
        assert running.wait(coordinator) == 0
        assert sorted_output(work) == expected
        for worker in workers:
            assert running.wait(worker) == 0
    assert len(expected.splitlines()) == 22107  # scenarios 2.2: 22 107 distinct words


def test_indexer_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)
    expected = oracle("indexer", files, tmp_path / "oracle")
    work = tmp_path / "mr-tmp"
    work.mkdir()
    with job(work) as running:
        coordinator = running.coordinator(files)
        workers = [running.worker("indexer") for _ in range(2)]
        assert running.wait(coordinator) == 0
        for worker in workers:
            running.wait(worker)
    assert sorted_output(work) == expected


def test_map_parallelism_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)
    with job(tmp_path) as running:
        coordinator = running.coordinator(files)
        workers = [running.worker("mtiming") for _ in range(2)]
        assert running.wait(coordinator) == 0
        for worker in workers:
            running.wait(worker)
    output = sorted_output(tmp_path).decode()
    # Both workers ran maps, and at some moment two maps ran at once.
    assert len(re.findall(r"^times-", output, re.MULTILINE)) == 2, output
    assert re.search(r"^parallel.* 2", output, re.MULTILINE), output


def test_reduce_parallelism_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)
    with job(tmp_path) as running:
        coordinator = running.coordinator(files)
        workers = [running.worker("rtiming") for _ in range(2)]
        assert running.wait(coordinator) == 0
        for worker in workers:
            running.wait(worker)
    output = sorted_output(tmp_path).decode()
    assert len(re.findall(r"^[a-z] 2", output, re.MULTILINE)) >= 2, output


def test_job_count_mr(shared_data: Path, tmp_path: Path) -> None:
    """Every map task runs exactly once in a crash-free run: no early backup tasks.

    Maps sleep 2-5 s, well under the default 10 s re-issue timeout this test keeps; a
    coordinator that re-issued early would make the count exceed 8.
    """
    files = inputs(shared_data)
    trace = tmp_path / "coordinator.trace.jsonl"
    with job(tmp_path) as running:
        coordinator = running.coordinator(files, "--trace", str(trace))
        background = running.worker("jobcount")
        assert running.wait(running.worker("jobcount")) == 0
        later = running.worker("jobcount")
        assert running.wait(running.worker("jobcount")) == 0
        for process in (coordinator, background, later):
            running.wait(process)
    assert sorted_output(tmp_path) == b"a 8\n"
    # The coordinator's own record agrees: every step followed the rules, nothing re-issued.
    checked = check_trace(trace)
    assert checked.verdict is Verdict.OK and checked.finished and checked.reissues == 0, checked


def test_early_exit_mr(shared_data: Path, tmp_path: Path) -> None:
    """No process may exit before every output file is final."""
    files = inputs(shared_data)
    expected = oracle("early_exit", files, tmp_path / "oracle")
    work = tmp_path / "mr-tmp"
    work.mkdir()
    with job(work) as running:
        processes = [running.coordinator(files)] + [running.worker("early_exit") for _ in range(3)]
        deadline = time.monotonic() + running.limit
        while all(process.poll() is None for process in processes):
            assert time.monotonic() < deadline, "no process exited within the time limit"
            time.sleep(0.05)
        at_first_exit = sorted_output(work)
        for process in processes:
            running.wait(process)
        after_all_exited = sorted_output(work)
    assert at_first_exit == after_all_exited
    assert after_all_exited == expected


def test_crash_mr(shared_data: Path, tmp_path: Path) -> None:
    """Workers really die (the crash app exits the process) or stall; new ones keep starting.

    As test-mr.sh: one crash worker, and three loops that start a new one a second after the
    previous one exits, for as long as the coordinator is up. The re-issue timeout is 2 s
    here instead of 10 s, to keep the suite short; stalls last up to 10 s, so stalled attempts
    are re-issued and complete late, which the coordinator must discard.
    """
    files = inputs(shared_data)
    expected = oracle("nocrash", files, tmp_path / "oracle")
    work = tmp_path / "mr-tmp"
    work.mkdir()
    with job(work, limit=CRASH_PROCESS_LIMIT) as running:
        trace = tmp_path / "coordinator.trace.jsonl"
        coordinator = running.coordinator(files, "--task-timeout", "2", "--trace", str(trace))
        first = running.worker("crash")
        statuses: list[int] = []

        def restart_loop() -> None:
            while coordinator.poll() is None and (work / "mr-coordinator.sock").exists():
                statuses.append(running.wait(running.worker("crash")))
                time.sleep(1.0)

        loops = [threading.Thread(target=restart_loop) for _ in range(3)]
        for loop in loops:
            loop.start()
        assert running.wait(coordinator) == 0
        for loop in loops:
            loop.join(timeout=CRASH_PROCESS_LIMIT)
        at_coordinator_exit = sorted_output(work)
        # Let stalled workers wake up and try to report late: nothing may change.
        for process in running.processes:
            running.wait(process)
        assert sorted_output(work) == at_coordinator_exit
        statuses.append(running.wait(first))
    assert at_coordinator_exit == expected
    # Workers really died (the crash app exits with status 1), and new ones replaced them.
    assert statuses.count(1) >= 1 and len(statuses) >= 2, statuses
    assert not list(work.glob(".mr-tmp-*")), "temporary files left behind"
    # Every hand-out, re-issue and commit of this run followed the spec's rules.
    checked = check_trace(trace)
    assert checked.verdict is Verdict.OK and checked.finished, checked.describe(str(trace))
