"""Process life cycle: a worker started first waits, workers leave when the coordinator is gone,
TCP works as the Unix socket does, and an application can be loaded from a file path."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.mapreduce.harness import inputs, job, oracle, run_mr, sorted_output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_worker_started_first_waits_for_the_coordinator_mr(
    shared_data: Path, tmp_path: Path
) -> None:
    files = inputs(shared_data)[:2]
    with job(tmp_path) as running:
        worker = running.worker("wc")
        time.sleep(1.0)
        assert worker.poll() is None, "the worker gave up before the coordinator came up"
        coordinator = running.start("coordinator", *files, "--reduce", "3")
        assert running.wait(coordinator) == 0
        assert running.wait(worker) == 0
    assert sorted_output(tmp_path) == oracle("wc", files, tmp_path / "oracle")


def test_workers_exit_when_the_coordinator_is_gone_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)
    with job(tmp_path) as running:
        coordinator = running.coordinator(files)
        workers = [running.worker("mtiming") for _ in range(2)]  # 1-second maps
        time.sleep(1.5)
        coordinator.kill()  # SIGKILL: no goodbye, the socket file stays behind
        coordinator.wait()
        started = time.monotonic()
        for worker in workers:
            assert running.wait(worker) == 0
        assert time.monotonic() - started < 10
    # The job never finished: no reduce output exists, and no temporary file was left over.
    assert not list(tmp_path.glob("mr-out-*"))
    assert not list(tmp_path.glob(".mr-tmp-*"))


def test_tcp_and_json_codec_mr(shared_data: Path, tmp_path: Path) -> None:
    files = inputs(shared_data)[:3]
    address = f"127.0.0.1:{free_port()}"
    with job(tmp_path) as running:
        coordinator = running.start("coordinator", *files, "--tcp", address)
        workers = [
            running.start("worker", "indexer", "--tcp", address, "--codec", "json")
            for _ in range(2)
        ]
        assert running.wait(coordinator) == 0
        for worker in workers:
            assert running.wait(worker) == 0
    assert sorted_output(tmp_path) == oracle("indexer", files, tmp_path / "oracle")


def test_application_loaded_from_a_path_mr(shared_data: Path, tmp_path: Path) -> None:
    app = tmp_path / "lengths.py"
    app.write_text(
        "def map(filename, contents):\n"
        "    return [(str(len(line)), '1') for line in contents.splitlines()]\n"
        "def reduce(key, values):\n"
        "    return str(len(values))\n"
    )
    files = inputs(shared_data)[:2]
    work = tmp_path / "job"
    result = run_mr("run", str(app), *files, "--workers", "2", "--dir", str(work), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted_output(work) == oracle(str(app), files, tmp_path / "oracle")


def test_coordinator_stopped_by_sigterm_cleans_up_mr(shared_data: Path, tmp_path: Path) -> None:
    with job(tmp_path) as running:
        coordinator = running.coordinator(inputs(shared_data))
        assert (tmp_path / "mr-coordinator.sock").exists()
        coordinator.terminate()
        assert running.wait(coordinator) == 128 + 15
        assert coordinator.stderr is not None
        assert b"stopped by signal 15" in coordinator.stderr.read()
    assert not (tmp_path / "mr-coordinator.sock").exists()
    assert not list(tmp_path.glob("mr-out-*"))
