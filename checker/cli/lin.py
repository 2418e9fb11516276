"""`dscheck lin FILE...`: audit histories for linearizability.

Every file is read (and validated) before any is checked, so bad input exits 2 with one line
and no partial output. The exit status is the worst verdict over the files (DESIGN.md §5).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from checker.linearizability.check import check, validate
from checker.linearizability.formats import FORMATS, Loaded, load
from checker.linearizability.models import MODELS, model_from_file, model_named
from checker.linearizability.render import render_text, result_json_line
from checker.linearizability.result import LinResult
from checker.verdict import Verdict
from spec.errors import BadInput
from spec.sequential import Model

_PROGRESS_AFTER = 0.5  # seconds of checking before a progress line appears


@click.command(name="lin")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--model",
    type=click.Choice(sorted(MODELS)),
    help="Sequential model (default: from the format).",
)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), help="Input format (default: detected)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds per file; a check cut short is UNKNOWN (exit 3), never OK.",
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False),
    help="Write a self-contained HTML report.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
@click.option(
    "--all-parts",
    is_flag=True,
    help="Search every part to the end and report each failing one (default: stop at the first).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes for the parts of large histories.",
)
@click.option(
    "--max-memory",
    type=click.IntRange(min=1),
    default=None,
    help="MB of resident memory (each process); past it the check is UNKNOWN (exit 3).",
)
@click.option(
    "--model-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Your own model: a Python file defining MODEL = Model(...). It is run as Python.",
)
def command(
    files: tuple[str, ...],
    model: str | None,
    fmt: str | None,
    timeout: float | None,
    html_out: str | None,
    as_json: bool,
    jobs: int,
    all_parts: bool,
    max_memory: int | None,
    model_file: str | None,
) -> None:
    """Check that each history FILE is linearizable.

    Formats: our JSON Lines (traces/HISTORY.md), Porcupine/Jepsen key/value EDN, Knossos and
    Jepsen EDN (history.edn, or one vector of maps), Jepsen's history.txt, Jepsen etcd logs,
    and our traces (traces/README.md), whose clients' calls are the history (a Raft trace: a
    replicated log, model 'log'). Exit status: 0 all linearizable, 1 a violation, 2 bad
    input, 3 unknown (a time or memory limit).
    """
    if model is not None and model_file is not None:
        raise BadInput("give --model or --model-file, not both")
    own = None if model_file is None else model_from_file(model_file)
    loaded = [(path, _load_with_progress(path, fmt)) for path in files]
    checks = [(path, item, own or model_named(_model_for(path, item, model)))
              for path, item in loaded]
    for path, item, chosen in checks:  # all bad input is found before anything is printed
        try:
            validate(item.operations, chosen)
        except BadInput as error:
            raise BadInput(error.message, path, error.line) from None
    results: list[tuple[str, Loaded, LinResult]] = []
    memory = None if max_memory is None else max_memory << 20
    for path, item, chosen in checks:
        result = _check_with_progress(path, item, chosen, timeout, jobs, all_parts, memory)
        results.append((path, item, result))
        if as_json:
            click.echo(result_json_line(path, result, fmt=item.format, nemesis=item.nemesis))
        else:
            click.echo(render_text(result, path))
    if html_out is not None:
        from checker.linearizability.html import write_html

        write_html(html_out, [(path, result) for path, _item, result in results])
        if not as_json:
            click.echo(f"report: {html_out}", err=True)
    sys.exit(Verdict.worst([r.verdict for _p, _i, r in results]).exit_status)


def _model_for(path: str, item: Loaded, name: str | None) -> str:
    chosen = name or item.model
    if chosen is None:
        raise BadInput(
            f"the file does not say which model it follows; use --model ({', '.join(MODELS)})", path
        )
    model_named(chosen)
    return chosen


class _Bar:
    """A progress line on stderr, shown only on a terminal and only once work has taken
    longer than half a second (short checks print nothing extra)."""

    def __init__(self, what: str) -> None:
        from rich.console import Console

        self.what = what
        self.console = Console(stderr=True)
        self.started = time.monotonic()
        self.shown: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.shown is None:
            if time.monotonic() - self.started < _PROGRESS_AFTER or not self.console.is_terminal:
                return
            from rich.progress import Progress

            self.shown = Progress(console=self.console, transient=True)
            self.shown.start()
            self.task = self.shown.add_task(self.what, total=total)
        self.shown.update(self.task, completed=done)

    def close(self) -> None:
        if self.shown is not None:
            self.shown.stop()


def _load_with_progress(path: str, fmt: str | None) -> Loaded:
    bar = _Bar(f"reading {path}")
    try:
        return load(path, fmt, progress=bar)
    finally:
        bar.close()


def _check_with_progress(
    path: str, item: Loaded, model: Model, timeout: float | None, jobs: int, all_parts: bool,
    max_memory: int | None,
) -> LinResult:
    bar = _Bar(f"checking {path}")
    try:
        return check(
            item.operations,
            model,
            timeout=timeout,
            workers=jobs,
            progress=bar,
            all_parts=all_parts,
            max_memory=max_memory,
        )
    finally:
        bar.close()
