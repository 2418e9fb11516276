"""`dscheck server --id I --cluster FILE --dir D`: one server of a cluster, in the foreground
(impl.net.server): its Raft state on disk in D, its address the cluster file's line I, its
log on standard error. In a sharded cluster file I is the server's name (`ctrler0`,
`server-100-2`): a shard controller's server or a replica group's. `dscheck cluster start` runs one of these per server on
this machine; on several machines, run one on each with the same cluster file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from impl.net.cluster import Address, Sharded, read_any
from impl.net.server import FLUSH_MODES, FlushMode, ServerSettings, serve
from impl.net.service import KVService, Service
from impl.raft.core import RaftConfig
from spec.errors import BadInput


@click.command(name="server")
@click.option("--id", "node_id", required=True, metavar="ID",
              help="This server's id: its line in the cluster file, from 0; in a sharded "
                   "cluster file its name (ctrler0, server-100-2, ...).")
@click.option("--cluster", "cluster_file", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The cluster file: one HOST:PORT a line.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Where this server keeps its Raft state and snapshot.")
@click.option("--bind", default=None, metavar="HOST",
              help="Listen on HOST instead of the cluster file's host for this id "
                   "(e.g. 0.0.0.0 behind a named address).")
@click.option("--maxraftstate", type=click.IntRange(min=-1), default=1 << 20,
              show_default=True,
              help="Snapshot when Raft's state on disk approaches this many bytes (-1: never).")
@click.option("--trace", "trace_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write this server's trace into this directory, one file "
                                 "per incarnation (merge a cluster's with 'dscheck check-trace').")
@click.option("--faults", "allow_faults", is_flag=True,
              help="Accept fault injection (cut links, lose messages) from admin "
                   "connections: for tests only.")
@click.option("--seed", type=int, default=None, help="Seed of the election timeouts.")
@click.option("--read-index/--no-read-index", default=True, show_default=True,
              help="Answer gets by ReadIndex (a heartbeat round, no log entry), or through "
                   "the log.")
@click.option("--parallel-write/--no-parallel-write", default=True, show_default=True,
              help="As leader, send AppendEntries while the own disk write of their entries "
                   "runs (counting itself in a commit majority only once it is done), or "
                   "only after it.")
@click.option("--flush", type=click.Choice(FLUSH_MODES), default="auto", show_default=True,
              help="Where the fsyncs run: in the event loop unless leading under concurrent "
                   "requests, then on an I/O thread (auto); always in the loop; always on "
                   "the thread.")
@click.option("--read-batching/--no-read-batching", default=True, show_default=True,
              help="Confirm the gets that arrive while a ReadIndex round is in flight with "
                   "one next round, or each get with a round of its own.")
@click.option("--early-replies/--no-early-replies", default=True, show_default=True,
              help="With the parallel write, answer clerks as soon as their call is "
                   "committed (on a majority of durable logs), or only once this server's "
                   "own pending fsync is done too.")
def command(node_id: str, cluster_file: Path, directory: Path, bind: str | None,
            maxraftstate: int, trace_dir: Path | None, allow_faults: bool,
            seed: int | None, read_index: bool, parallel_write: bool,
            flush: FlushMode, read_batching: bool, early_replies: bool) -> None:
    """Run one server of the cluster in FILE until stopped (SIGTERM or Ctrl-C)."""
    if maxraftstate == 0:
        raise click.BadParameter("must be -1 (never snapshot) or at least 1 byte",
                                 param_hint="'--maxraftstate'")
    found = read_any(cluster_file)
    service: Service
    name: str | None = None
    if isinstance(found, Sharded):
        from impl.net.sharded import hosting  # here: a key/value server starts faster

        name = node_id
        node, group, service = hosting(found, node_id)
    elif node_id.isdigit():
        node, group, service = int(node_id), found, KVService()
    else:
        raise BadInput(f"--id {node_id!r}: a key/value cluster's servers are numbered 0.."
                       f"{len(found) - 1}")
    settings = ServerSettings(node=node, cluster=group, directory=directory, bind=bind,
                              maxraftstate=maxraftstate, trace=trace_dir,
                              allow_faults=allow_faults, seed=seed, read_index=read_index,
                              parallel_write=parallel_write, flush=flush, service=service,
                              early_replies=early_replies,
                              raft=RaftConfig(strict_flow_control=True,
                                              batch_reads=read_batching),
                              name=name)

    def ready(address: Address) -> None:
        click.echo(f"server {name if name is not None else node} ready at {address}")
        sys.stdout.flush()

    sys.exit(serve(settings, ready))
