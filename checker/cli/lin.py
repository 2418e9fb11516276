"""`dscheck lin FILE...`: audit histories for linearizability.

Every file is read (and validated) before any is checked, so bad input exits 2 with one line
and no partial output. The exit status is the worst verdict over the files (DESIGN.md §5).
"""

from __future__ import annotations

import sys
import time

import click

from checker.linearizability.check import check, validate
from checker.linearizability.formats import FORMATS, Loaded, load
from checker.linearizability.models import MODELS, model_named
from checker.linearizability.render import render_text, result_json_line
from checker.linearizability.result import LinResult
from checker.verdict import Verdict
from spec.errors import BadInput

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
def command(
    files: tuple[str, ...],
    model: str | None,
    fmt: str | None,
    timeout: float | None,
    html_out: str | None,
    as_json: bool,
    jobs: int,
    all_parts: bool,
) -> None:
    """Check that each history FILE is linearizable.

    Formats: our JSON Lines (traces/HISTORY.md), Porcupine/Jepsen key/value EDN, Knossos EDN,
    Jepsen etcd logs, and our traces (traces/README.md), whose clients' calls are the history
    (a Raft trace: a replicated log, model 'log'). Exit status: 0 all linearizable,
    1 a violation, 2 bad input, 3 unknown (time limit).
    """
    loaded = [(path, load(path, fmt)) for path in files]
    checks = [(path, item, _model_for(path, item, model)) for path, item in loaded]
    for path, item, chosen in checks:  # all bad input is found before anything is printed
        try:
            validate(item.operations, model_named(chosen))
        except BadInput as error:
            raise BadInput(error.message, path, error.line) from None
    results: list[tuple[str, Loaded, LinResult]] = []
    for path, item, chosen in checks:
        result = _check_with_progress(path, item, chosen, timeout, jobs, all_parts)
        results.append((path, item, result))
        if as_json:
            click.echo(result_json_line(path, result, fmt=item.format))
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


def _check_with_progress(
    path: str, item: Loaded, model: str, timeout: float | None, jobs: int, all_parts: bool
) -> LinResult:
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    started = time.monotonic()
    bar: dict[str, Progress | int] = {}

    def progress(finished: int, total: int) -> None:
        if time.monotonic() - started < _PROGRESS_AFTER or not console.is_terminal:
            return
        if "bar" not in bar:
            shown = Progress(console=console, transient=True)
            shown.start()
            bar["bar"] = shown
            bar["task"] = shown.add_task(f"checking {path}", total=total)
        shown_bar = bar["bar"]
        task = bar["task"]
        assert isinstance(shown_bar, Progress) and isinstance(task, int)
        shown_bar.update(task, completed=finished)  # type: ignore[arg-type]

    try:
        return check(
            item.operations,
            model_named(model),
            timeout=timeout,
            workers=jobs,
            progress=progress,
            all_parts=all_parts,
        )
    finally:
        if "bar" in bar:
            shown_bar = bar["bar"]
            assert isinstance(shown_bar, Progress)
            shown_bar.stop()
