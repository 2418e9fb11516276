"""The coordinator process: the core of `core.py` driven by an asyncio server.

The event loop is the only thread, so the core needs no lock, and the renames a `Commit` calls
for happen inside the handler of the report that won, before the loop can run any other
request (the ordering rule 3 of `core.py` relies on this).

A worker asking for a task while none is free is not answered `wait` at once: its request is
held until some task completes or times out (at most `hold` seconds), so idle workers neither
spin nor sleep through the moment work appears.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

from impl.mapreduce.core import (
    Commit,
    CoordinatorCore,
    Exit,
    ProtocolError,
    Wait,
)
from impl.mapreduce.naming import (
    TEMP_PREFIX,
    intermediate_name,
    map_temp_name,
    output_name,
    reduce_temp_name,
)
from impl.mapreduce.protocol import (
    HEADER,
    Ack,
    AskForTask,
    Codec,
    ErrorReply,
    Reply,
    ReportDone,
    WireError,
    decode_payload,
    encode,
    frame_length,
    reply_to_map,
    request_from_map,
    request_to_map,
)
from impl.mapreduce.trace import TraceWriter
from impl.mapreduce.transport import Endpoint
from spec.errors import BadInput

DEFAULT_TASK_TIMEOUT = 10.0  # the lab's re-issue timeout
DEFAULT_LINGER = 1.0  # mrcoordinator sleeps a second after Done() so workers hear "exit"
READ_TIMEOUT = 10.0


class Coordinator:
    def __init__(
        self,
        core: CoordinatorCore,
        directory: Path,
        endpoint: Endpoint,
        *,
        hold: float = 0.5,
        log: Callable[[str], None] = lambda line: None,
        on_change: Callable[[], None] = lambda: None,
        trace: TraceWriter | None = None,
    ) -> None:
        self.core = core
        self.directory = directory
        self.endpoint = endpoint
        self.hold = hold
        self.log = log
        self.on_change = on_change  # called after every report, e.g. to redraw progress
        self.trace = trace
        self._started = 0.0
        self.committed: list[Path] = []  # final files this coordinator created, in order
        self._server: asyncio.AbstractServer | None = None
        self._changed = asyncio.Event()
        self._done = asyncio.Event()
        self._handlers: set[asyncio.Task[None]] = set()

    # ---- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = asyncio.get_running_loop().time()
        if self.endpoint.unix_path is not None:
            path = self.endpoint.unix_path
            if path.exists() or path.is_symlink():
                if _answers(path):
                    raise BadInput(
                        "a coordinator is already listening on this socket", path=str(path)
                    )
                path.unlink()  # left behind by a coordinator that was killed
            try:
                self._server = await asyncio.start_unix_server(self._handle, path=str(path))
            except OSError as error:
                raise BadInput(
                    f"cannot listen on this socket: {error.strerror}", path=str(path)
                ) from error
        else:
            try:
                self._server = await asyncio.start_server(
                    self._handle, host=self.endpoint.host, port=self.endpoint.port
                )
            except OSError as error:
                raise BadInput(
                    f"cannot listen on {self.endpoint.describe()}: {error.strerror}"
                ) from error
            port = self._server.sockets[0].getsockname()[1]
            self.endpoint = Endpoint(host=self.endpoint.host, port=int(port))
        self.log(
            f"coordinator: {self.core.n_map} map and {self.core.n_reduce} reduce tasks, listening on {self.endpoint.describe()}"
        )

    async def wait_done(self) -> None:
        await self._done.wait()

    async def close(self) -> None:
        # Requests still held (workers waiting for work) are dropped: those workers find the
        # coordinator gone on their next call and exit.
        handlers = [task for task in self._handlers if task is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None
        if self.endpoint.unix_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.endpoint.unix_path.unlink()
        # Temporary files of attempts that crashed can never be committed any more.
        for leftover in self.directory.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()

    async def serve(self, linger: float = DEFAULT_LINGER) -> int | None:
        """Run the whole job: listen, hand out tasks until done, linger, close.

        Returns None when the job is done, or the number of the signal (SIGTERM, SIGINT) that
        stopped it first; either way the socket and stray temporary files are removed.
        """
        loop = asyncio.get_running_loop()
        stopped_by: list[int] = []
        stop = asyncio.Event()

        def on_signal(signum: int) -> None:
            stopped_by.append(signum)
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal, signum)
        await self.start()
        try:
            done, stopper = asyncio.create_task(self.wait_done()), asyncio.create_task(stop.wait())
            await asyncio.wait({done, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (done, stopper):
                waiter.cancel()
            if stopped_by:
                return stopped_by[0]
            self.log("coordinator: job done")
            await asyncio.sleep(linger)
            return None
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await self.close()

    # ---- one connection = one request ---------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._exchange(reader, writer)
        except asyncio.CancelledError:
            writer.close()  # closing down: finish quietly rather than log a cancelled callback
        finally:
            self._handlers.discard(task)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        codec: Codec = "msgpack"
        try:
            header = await asyncio.wait_for(reader.readexactly(HEADER.size), READ_TIMEOUT)
            payload = await asyncio.wait_for(reader.readexactly(frame_length(header)), READ_TIMEOUT)
            value, codec = decode_payload(payload)
            request = request_from_map(value)
            reply = await self._answer(request)
            if self.trace is not None:
                elapsed = asyncio.get_running_loop().time() - self._started
                self.trace.step(
                    int(elapsed * 1000),
                    request.worker,
                    request_to_map(request),
                    reply_to_map(reply),
                )
        except WireError as error:
            reply = ErrorReply(message=str(error))
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            writer.close()
            return
        try:
            writer.write(encode(reply_to_map(reply), codec))
            await writer.drain()
        except ConnectionError:
            pass  # the worker died while waiting; a held task times out as usual
        finally:
            writer.close()

    async def _answer(self, request: AskForTask | ReportDone) -> Reply:
        if isinstance(request, ReportDone):
            return self._report(request)
        loop = asyncio.get_running_loop()
        hold_until = loop.time() + self.hold
        while True:
            assignment = self.core.request(loop.time())
            if not isinstance(assignment, Wait):
                if not isinstance(assignment, Exit):
                    self.log(f"coordinator: {assignment.describe()} -> {request.worker}")
                return assignment
            now = loop.time()
            wake = hold_until - now
            if wake <= 0:
                return assignment
            deadline = self.core.next_deadline()
            if deadline is not None:
                wake = min(wake, max(deadline - now, 0.0) + 0.005)
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), wake)

    def _report(self, report: ReportDone) -> Reply:
        if report.kind == "map":
            n_reduce = self.core.n_reduce
            moves = [
                (map_temp_name(report.task, report.attempt, r), intermediate_name(report.task, r))
                for r in range(n_reduce)
            ]
        else:
            moves = [(reduce_temp_name(report.task, report.attempt), output_name(report.task))]
        temps = [self.directory / temp for temp, _ in moves]
        missing = [temp.name for temp in temps if not temp.exists()]
        if missing:
            return ErrorReply(message=f"{report.describe()}, but {missing[0]} does not exist")
        try:
            decision = self.core.complete(report.kind, report.task, report.attempt)
        except ProtocolError as error:
            return ErrorReply(message=str(error))
        if isinstance(decision, Commit):
            for temp_name, final_name in moves:
                os.replace(self.directory / temp_name, self.directory / final_name)
                self.committed.append(self.directory / final_name)
            self.log(f"coordinator: committed {report.kind} {report.task}#{report.attempt}")
        else:
            for temp_path in temps:
                with contextlib.suppress(FileNotFoundError):
                    temp_path.unlink()
            self.log(
                f"coordinator: discarded {report.kind} {report.task}#{report.attempt} (already committed)"
            )
        # Wake the held requests: reduces may have become available, or the job is done.
        self._changed.set()
        self._changed = asyncio.Event()
        if self.core.done:
            self._done.set()
        self.on_change()
        return Ack(committed=isinstance(decision, Commit))


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True
