"""The Raft model's bounds as command-line options, generated from their one declaration
(`spec.raft.BOUNDS`) for every verb that builds a Raft `Config` (model-check, prove).

`@raft_bounds` adds `--servers`, `--max-term`, `--max-log`, `--values`, `--max-messages`,
`--max-restarts`, `--drops`, `--duplicates`, `--snapshots` and `--bug`, and hands the command one
validated `config: Config` instead of ten loose values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from spec.errors import BadInput
from spec.raft import BOUNDS, BUGS, Config, default_restarts

_FLAGS = {
    "drops": "The network may lose messages.",
    "duplicates": "The network may deliver a message and keep it.",
    "snapshots": "Log compaction and InstallSnapshot (§7).",
}


def raft_bounds(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in BOUNDS}
        flags = {name: kwargs.pop(name) for name in _FLAGS}
        bugs = frozenset(kwargs.pop("bugs"))
        if values["max_restarts"] is None:
            values["max_restarts"] = default_restarts(bugs)
        try:
            config = Config(**values, **flags, bugs=bugs)
        except ValueError as error:
            raise BadInput(str(error)) from None
        return command(config=config, **kwargs)

    decorated: Callable[..., Any] = wrapper
    decorated = click.option(
        "--bug",
        "bugs",
        type=click.Choice(sorted(BUGS)),
        multiple=True,
        help="Switch on a fault flag of the spec; repeatable (`dscheck model-check raft "
        "--list-bugs` says what each does).",
    )(decorated)
    for name, help_text in reversed(_FLAGS.items()):
        decorated = click.option(
            f"--{name}/--no-{name}", default=False, show_default=True, help=help_text
        )(decorated)
    for name, bound in reversed(BOUNDS.items()):
        restarts = name == "max_restarts"
        decorated = click.option(
            f"--{name.replace('_', '-')}",
            name,
            type=click.IntRange(bound.low, bound.high),
            default=None if restarts else bound.default,
            show_default=not restarts,
            help=bound.help
            + (" [default: 1 with a bug that needs a restart to show, else 0]" if restarts else ""),
        )(decorated)
    return decorated
