"""Helpers that run MapReduce the way test-mr.sh does: real processes in a fresh directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from impl.mapreduce.apps import load_app
from impl.mapreduce.execution import sequential

REPO_ROOT = Path(__file__).resolve().parents[2]
PROCESS_LIMIT = 45.0  # test-mr.sh wraps every process in `timeout -k 2s 45s`
CRASH_PROCESS_LIMIT = 120.0  # ... and the crash test's in 120s


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def inputs(shared_data: Path) -> list[str]:
    files = sorted(str(path) for path in (shared_data / "pg").glob("pg-*.txt"))
    assert len(files) == 8, files
    return files


def mr_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "checker", "mr", *args]


def run_mr(
    *args: str, cwd: Path, timeout: float = PROCESS_LIMIT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        mr_command(*args),
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def sorted_output(directory: Path) -> bytes:
    """`sort mr-out* | grep .`: every output line of every reduce file, sorted, no empty lines."""
    lines: list[bytes] = []
    for path in directory.glob("mr-out*"):
        lines.extend(
            line for line in path.read_bytes().splitlines(keepends=True) if line.strip(b"\n")
        )
    return b"".join(sorted(lines))


def oracle(app: str, files: list[str], directory: Path) -> bytes:
    """The sequential run's output, sorted the same way (the lab's mr-correct-*.txt)."""
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / "mr-correct.txt"
    sequential(load_app(app), files, output)
    return b"".join(
        sorted(line for line in output.read_bytes().splitlines(keepends=True) if line.strip(b"\n"))
    )


class Job:
    """The processes of one test: started in `directory`, all killed (by pid) when the test ends."""

    def __init__(self, directory: Path, limit: float = PROCESS_LIMIT) -> None:
        self.directory = directory
        self.limit = limit
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            mr_command(*args),
            cwd=self.directory,
            env=environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.processes.append(process)
        return process

    def coordinator(self, files: list[str], *extra: str) -> subprocess.Popen[bytes]:
        process = self.start("coordinator", *files, *extra)
        # test-mr.sh: "give the coordinator time to create the sockets"
        time.sleep(1.0)
        return process

    def worker(self, app: str) -> subprocess.Popen[bytes]:
        return self.start("worker", app)

    def wait(self, process: subprocess.Popen[bytes]) -> int:
        try:
            return process.wait(timeout=self.limit)
        except subprocess.TimeoutExpired as expired:
            process.kill()
            raise AssertionError(
                f"process ran longer than {self.limit} s: {process.args}"
            ) from expired

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stderr is not None:
                process.stderr.close()


@contextmanager
def job(directory: Path, limit: float = PROCESS_LIMIT) -> Iterator[Job]:
    running = Job(directory, limit)
    try:
        yield running
    finally:
        running.kill_all()
