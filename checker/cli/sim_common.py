"""What every `dscheck sim SYSTEM` command does alike: where its files go, which options a lab
scenario fixes, the maxraftstate option's rule, and how a run's summary ends the command."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from checker.linearizability import render_text
from checker.verdict import Verdict
from impl.files import open_atomically
from impl.trace import TraceWriter
from spec.errors import BadInput


def check_paths(*paths: tuple[str, Path | None]) -> None:
    """Refuse an output file whose directory is missing before the run, not after it."""
    for option, path in paths:
        if path is not None and not path.resolve().parent.is_dir():
            raise BadInput(f"{option}: directory {path.resolve().parent} does not exist",
                           path=str(path))


@contextlib.contextmanager
def recording(path: Path | None) -> Iterator[TraceWriter]:
    """A trace writer for the run: to `path` atomically, or disabled when there is none."""
    if path is None:
        yield TraceWriter.disabled()
        return
    check_paths(("--trace", path))
    with open_atomically(path) as stream:
        yield TraceWriter(stream)


def fixed_by_scenario(scenario: str, given: tuple[tuple[str, Any], ...]) -> None:
    """Refuse an option of the random schedule given together with a lab scenario."""
    for option, value in given:
        if value is not None:
            raise BadInput(f"{option}: for the random schedule; scenario {scenario} "
                           "fixes its own setting")


def maxraftstate(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value != -1 and value < 1:
        raise click.BadParameter(f"{value} bytes: must be -1 (never snapshot) or at least 1")
    return value


def finish(summary: dict[str, Any], as_json: bool, show: Callable[[], None], audited: Any,
           verdict: Verdict) -> None:
    """Print the summary (JSON, or `show` and the audit's counterexample) and exit with the
    verdict's status."""
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        show()
        if audited.verdict is Verdict.VIOLATION:
            click.echo(render_text(audited.result))
    raise click.exceptions.Exit(verdict.exit_status)
