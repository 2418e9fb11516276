"""`dscheck mr`: the MapReduce coordinator, workers, the sequential oracle, and whole runs.

The same commands as the lab's: `mr coordinator FILES...` and `mr worker APP` in one directory
(they share it, as the lab's processes share theirs), `mr sequential APP FILES...` for the oracle,
and `mr run APP FILES... --workers N` to start everything at once with a progress display.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from checker.cli.mapreduce_job import mapreduce_job
from checker.verdict import EXIT_VIOLATION
from spec.errors import BadInput

CODEC = click.Choice(["msgpack", "json"])
TIMEOUT = click.FloatRange(min=0.0, min_open=True)
FC = TypeVar("FC", bound=Callable[..., object])

# Options several verbs share, declared once so that their names, ranges and defaults agree.
_reduce_option = click.option(
    "--reduce",
    "n_reduce",
    type=click.IntRange(min=1, max=10_000),
    default=10,
    show_default=True,
    help="Number of reduce tasks.",
)
_task_timeout_option = click.option(
    "--task-timeout",
    type=TIMEOUT,
    default=10.0,
    show_default=True,
    help="Seconds before an unfinished task is re-issued.",
)
_trace_option = click.option(
    "--trace",
    "trace_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the coordinator's trace (JSON Lines) here; check it with 'dscheck mr check-trace'.",
)
_codec_option = click.option(
    "--codec", type=CODEC, default="msgpack", show_default=True, help="Message encoding."
)


def _dir_option(help_text: str) -> Callable[[FC], FC]:
    return click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help=help_text,
    )


@click.group(name="mr")
def command() -> None:
    """MapReduce (lab 1): coordinator and workers as processes over RPC."""


@command.command(name="coordinator")
@click.argument("files", nargs=-1, required=True)
@_reduce_option
@_dir_option("Job directory (intermediate and output files, default socket).")
@click.option(
    "--socket",
    "socket_path",
    default=None,
    help="Unix socket to listen on [default: DIR/mr-coordinator.sock].",
)
@click.option(
    "--tcp", default=None, metavar="HOST:PORT", help="Listen on TCP instead of a Unix socket."
)
@_task_timeout_option
@click.option(
    "--linger",
    type=click.FloatRange(min=0.0),
    default=1.0,
    show_default=True,
    help="Seconds to keep answering 'exit' after the job is done.",
)
@_trace_option
@click.option("-v", "--verbose", is_flag=True, help="Log every hand-out and commit on stderr.")
def coordinator_command(
    files: tuple[str, ...],
    n_reduce: int,
    directory: Path,
    socket_path: str | None,
    tcp: str | None,
    task_timeout: float,
    linger: float,
    trace_path: Path | None,
    verbose: bool,
) -> None:
    """Hand out one map task per FILE, then N reduce tasks; exit when every output is final."""
    import asyncio

    from impl.mapreduce.coordinator import Coordinator
    from impl.mapreduce.core import CoordinatorCore
    from impl.mapreduce.execution import check_inputs
    from impl.mapreduce.runner import remove_stale_outputs
    from impl.mapreduce.transport import endpoint_from_options

    paths = check_inputs(files)
    _require_directory(directory)
    endpoint = endpoint_from_options(socket_path, tcp, directory)
    remove_stale_outputs(directory)
    core = CoordinatorCore(list(files), n_reduce, task_timeout, paths=paths)
    log = _stderr_logger(verbose)
    trace = None
    if trace_path is not None:
        from impl.mapreduce.trace import TraceWriter

        try:
            trace = TraceWriter(trace_path, core, list(files))
        except OSError as error:
            raise BadInput(
                f"cannot write the trace: {error.strerror}", path=str(trace_path)
            ) from error
    coordinator = Coordinator(core, directory, endpoint, log=log, trace=trace)
    try:
        stopped_by = asyncio.run(coordinator.serve(linger=linger))
    finally:
        if trace is not None:
            trace.close()
    if stopped_by is not None:
        click.echo(
            f"dscheck: mr coordinator: stopped by signal {stopped_by} before the job was done",
            err=True,
        )
        sys.exit(128 + stopped_by)
    progress = core.progress()
    click.echo(
        f"mr coordinator: done: {progress.n_map} map and {progress.n_reduce} reduce tasks, {progress.reissued} re-issued"
    )


@command.command(name="worker")
@click.argument("app")
@_dir_option("Job directory shared with the coordinator.")
@click.option(
    "--socket",
    "socket_path",
    default=None,
    help="Coordinator's Unix socket [default: DIR/mr-coordinator.sock].",
)
@click.option(
    "--tcp",
    default=None,
    metavar="HOST:PORT",
    help="Coordinator's TCP address instead of a Unix socket.",
)
@_codec_option
@click.option(
    "--wait",
    "startup_wait",
    type=click.FloatRange(min=0.0),
    default=5.0,
    show_default=True,
    help="Seconds to wait for a coordinator that is not up yet.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every task on stderr.")
def worker_command(
    app: str,
    directory: Path,
    socket_path: str | None,
    tcp: str | None,
    codec: str,
    startup_wait: float,
    verbose: bool,
) -> None:
    """Run tasks of application APP (a built-in name or a .py path) until the job is done."""
    import os

    from impl.mapreduce.apps import load_app
    from impl.mapreduce.transport import endpoint_from_options
    from impl.mapreduce.worker import work

    application = load_app(app)
    _require_directory(directory)
    endpoint = endpoint_from_options(socket_path, tcp, directory)
    # Applications use relative paths (marker files), as the lab's workers share one directory.
    os.chdir(directory)
    summary = work(
        application,
        endpoint,
        Path("."),
        codec="json" if codec == "json" else "msgpack",
        startup_wait=startup_wait,
        log=_stderr_logger(verbose),
    )
    if verbose:
        click.echo(
            f"worker: {summary.ending}: {summary.maps} maps, {summary.reduces} reduces, {summary.discarded} discarded",
            err=True,
        )


@command.command(name="sequential")
@click.argument("app")
@click.argument("files", nargs=-1, required=True)
@_dir_option("Where to write the output.")
@click.option(
    "--output", default="mr-out-0", show_default=True, help="Output file name (inside --dir)."
)
def sequential_command(app: str, files: tuple[str, ...], directory: Path, output: str) -> None:
    """The oracle: map every FILE, reduce every key, in one process, into one file."""
    # Only what the oracle needs: `runner` would pull in asyncio and the coordinator, start-up
    # cost that has nothing to do with a sequential run (and would flatter `run` against it).
    from impl.mapreduce.apps import load_app
    from impl.mapreduce.execution import AppFailure, check_inputs, sequential

    application = load_app(app)
    check_inputs(files)
    _require_directory(directory)
    try:
        keys = sequential(application, list(files), directory / output)
    except AppFailure as error:
        raise BadInput(f"application failed: {error}", path=app) from error
    click.echo(f"mr sequential: {keys} keys from {len(files)} files -> {directory / output}")


@command.command(name="run")
@click.argument("app")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=2,
    show_default=True,
    help="Worker processes.",
)
@_reduce_option
@_dir_option("Job directory: mr-out-* are left here.")
@_task_timeout_option
@_codec_option
@click.option(
    "--max-restarts",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Worker crashes tolerated before giving up.",
)
@_trace_option
def run_command(
    app: str,
    files: tuple[str, ...],
    workers: int,
    n_reduce: int,
    directory: Path,
    task_timeout: float,
    codec: str,
    max_restarts: int,
    trace_path: Path | None,
) -> None:
    """Start a coordinator and N workers for APP over FILES; show progress; leave mr-out-*."""
    import asyncio

    from checker.cli.mr_progress import ProgressDisplay
    from impl.mapreduce.runner import RunFailed, run_job

    if directory.exists() and not directory.is_dir():
        raise BadInput("--dir is not a directory", path=str(directory))
    with ProgressDisplay(enabled=sys.stderr.isatty()) as display:
        try:
            summary = asyncio.run(
                run_job(
                    app,
                    files,
                    workers=workers,
                    directory=directory,
                    n_reduce=n_reduce,
                    task_timeout=task_timeout,
                    codec="json" if codec == "json" else "msgpack",
                    max_restarts=max_restarts,
                    trace_path=trace_path,
                    on_progress=display.update,
                )
            )
        except RunFailed as error:
            display.stop()
            click.echo(f"dscheck: mr run: {error}; partial files removed", err=True)
            sys.exit(EXIT_VIOLATION)
    progress = summary.progress
    click.echo(
        f"mr run {app}: {progress.maps_done}/{progress.n_map} map, {progress.reduces_done}/{progress.n_reduce} reduce tasks done "
        f"in {summary.seconds:.2f} s by {workers} workers ({summary.workers_started} started, {summary.worker_crashes} crashed, "
        f"{progress.reissued} tasks re-issued); output: {directory / 'mr-out-*'}"
    )


def _require_directory(directory: Path) -> None:
    if not directory.is_dir():
        raise BadInput("directory not found", path=str(directory))


def _stderr_logger(verbose: bool) -> Callable[[str], None]:
    def log(line: str) -> None:
        if verbose:
            click.echo(line, err=True)

    return log


@command.command(name="check-spec")
@mapreduce_job("--workers")
@click.option(
    "--max-states",
    type=click.IntRange(min=1),
    default=2_000_000,
    show_default=True,
    help="Stop (verdict unknown) after this many states.",
)
def check_spec_command(model: Any, max_states: int) -> None:
    """Explore every state of the coordinator's spec for a small job; check its invariants.

    The same search and report as `dscheck model-check mapreduce` (which also has --json,
    --itf and --workers for the search's processes). Exit status 0 when every invariant holds
    in every reachable state, 1 with the shortest counterexample when one fails, 3 when
    --max-states stopped the search first.
    """
    from checker.cli.search_options import run_and_report
    from checker.modelcheck import Options

    run_and_report(model, Options(max_states=max_states), as_json=False, itf_path=None)


@command.command(name="check-trace")
@click.argument("trace_file", type=click.Path(dir_okay=False, path_type=Path))
def check_trace_command(trace_file: Path) -> None:
    """Check a coordinator trace (from --trace) against the spec's rules.

    Exit status 0 when every step follows them, 1 with the offending lines when one does not,
    2 when the file is not a MapReduce trace.
    """
    from checker.trace_check.mapreduce import check_trace

    if not trace_file.is_file():
        raise BadInput("trace file not found", path=str(trace_file))
    result = check_trace(trace_file)
    click.echo(result.describe(str(trace_file)))
    sys.exit(result.verdict.exit_status)
