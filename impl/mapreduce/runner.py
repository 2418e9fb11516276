"""A whole job on one machine: the coordinator in this process, workers as child processes.

This is what `dscheck mr run` does, and what the lab's scripts do by hand: start a coordinator,
start N workers in the same directory, wait for the coordinator to finish. Workers are real
processes talking to the coordinator over its socket, exactly as `dscheck mr worker` started
from a shell would; they are forked from this process rather than started as fresh
interpreters (see `forked`), which saves each one the interpreter's start-up. A worker that dies (the crash application exits on purpose) is replaced, as
the lab's crash test restarts them, up to `max_restarts` times. A worker that reports bad input
(an application that raises) stops the whole run.

If the run does not finish, every file it committed is removed again, so nothing partial is left
behind looking like output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from impl.mapreduce.apps import is_path, load_app
from impl.mapreduce.coordinator import DEFAULT_TASK_TIMEOUT, Coordinator
from impl.mapreduce.core import CoordinatorCore, Progress
from impl.mapreduce.execution import check_inputs
from impl.mapreduce.forked import fork_worker
from impl.mapreduce.protocol import Codec
from impl.mapreduce.trace import TraceWriter
from impl.mapreduce.transport import DEFAULT_SOCKET_NAME, MAX_UNIX_PATH, Endpoint
from spec.errors import BadInput

OUTPUT_PATTERN = re.compile(r"mr-out-\d+")
EXIT_GRACE = 1.0  # seconds the workers get to hear "exit" before the stalled ones are killed


class RunFailed(Exception):
    """The job could not finish (workers kept dying); its partial files were removed."""


@dataclass(slots=True)
class RunSummary:
    progress: Progress
    seconds: float
    workers_started: int
    worker_crashes: int
    outputs: list[Path] = field(default_factory=list)


def remove_stale_outputs(directory: Path) -> None:
    """An `mr-out-*` from an earlier job (say with more reduce tasks) would pass for output."""
    for path in directory.glob("mr-out-*"):
        if OUTPUT_PATTERN.fullmatch(path.name):
            path.unlink()


async def run_job(
    app_spec: str,
    files: Sequence[str],
    *,
    workers: int,
    directory: Path,
    n_reduce: int = 10,
    task_timeout: float = DEFAULT_TASK_TIMEOUT,
    codec: Codec = "msgpack",
    max_restarts: int = 100,
    trace_path: Path | None = None,
    on_progress: Callable[[Progress, int], None] = lambda progress, crashes: None,
) -> RunSummary:
    load_app(app_spec)  # bad applications are reported here, once, not by every worker
    app_arg = str(Path(app_spec).resolve()) if is_path(app_spec) else app_spec
    paths = check_inputs(files)
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    remove_stale_outputs(directory)
    socket_path = directory / DEFAULT_SOCKET_NAME
    endpoint = (
        Endpoint(unix_path=socket_path)
        if len(str(socket_path).encode()) <= MAX_UNIX_PATH
        else Endpoint(host="127.0.0.1", port=0)
    )
    core = CoordinatorCore(list(files), n_reduce, task_timeout, paths=paths)
    started = time.monotonic()
    supervisor: _Supervisor | None = None

    def changed() -> None:
        on_progress(core.progress(), supervisor.crashes if supervisor is not None else 0)

    trace = None
    if trace_path is not None:
        try:
            trace = TraceWriter(trace_path, core, list(files))
        except OSError as error:
            raise BadInput(
                f"cannot write the trace: {error.strerror}", path=str(trace_path)
            ) from error
    coordinator = Coordinator(core, directory, endpoint, on_change=changed, trace=trace)
    await coordinator.start()
    supervisor = _Supervisor(app_arg, coordinator.endpoint, directory, codec, max_restarts)
    finished = False
    slots: list[asyncio.Task[None]] = []
    try:
        slots = [asyncio.create_task(supervisor.keep_one_running(core)) for _ in range(workers)]
        done_waiter = asyncio.create_task(coordinator.wait_done())
        failed_waiter = asyncio.create_task(supervisor.failed.wait())
        while not (done_waiter.done() or failed_waiter.done()):
            on_progress(core.progress(), supervisor.crashes)
            # FIRST_COMPLETED: the default waits for both (or the time-out), so the end of every
            # job was noticed up to 0.1 s late (measured: 38 ms of a 0.2 s one-file run).
            await asyncio.wait(
                {done_waiter, failed_waiter}, timeout=0.1, return_when=asyncio.FIRST_COMPLETED
            )
        on_progress(core.progress(), supervisor.crashes)
        failed_waiter.cancel()
        if not core.done:
            raise supervisor.failure or RunFailed("the job did not finish")
        finished = True
        seconds = time.monotonic() - started  # until every output was final
        # Workers hear "exit" on their next request; stalled ones (crash app) are killed.
        await asyncio.wait(slots, timeout=EXIT_GRACE)
        return RunSummary(
            progress=core.progress(),
            seconds=seconds,
            workers_started=supervisor.started,
            worker_crashes=supervisor.crashes,
            outputs=sorted(p for p in coordinator.committed if OUTPUT_PATTERN.fullmatch(p.name)),
        )
    finally:
        await supervisor.stop()
        for slot in slots:
            slot.cancel()
        await asyncio.gather(*slots, return_exceptions=True)
        await coordinator.close()
        if trace is not None:
            trace.close()
        if not finished:
            for path in coordinator.committed:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


class _Supervisor:
    """Keeps worker processes running until the job is done; restarts the ones that crash.

    Workers are forked from this process (see `forked`): separate processes that reach the
    coordinator only through its socket, without a fresh interpreter's start-up cost each.
    """

    def __init__(
        self, app: str, endpoint: Endpoint, directory: Path, codec: Codec, max_restarts: int
    ) -> None:
        self.app = app
        self.endpoint = endpoint
        self.directory = directory
        self.codec: Codec = codec
        self.max_restarts = max_restarts
        self.started = 0
        self.crashes = 0
        self.failed = asyncio.Event()
        self.failure: Exception | None = None
        self._running: set[int] = set()
        self._stopping = False

    async def keep_one_running(self, core: CoordinatorCore) -> None:
        loop = asyncio.get_running_loop()
        while not (core.done or self._stopping or self.failed.is_set()):
            pid, stderr_fd = fork_worker(self.app, self.endpoint, self.directory, self.codec)
            self.started += 1
            self._running.add(pid)
            try:
                stderr = await _read_to_end(loop, stderr_fd)  # end of file: the worker exited
                if pid not in self._running:
                    return  # stop() killed and reaped it
                status = _reap(pid)
            finally:
                self._running.discard(pid)
            if core.done or self._stopping or status == 0:
                return
            message = stderr.decode(errors="replace").strip().splitlines()
            if status == 2:  # the worker's one-line bad-input report: stop everything
                line = message[-1] if message else "a worker reported bad input"
                self._fail(BadInput(line.removeprefix("dscheck: ")))
                return
            self.crashes += 1
            if self.crashes > self.max_restarts:
                self._fail(
                    RunFailed(
                        f"workers crashed {self.crashes} times (limit --max-restarts {self.max_restarts})"
                    )
                )
                return

    def _fail(self, error: Exception) -> None:
        if self.failure is None:
            self.failure = error
        self.failed.set()

    async def stop(self) -> None:
        self._stopping = True
        for pid in list(self._running):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # our own child, by its pid
        for pid in list(self._running):
            _reap(pid)
            self._running.discard(pid)


async def _read_to_end(loop: asyncio.AbstractEventLoop, fd: int) -> bytes:
    reader = asyncio.StreamReader()
    pipe = open(fd, "rb", buffering=0)  # noqa: SIM115 - the transport closes it
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        return await reader.read()
    finally:
        transport.close()


def _reap(pid: int) -> int:
    """The exit status of our exited child (its stderr pipe is closed, so it is exiting)."""
    try:
        _, wait_status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -signal.SIGKILL

    return os.waitstatus_to_exitcode(wait_status)
