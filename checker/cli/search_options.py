"""What every `dscheck model-check MODEL` shares: the search's options, the run with a live
progress line, and the report (text or JSON, and the counterexample as ITF)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from checker.files import write_output
from checker.modelcheck import Model, ModelCheckResult, Options, Progress, check
from checker.modelcheck.render import dumps, print_result, progress_line
from checker.modelcheck.trace import to_itf
from spec.errors import BadInput


def search_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the search's options; the command receives `options: Options`, `as_json`,
    `itf_path` and `html_path`."""

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        address = kwargs.pop("cluster")
        resume = kwargs.pop("resume")
        if resume is not None and not resume.is_dir():
            raise BadInput("no such folder to resume from; expected a --checkpoint folder",
                           str(resume))
        options = Options(
            max_depth=kwargs.pop("max_depth"),
            max_states=kwargs.pop("max_states"),
            time_limit=kwargs.pop("time_limit"),
            workers=kwargs.pop("workers"),
            engine="ray" if kwargs.pop("ray") or address is not None else "local",
            address=address,
            batch_size=kwargs.pop("batch_size"),
            spill_after=kwargs.pop("spill_after"),
            checkpoint=kwargs.pop("checkpoint"),
            checkpoint_every=kwargs.pop("checkpoint_every"),
            resume=resume,
            per_node=kwargs.pop("per_node"),
        )
        itf_path = kwargs["itf_path"]
        if itf_path is not None and not itf_path.parent.is_dir():
            raise BadInput(
                "no such directory for --itf; expected an existing folder", str(itf_path)
            )
        html_path = kwargs["html_path"]
        if html_path is not None and not html_path.parent.is_dir():
            raise BadInput(
                "no such directory for --html; expected an existing folder", str(html_path)
            )
        return command(options=options, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated


_OPTIONS = [
    click.option(
        "--max-depth",
        type=click.IntRange(1),
        default=None,
        help="BFS level bound (UNKNOWN if hit).",
    ),
    click.option(
        "--max-states",
        type=click.IntRange(1),
        default=None,
        help="Distinct-state bound (UNKNOWN if hit).",
    ),
    click.option(
        "--time-limit",
        type=click.FloatRange(0, min_open=True),
        default=None,
        help="Seconds (UNKNOWN if hit).",
    ),
    click.option(
        "--workers",
        type=click.IntRange(1, 64),
        default=1,
        show_default=True,
        help="Partitions exploring in parallel: processes on this machine, or Ray actors.",
    ),
    click.option(
        "--ray",
        is_flag=True,
        help="Run the search on Ray actors (a local Ray started for the run, unless --cluster).",
    ),
    click.option(
        "--cluster",
        metavar="ADDRESS",
        default=None,
        help="Join the Ray cluster at HOST:PORT (its head node) and run the search there.",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(1, 1_000_000),
        default=1000,
        show_default=True,
        help="States a Ray actor expands per call.",
    ),
    click.option(
        "--spill-after",
        type=click.IntRange(1),
        default=None,
        metavar="N",
        help="Keep at most N seen states per partition in memory; spill the rest to disk "
        "(--workers > 1 or --ray; needs numpy).",
    ),
    click.option(
        "--checkpoint",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Write the frontier and seen-sets to this folder at level boundaries, and when "
        "a bound cuts the search.",
    ),
    click.option(
        "--checkpoint-every",
        type=click.FloatRange(0),
        default=300.0,
        show_default=True,
        metavar="SECONDS",
        help="Seconds between checkpoints (0: every level).",
    ),
    click.option(
        "--resume",
        type=click.Path(path_type=Path),
        default=None,
        help="Continue the search saved in this --checkpoint folder (same configuration).",
    ),
    click.option(
        "--progress-per-node",
        "per_node",
        is_flag=True,
        help="Show each node's share in the progress line and the report.",
    ),
    click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text."),
    click.option(
        "--itf",
        "itf_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the counterexample, if any, as ITF JSON to this file.",
    ),
    click.option(
        "--html",
        "html_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the counterexample, if any, as a self-contained page: a space-time "
             "diagram, as check-trace --html draws a trace.",
    ),
]


def run_and_report(
    model: Model[Any],
    options: Options,
    as_json: bool,
    itf_path: Path | None,
    html_path: Path | None = None,
    after: Callable[[ModelCheckResult], dict[str, str]] | None = None,
) -> NoReturn:
    """Search, print the result, write the ITF counterexample (and its page), exit with the
    verdict's status. `after` (a model's own follow-up on the result, e.g. replaying a
    counterexample on the simulator) returns named lines, printed after the report and added
    to the JSON."""
    result = _run(model, options)
    if itf_path is not None and result.counterexample is not None:
        itf = to_itf(model.replay_model(), result.counterexample)
        write_output(itf_path, json.dumps(itf, indent=1), "the counterexample")
    if html_path is not None and result.counterexample is not None:
        from checker.validation.html_counterexample import counterexample_page

        title = f"model-check: {result.counterexample.invariant} violated"
        page = counterexample_page(result.counterexample, title)
        write_output(html_path, page, "the counterexample page")
    notes = after(result) if after is not None else {}
    if as_json:
        click.echo(json.dumps({**json.loads(dumps(result)), **notes}) if notes else dumps(result))
    else:
        console = Console(highlight=False)
        print_result(result, console)
        for name, text in notes.items():
            console.print(f"{name}: {text}", markup=False)
    # sys.exit, not ctx.exit: with standalone_mode=False click would return the status
    # instead of exiting, and `python -m checker` drops it.
    sys.exit(result.verdict.exit_status)


def _run(model: Model[Any], options: Options) -> ModelCheckResult:
    """Run with a live progress line on stderr when it is a terminal."""
    err = Console(stderr=True)
    if not err.is_terminal:
        return check(model, options)
    with err.status("model-check: starting") as status:

        def show(p: Progress) -> None:
            status.update(progress_line(p))

        return check(model, options, show)
