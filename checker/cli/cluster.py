"""`dscheck cluster start|status|stop`: a key/value cluster of real server processes on this
machine (impl.net.local), bound to loopback.

`start` chooses free ports (or `--base-port`), writes the cluster file `DIR/cluster`, starts
one `dscheck server` per server in the background and returns once a leader is elected,
printing the addresses. `status` asks every server of a cluster file what it is doing;
`stop` ends the processes `start` left running. Clients use the cluster file:
`dscheck kv put k v --cluster DIR/cluster`.

`start --sharded --groups G` starts the sharded service instead (lab 4): the shard
controller's three servers and G replica groups (gids 100, 101, ...) of SERVERS each, joins
the groups (unless `--no-join`) and returns once every group has a leader; `status` shows
every group's servers and `stop` stops them all.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from impl.net.clerk import NetClerk
from impl.net.cluster import Address, Sharded, read_any
from impl.net.local import (
    CLUSTER_FILE,
    FIRST_GID,
    LocalCluster,
    is_our_server,
    nodes_of,
    read_pid,
    statuses,
    stop_detached,
    wait_for_leader,
    wait_for_leaders,
)
from impl.net.server import FLUSH_MODES, run_loop
from spec.errors import BadInput

DEFAULT_DIR = Path("dscheck-cluster")
FC = TypeVar("FC", bound=Callable[..., object])


def _dir_option(help_text: str) -> Callable[[FC], FC]:
    return click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
                        default=DEFAULT_DIR, show_default=True, help=help_text)


@click.group(name="cluster")
def command() -> None:
    """A key/value or sharded cluster of server processes on this machine."""


@command.command(name="start")
@click.option("--servers", type=click.IntRange(1, 15), default=3, show_default=True,
              help="How many servers (with --sharded: in each replica group).")
@click.option("--sharded", is_flag=True,
              help="The sharded service: the shard controller and --groups replica groups.")
@click.option("--groups", type=click.IntRange(1, 10), default=2, show_default=True,
              help="With --sharded: how many replica groups (gids 100, 101, ...).")
@click.option("--join/--no-join", default=True, show_default=True,
              help="With --sharded: join every group once all have a leader.")
@_dir_option("The cluster's directory: its cluster file, each server's state and log.")
@click.option("--base-port", type=click.IntRange(1, 65535), default=None,
              help="Listen on BASE-PORT, BASE-PORT+1, ... [default: free ports].")
@click.option("--maxraftstate", type=click.IntRange(min=-1), default=1 << 20,
              show_default=True, help="Snapshot when a server's Raft state nears this many "
                                      "bytes (-1: never).")
@click.option("--trace", is_flag=True, help="Each server writes its trace into DIR/traces.")
@click.option("--faults", "allow_faults", is_flag=True,
              help="Servers accept fault injection (for tests).")
@click.option("--read-index/--no-read-index", default=True, show_default=True,
              help="Servers answer gets by ReadIndex (a heartbeat round, no log entry), or "
                   "through the log.")
@click.option("--parallel-write/--no-parallel-write", default=True, show_default=True,
              help="Leaders send AppendEntries while their own disk write runs, or after it.")
@click.option("--read-batching/--no-read-batching", default=True, show_default=True,
              help="Gets arriving while a ReadIndex round is in flight share the next round, "
                   "or each get has a round of its own.")
@click.option("--early-replies/--no-early-replies", default=True, show_default=True,
              help="With the parallel write, servers answer a call once it is committed, "
                   "or only once their own pending fsync is done too.")
@click.option("--flush", type=click.Choice(FLUSH_MODES), default="auto", show_default=True,
              help="Where servers fsync: in the event loop for small writes and on an I/O "
                   "thread for batches (auto), always in the loop, always on the thread.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=20.0, show_default=True,
              help="Seconds to wait for a leader.")
def start(servers: int, sharded: bool, groups: int, join: bool, directory: Path,
          base_port: int | None, maxraftstate: int, trace: bool, allow_faults: bool,
          read_index: bool, parallel_write: bool, read_batching: bool, early_replies: bool,
          flush: str, timeout: float) -> None:
    """Start SERVERS servers (or, with --sharded, the controller and --groups groups of
    SERVERS) in the background; return once every group has a leader."""
    if maxraftstate == 0:
        raise click.BadParameter("must be -1 (never snapshot) or at least 1 byte",
                                 param_hint="'--maxraftstate'")
    if (directory / CLUSTER_FILE).exists():
        old = nodes_of(read_any(directory / CLUSTER_FILE))
        running = [n for n in old
                   if (pid := read_pid(directory, n)) is not None
                   and is_our_server(pid, directory, n)]
        if running:
            raise BadInput(f"a cluster is running here (servers {running}); "
                           "'dscheck cluster stop' it first", str(directory))
    options = ["--maxraftstate", str(maxraftstate)]
    if trace:
        options += ["--trace", str(directory / "traces")]
    if allow_faults:
        options.append("--faults")
    if not read_index:
        options.append("--no-read-index")
    if not parallel_write:
        options.append("--no-parallel-write")
    if not read_batching:
        options.append("--no-read-batching")
    if not early_replies:
        options.append("--no-early-replies")
    if flush != "auto":
        options += ["--flush", flush]
    if sharded:
        _start_sharded(directory, groups, servers, base_port, options, join, timeout)
        return
    cluster = LocalCluster.create(directory, servers, base_port=base_port, options=options,
                                  detach=True)
    cluster.start_all()
    began = time.monotonic()
    try:
        leader = run_loop(wait_for_leader(cluster.addresses, timeout, cluster))
    except BadInput:
        stop_detached(directory, servers)
        raise
    if leader is None:
        stop_detached(directory, servers)
        click.echo(f"dscheck cluster start: no leader within {timeout:g} s; servers stopped "
                   f"(their logs: {directory}/s*.log)", err=True)
        sys.exit(3)
    for node, address in enumerate(cluster.addresses):
        mark = "  leader" if node == leader["id"] else ""
        click.echo(f"server {node}  {address}  pid {cluster.procs[node].pid}{mark}")
    click.echo(f"cluster file: {cluster.cluster_file} · leader elected in "
               f"{time.monotonic() - began:.2f} s (term {leader['term']})")


def _start_sharded(directory: Path, groups: int, servers: int, base_port: int | None,
                   options: list[str], join: bool, timeout: float) -> None:
    cluster = LocalCluster.create_sharded(directory, groups, servers, base_port=base_port,
                                          options=options, detach=True)
    assert cluster.sharded is not None
    cluster.start_all()
    began = time.monotonic()
    try:
        leaders = run_loop(wait_for_leaders(cluster, timeout))
    except BadInput:
        stop_detached(directory, cluster.nodes)
        raise
    missing = [label for label, leader in leaders.items() if leader is None]
    if missing:
        stop_detached(directory, cluster.nodes)
        click.echo(f"dscheck cluster start: no leader in {', '.join(missing)} within "
                   f"{timeout:g} s; servers stopped (their logs: {directory}/*.log)", err=True)
        sys.exit(3)
    elected = time.monotonic() - began
    lead = {label: s["id"] for label, s in leaders.items() if s is not None}
    where = cluster.sharded.address_of()
    for node in cluster.nodes:
        name = str(node)
        gid, i = cluster.sharded.locate(name)
        label = "controller" if gid is None else f"group {gid}"
        mark = "  leader" if lead[label] == i else ""
        click.echo(f"{name:<14} {where[name]!s:<21} pid {cluster.procs[node].pid}{mark}")
    click.echo(f"cluster file: {cluster.cluster_file} · every group led in {elected:.2f} s")
    if join:
        gids = cluster.sharded.gids()
        config = run_loop(_join(cluster.sharded, gids, timeout))
        click.echo(f"joined groups {', '.join(map(str, gids))}: configuration {config.num}, "
                   f"shards {' '.join(map(str, config.shards))}")
    else:
        click.echo(f"join the groups with: dscheck shardctrler join {FIRST_GID} ... "
                   f"--cluster {cluster.cluster_file}")


async def _join(sharded: Sharded, gids: tuple[int, ...], timeout: float) -> Any:
    """Join `gids` through a controller clerk; the configuration that results."""
    clerk = NetClerk(sharded, controller=True)
    try:
        await asyncio.wait_for(clerk.run(lambda core: core.join(
            {gid: sharded.names(gid) for gid in gids})), timeout)
        return await asyncio.wait_for(clerk.run(lambda core: core.query(-1)), timeout)
    finally:
        clerk.close()


def _cluster_file(cluster_file: Path | None, directory: Path) -> Path:
    return cluster_file if cluster_file is not None else directory / CLUSTER_FILE


@command.command(name="status")
@_dir_option("The cluster's directory (its cluster file is DIR/cluster).")
@click.option("--cluster", "cluster_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="A cluster file instead of DIR/cluster.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per server.")
def status(directory: Path, cluster_file: Path | None, as_json: bool) -> None:
    """What every server of the cluster is doing."""
    path = _cluster_file(cluster_file, directory)
    layout = read_any(path)
    if isinstance(layout, Sharded):
        _sharded_status(layout, path, as_json)
        return
    addresses = layout
    found = run_loop(statuses(addresses, 1.0))
    if all(s is None for s in found):
        raise BadInput(f"cluster unreachable: none of its {len(addresses)} servers answers",
                       str(path))
    if as_json:
        for node, (address, s) in enumerate(zip(addresses, found, strict=True)):
            click.echo(json.dumps({"id": node, "address": str(address), "up": s is not None,
                                   **(s or {})}))
        return
    click.echo(f"{'id':>2}  {'address':<21} {'role':<9} {'term':>5} {'leader':>6} "
               f"{'commit':>8} {'applied':>8} {'keys':>7} {'fsyncs':>8} {'per fsync':>9}  pid")
    for node, (address, s) in enumerate(zip(addresses, found, strict=True)):
        if s is None:
            click.echo(f"{node:>2}  {address!s:<21} down")
            continue
        leader = "-" if s["leader"] is None else s["leader"]
        # Group commit: states made durable per fsync since the server started.
        per = s["durable"] / s["flushes"] if s.get("flushes") else 0.0
        click.echo(f"{node:>2}  {address!s:<21} {s['role']:<9} {s['term']:>5} {leader:>6} "
                   f"{s['commit_index']:>8} {s['last_applied']:>8} {s['keys']:>7} "
                   f"{s.get('flushes', 0):>8} {per:>9.1f}  {s['pid']}")


def _sharded_status(layout: Sharded, path: Path, as_json: bool) -> None:
    where = layout.address_of()
    names = [str(n) for n in nodes_of(layout)]
    addresses: tuple[Address, ...] = tuple(where[n] for n in names)
    found = run_loop(statuses(addresses, 1.0))
    if all(s is None for s in found):
        raise BadInput(f"cluster unreachable: none of its {len(addresses)} servers answers",
                       str(path))
    if as_json:
        for name, address, s in zip(names, addresses, found, strict=True):
            click.echo(json.dumps({"name": name, "address": str(address), "up": s is not None,
                                   **(s or {})}))
        return
    click.echo(f"{'server':<14} {'address':<21} {'role':<9} {'term':>5} {'leader':>6} "
               f"{'commit':>8} {'config':>6} {'keys':>7}  {'shards served':<20} pid")
    for name, address, s in zip(names, addresses, found, strict=True):
        if s is None:
            click.echo(f"{name:<14} {address!s:<21} down")
            continue
        leader = "-" if s["leader"] is None else s["leader"]
        served = (" ".join(map(str, s["serving"])) or "-") if "serving" in s else \
            "groups " + (" ".join(map(str, s.get("gids", []))) or "-")
        click.echo(f"{name:<14} {address!s:<21} {s['role']:<9} {s['term']:>5} {leader:>6} "
                   f"{s['commit_index']:>8} {s.get('num', 0):>6} {s['keys']:>7}  "
                   f"{served:<20} {s['pid']}")


@command.command(name="stop")
@_dir_option("The cluster's directory, as given to 'cluster start'.")
def stop(directory: Path) -> None:
    """Stop the server processes 'cluster start' left running in DIR."""
    stopped = stop_detached(directory, nodes_of(read_any(directory / CLUSTER_FILE)))
    if not stopped:
        click.echo(f"no server of {directory} was running")
        return
    click.echo(f"stopped servers {', '.join(map(str, stopped))}")


