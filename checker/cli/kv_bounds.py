"""The key/value model's bounds as command-line options, from their one declaration
(`spec.kv.BOUNDS`), for `dscheck model-check kv`.

`@kv_bounds` adds `--replicas`, `--max-log`, `--calls`, `--read-index`,
`--snapshots/--no-snapshots` and `--bug`, and hands the command one validated
`config: Config`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from spec.errors import BadInput
from spec.kv import BOUNDS, BUGS, CALL_KINDS, DEFAULT_CALLS, GET, Config

Calls = tuple[tuple[tuple[str, str, str | None], ...], ...]


def parse_calls(text: str) -> Calls:
    """Each clerk's calls: clerks separated by ';', a clerk's calls by ',', each call
    `get KEY`, `put KEY VALUE` or `append KEY VALUE` — e.g. "append k x; append k y, get k"."""
    clerks = []
    for part in text.split(";"):
        calls = []
        for call in part.split(","):
            words = call.split()
            if not words:
                raise BadInput(f"--calls: an empty call in {text!r}; expected e.g. "
                               "'append k x; append k y, get k'")
            kind = words[0]
            arity = 2 if kind == GET else 3
            if kind not in CALL_KINDS or len(words) != arity:
                raise BadInput(f"--calls: {call.strip()!r} is not 'get KEY', 'put KEY VALUE' "
                               "or 'append KEY VALUE'")
            calls.append((kind, words[1], None if kind == GET else words[2]))
        clerks.append(tuple(calls))
    return tuple(clerks)


def format_calls(calls: Calls) -> str:
    return "; ".join(", ".join(" ".join(w for w in call if w is not None) for call in clerk)
                     for clerk in calls)


def kv_bounds(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in BOUNDS}
        bugs = frozenset(kwargs.pop("bugs"))
        # A ReadIndex mistake shows only with ReadIndex reads: the flag turns them on.
        read_index = kwargs.pop("read_index") or "stale-read" in bugs
        try:
            config = Config(**values, calls=parse_calls(kwargs.pop("calls")),
                            read_index=read_index,
                            snapshots=kwargs.pop("snapshots"), bugs=bugs)
        except ValueError as error:
            raise BadInput(str(error)) from None
        return command(config=config, **kwargs)

    decorated: Callable[..., Any] = wrapper
    decorated = click.option(
        "--bug", "bugs", type=click.Choice(sorted(BUGS)), multiple=True,
        help="Switch on a fault flag of the spec; repeatable (`dscheck model-check kv "
             "--list-bugs` says what each does).")(decorated)
    decorated = click.option(
        "--snapshots/--no-snapshots", default=True, show_default=True,
        help="Replicas restart from snapshots and install a leader's.")(decorated)
    decorated = click.option(
        "--read-index", is_flag=True,
        help="Serve gets by ReadIndex (Raft thesis §6.4), not through the log (implied by "
             "--bug stale-read).")(decorated)
    decorated = click.option(
        "--calls", default=format_calls(DEFAULT_CALLS), show_default=True,
        help="Each clerk's calls, in order: clerks separated by ';', calls by ',', each "
             "'get KEY', 'put KEY VALUE' or 'append KEY VALUE' (1..3 clerks, 1..3 calls "
             "each).")(decorated)
    for name, bound in reversed(BOUNDS.items()):
        decorated = click.option(
            f"--{name.replace('_', '-')}", name, type=click.IntRange(bound.low, bound.high),
            default=bound.default, show_default=True, help=bound.help,
        )(decorated)
    return decorated
