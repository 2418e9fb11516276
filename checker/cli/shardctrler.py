"""`dscheck shardctrler join|leave|move|query`: a clerk of a running sharded cluster's shard
controller (impl.shardctrler.clerk over impl.net.clerk), exactly once like every clerk.

`join GID...` adds replica groups — their servers' names come from the cluster file's
`[group GID]` sections — `leave GID...` removes them, `move SHARD GID` assigns one shard, and
`query [NUM]` prints configuration NUM (the newest by default). The groups move their shards
by themselves once they see the new configuration (they poll the controller).

Exit statuses as `dscheck kv`'s: 0 done (a change the controller refused as a no-op — a Join
of a group already in, a Leave of one not in — prints its reason and exits 1); 2 bad input (a
bad or non-sharded cluster file, a gid it does not list, no controller server answers); 3
unknown: no answer within `--timeout`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from checker.cli.kv import EXIT_UNKNOWN
from impl.net.clerk import NetClerk
from impl.net.cluster import Sharded, read_any
from impl.net.local import statuses
from impl.net.server import run_loop
from spec.errors import BadInput
from spec.shardctrler import NSHARDS, Configuration

FC = TypeVar("FC", bound=Callable[..., object])


def _options(command: FC) -> FC:
    command = click.option("--cluster", "cluster_file", type=click.Path(path_type=Path),
                           default=Path("dscheck-cluster/cluster"), show_default=True,
                           help="The sharded cluster file ('dscheck cluster start "
                                "--sharded' writes it).")(command)
    return click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0,
                        show_default=True,
                        help="Seconds to wait; past it the outcome is unknown (exit 3)."
                        )(command)


def _sharded(path: Path) -> Sharded:
    found = read_any(path)
    if not isinstance(found, Sharded):
        raise BadInput("not a sharded cluster file (no [controller] section)", str(path))
    return found


def _call(path: Path, what: str, start: Callable[[Any], Any], timeout: float) -> Any:
    cluster = _sharded(path)

    async def call() -> Any:
        found = await statuses(cluster.controller, 1.0)
        if all(s is None for s in found):
            raise BadInput(f"cluster unreachable: none of the controller's "
                           f"{len(cluster.controller)} servers answers", str(path))
        clerk = NetClerk(cluster, controller=True)
        try:
            return await asyncio.wait_for(clerk.run(start), timeout)
        finally:
            clerk.close()
    try:
        return run_loop(call())
    except TimeoutError:
        click.echo(f"dscheck shardctrler {what}: no answer within {timeout:g} s (outcome "
                   "unknown" + ("" if what == "query" else "; it may still take effect") + ")",
                   err=True)
        sys.exit(EXIT_UNKNOWN)


def _known(cluster: Sharded, gids: tuple[int, ...], path: Path) -> None:
    for gid in gids:
        if gid not in cluster.gids():
            raise BadInput(f"group {gid} is not in the cluster file (its groups: "
                           f"{', '.join(map(str, cluster.gids()))})", str(path))


def _changed(output: Any) -> None:
    if isinstance(output, str):
        click.echo(f"refused (a no-op): {output}")
        sys.exit(1)
    click.echo("OK")


def show(config: Configuration) -> str:
    groups = "; ".join(f"{gid}: {' '.join(servers)}" for gid, servers in config.groups)
    return (f"configuration {config.num}\nshards {' '.join(map(str, config.shards))}\n"
            f"groups {groups or '-'}")


@click.group(name="shardctrler")
def command() -> None:
    """A clerk of a running sharded cluster's shard controller."""


@command.command(name="join")
@click.argument("gids", nargs=-1, required=True, type=click.IntRange(min=1))
@_options
def join(gids: tuple[int, ...], cluster_file: Path, timeout: float) -> None:
    """Join replica groups GIDS (their servers as the cluster file lists them)."""
    cluster = _sharded(cluster_file)
    _known(cluster, gids, cluster_file)
    groups = {gid: cluster.names(gid) for gid in gids}
    _changed(_call(cluster_file, "join", lambda core: core.join(groups), timeout))


@command.command(name="leave")
@click.argument("gids", nargs=-1, required=True, type=click.IntRange(min=1))
@_options
def leave(gids: tuple[int, ...], cluster_file: Path, timeout: float) -> None:
    """Remove replica groups GIDS; their shards move to the groups that stay."""
    _changed(_call(cluster_file, "leave", lambda core: core.leave(gids), timeout))


@command.command(name="move")
@click.argument("shard", type=click.IntRange(0, NSHARDS - 1))
@click.argument("gid", type=click.IntRange(min=1))
@_options
def move(shard: int, gid: int, cluster_file: Path, timeout: float) -> None:
    """Assign SHARD to group GID."""
    _changed(_call(cluster_file, "move", lambda core: core.move(shard, gid), timeout))


@command.command(name="query")
@click.argument("num", type=click.IntRange(min=-1), default=-1)
@_options
def query(num: int, cluster_file: Path, timeout: float) -> None:
    """Print configuration NUM (-1, the default: the newest)."""
    config = _call(cluster_file, "query", lambda core: core.query(num), timeout)
    click.echo(show(config))
