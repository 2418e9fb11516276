"""The sharded KV model's bounds as command-line options, from their one declaration
(`spec.shardkv.BOUNDS`), for every verb that builds a sharded KV `Config` (model-check, prove).

`@shardkv_bounds` adds `--groups`, `--shards`, `--configs`, `--clerks`, `--calls`,
`--max-messages`, `--drops/--no-drops`, `--duplicates/--no-duplicates` and `--bug`, and hands
the command one validated `config: Config`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import click

from spec.errors import BadInput
from spec.shardkv import BOUNDS, BUGS, DEFAULT_CONFIGS, Config

_FLAGS = {
    "drops": "The network may lose messages.",
    "duplicates": "The network may deliver a message and keep a copy.",
}


def parse_configs(text: str) -> tuple[tuple[int, ...], ...]:
    """Configurations 1..K: separated by spaces or ';', each a gid per shard — digits
    ("11 12 22 21") or gids separated by ',' ("1,1;1,2")."""
    words = [w for w in re.split(r"[;\s]+", text.strip()) if w]
    if not words:
        raise BadInput("--configs: no configuration given; expected e.g. '11 12 22 21'")
    out = []
    for word in words:
        cells = word.split(",") if "," in word else list(word)
        if not all(c.isdigit() for c in cells):
            raise BadInput(f"--configs: {word!r} is not a gid per shard; expected digits like "
                           "'12' or gids separated by ',' like '1,2'")
        out.append(tuple(int(c) for c in cells))
    return tuple(out)


def format_configs(configs: tuple[tuple[int, ...], ...]) -> str:
    return " ".join("".join(str(g) for g in c) for c in configs)


def shardkv_bounds(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in BOUNDS}
        flags = {name: kwargs.pop(name) for name in _FLAGS}
        bugs = frozenset(kwargs.pop("bugs"))
        configs = parse_configs(kwargs.pop("configs"))
        try:
            config = Config(**values, **flags, configs=configs, bugs=bugs)
        except ValueError as error:
            raise BadInput(str(error)) from None
        return command(config=config, **kwargs)

    decorated: Callable[..., Any] = wrapper
    decorated = click.option(
        "--bug", "bugs", type=click.Choice(sorted(BUGS)), multiple=True,
        help="Switch on a fault flag of the spec; repeatable (`dscheck model-check shardkv "
             "--list-bugs` says what each does).",
    )(decorated)
    for name, help_text in reversed(_FLAGS.items()):
        decorated = click.option(f"--{name}/--no-{name}", default=True, show_default=True,
                                 help=help_text)(decorated)
    decorated = click.option(
        "--configs", default=format_configs(DEFAULT_CONFIGS), show_default=True,
        help="The controller's configurations 1..K, each a gid per shard (digits, or gids "
             "separated by ','), separated by spaces or ';'.",
    )(decorated)
    for name, bound in reversed(BOUNDS.items()):
        decorated = click.option(
            f"--{name.replace('_', '-')}", name, type=click.IntRange(bound.low, bound.high),
            default=bound.default, show_default=True, help=bound.help,
        )(decorated)
    return decorated
