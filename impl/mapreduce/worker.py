"""The worker process: ask for a task, run it, report, until the job is done.

A worker started before its coordinator waits up to `startup_wait` seconds for it (the lab's
scripts start workers one second after the coordinator, and a loaded machine can be slower).
Once it has talked to a coordinator, an unreachable coordinator means the job is over (done, or
the coordinator died): the worker removes the temporary files of the attempt it was running,
which can never be committed now, and exits normally, as the lab requires.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from impl.mapreduce.apps import App
from impl.mapreduce.core import Exit, MapAssignment, ReduceAssignment, TaskKind, Wait
from impl.mapreduce.execution import AppFailure, run_map, run_reduce
from impl.mapreduce.protocol import (
    Ack,
    AskForTask,
    Codec,
    ErrorReply,
    ReportDone,
    Request,
    WireError,
)
from impl.mapreduce.transport import Endpoint, Unreachable, call
from spec.errors import BadInput

STARTUP_WAIT = 5.0
RETRY_PAUSE = 0.1


@dataclass(slots=True)
class WorkerSummary:
    maps: int = 0
    reduces: int = 0
    discarded: int = 0  # completions another attempt had already committed
    ending: str = ""


def work(
    app: App,
    endpoint: Endpoint,
    directory: Path,
    *,
    codec: Codec = "msgpack",
    startup_wait: float = STARTUP_WAIT,
    log: Callable[[str], None] = lambda line: None,
) -> WorkerSummary:
    name = f"worker-{os.getpid()}"
    summary = WorkerSummary()
    contacted = False
    give_up_at = time.monotonic() + startup_wait

    def rpc(request: Request) -> object:
        nonlocal contacted
        while True:
            try:
                reply = call(endpoint, request, codec)
            except Unreachable as error:
                if contacted or time.monotonic() >= give_up_at:
                    raise _Gone(str(error)) from error
                time.sleep(RETRY_PAUSE)
                continue
            except WireError as error:
                raise BadInput(
                    f"the coordinator sent a malformed reply: {error}", path=endpoint.describe()
                ) from error
            contacted = True
            if isinstance(reply, ErrorReply):
                raise BadInput(
                    f"the coordinator refused the request: {reply.message}",
                    path=endpoint.describe(),
                )
            return reply

    try:
        while True:
            assignment = rpc(AskForTask(worker=name))
            if isinstance(assignment, Exit):
                summary.ending = "job done"
                return summary
            if isinstance(assignment, Wait):
                continue  # the coordinator already held the request while nothing was free
            if not isinstance(assignment, MapAssignment | ReduceAssignment):
                raise BadInput(
                    f"unexpected reply to a task request: {assignment!r}", path=endpoint.describe()
                )
            log(f"{name}: {assignment.describe()}")
            written = _execute(app, assignment, directory)
            kind: TaskKind = "map" if isinstance(assignment, MapAssignment) else "reduce"
            try:
                ack = rpc(
                    ReportDone(
                        worker=name, kind=kind, task=assignment.task, attempt=assignment.attempt
                    )
                )
            except _Gone:
                _remove(written)
                raise
            if isinstance(ack, Ack) and not ack.committed:
                summary.discarded += 1
            elif kind == "map":
                summary.maps += 1
            else:
                summary.reduces += 1
    except _Gone as gone:
        if not contacted:
            raise BadInput(
                f"no coordinator answered within {startup_wait:g} s ({gone}); start "
                "'dscheck mr coordinator' first, or pass the --socket/--tcp it listens on",
                path=endpoint.describe(),
            ) from gone
        summary.ending = "coordinator gone"
        return summary


def _execute(app: App, assignment: MapAssignment | ReduceAssignment, directory: Path) -> list[Path]:
    try:
        if isinstance(assignment, MapAssignment):
            return run_map(
                app,
                task=assignment.task,
                attempt=assignment.attempt,
                filename=assignment.filename,
                path=assignment.path,
                n_reduce=assignment.n_reduce,
                directory=directory,
            )
        return [
            run_reduce(
                app,
                task=assignment.task,
                attempt=assignment.attempt,
                n_map=assignment.n_map,
                directory=directory,
            )
        ]
    except AppFailure as error:
        raise BadInput(f"application failed: {error}", path=app.name) from error
    except ValueError as error:  # an intermediate file that is not one of ours
        raise BadInput(f"{assignment.describe()}: {error}") from error
    except OSError as error:
        raise BadInput(
            f"{assignment.describe()}: {error.strerror or error}",
            path=getattr(error, "filename", None),
        ) from error


def _remove(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class _Gone(Exception):
    pass
