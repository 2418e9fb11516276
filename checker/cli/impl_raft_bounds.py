"""The bounds of the Raft cores' model as command-line options, generated from their one
declaration (`checker.modelcheck.models.impl_raft.BOUNDS`), like `raft_bounds` for the spec.

`@impl_raft_bounds` adds `--servers`, `--max-term`, `--max-log`, `--values`, `--requests`,
`--max-messages`, `--max-restarts`, `--drops`, `--duplicates`, `--snapshots`,
`--parallel-write` and `--bug`, and
hands the command one validated `config: ImplRaftConfig`. A flag that needs a restart to show
raises the restart bound to 1, and one that needs snapshots turns them on, unless the option
is given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from checker.modelcheck.models.impl_raft import (
    BOUNDS,
    NEEDS_RESTART,
    NEEDS_SNAPSHOTS,
    ImplRaftConfig,
)
from impl.raft.bugs import BUGS, check_bugs
from spec.errors import BadInput

_FLAGS = {
    "drops": "The network may lose messages.",
    "duplicates": "The network may deliver a message and keep a copy.",
    "snapshots": "The service snapshots what it applied; leaders send InstallSnapshot (§7). "
                 "[default: on with a flag that needs it]",
    "parallel_write": "The cores' RaftConfig.parallel_write: a leader's AppendEntries leave "
                      "before its own write, which a `Durable` action finishes and reports.",
}


def impl_raft_bounds(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in BOUNDS}
        flags = {name: kwargs.pop(name) for name in _FLAGS}
        try:
            bugs = check_bugs(kwargs.pop("bugs"))
        except ValueError as error:
            raise BadInput(f"--bug: {error}") from None
        if values["max_restarts"] is None:
            values["max_restarts"] = 1 if NEEDS_RESTART & bugs else 0
        if flags["snapshots"] is None:
            flags["snapshots"] = bool(NEEDS_SNAPSHOTS & bugs)
        try:
            config = ImplRaftConfig(**values, **flags, bugs=bugs)
        except ValueError as error:
            raise BadInput(str(error)) from None
        return command(config=config, **kwargs)

    decorated: Callable[..., Any] = wrapper
    decorated = click.option(
        "--bug", "bugs", multiple=True, metavar="NAME",
        help="Switch on a fault flag of the Raft core (impl/raft/bugs.py); repeatable. "
             f"Known: {', '.join(BUGS)}.")(decorated)
    for name, help_text in reversed(_FLAGS.items()):
        default = None if name == "snapshots" else False
        option = name.replace("_", "-")
        decorated = click.option(f"--{option}/--no-{option}", name, default=default,
                                 show_default=default is not None, help=help_text)(decorated)
    for name, bound in reversed(BOUNDS.items()):
        restarts = name == "max_restarts"
        decorated = click.option(
            f"--{name.replace('_', '-')}", name, type=click.IntRange(bound.low, bound.high),
            default=None if restarts else bound.default, show_default=not restarts,
            help=bound.help + (" [default: 1 with a flag that needs a restart to show, else 0]"
                               if restarts else ""))(decorated)
    return decorated
