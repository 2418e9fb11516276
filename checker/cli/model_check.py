"""`dscheck model-check MODEL ...`: exhaustively model-check a spec at small bounds.

One subcommand per model (`raft`, `impl-raft`, `mapreduce`, `kv`, `shardkv`, `shardctrler`), each building its `Model` once from its options
— validated when built — and handing it to the one search, with the same search options,
progress, report, JSON and ITF for every model.

Raft's defaults (3 servers, terms ≤ 3, logs ≤ 1 entry, 1 value, ≤ 2 messages in flight, no
restarts) are exhausted for the correct spec in a few minutes on a 2-core machine and find every
bug flag; a bug that needs a crash to show (unpersisted-vote) raises the restart bound to 1
unless --max-restarts is given, since without a restart it is not a bug at all.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path

import click

from checker.cli.impl_raft_bounds import impl_raft_bounds
from checker.cli.impl_raft_replay import replay_counterexample
from checker.cli.kv_bounds import kv_bounds
from checker.cli.mapreduce_job import mapreduce_job
from checker.cli.raft_bounds import raft_bounds
from checker.cli.search_options import run_and_report, search_options
from checker.cli.shardkv_bounds import shardkv_bounds
from checker.modelcheck import Options
from checker.modelcheck.models import (
    ENGINES,
    SEMANTICS,
    MapReduceModel,
    RaftModel,
    ShardCtrlerModel,
    ShardKVModel,
)
from checker.modelcheck.models.impl_raft import ImplRaftConfig, ImplRaftModel
from checker.modelcheck.models.kv import KVModel
from checker.modelcheck.models.shardctrler import RULES
from impl.raft.bugs import BUGS
from spec import kv, raft, shardkv
from spec.errors import BadInput


@click.group(name="model-check")
def command() -> None:
    """Exhaustively model-check a small, bounded configuration of a spec.

    Exit status: 0 no invariant violated in the whole bounded space, 1 a violation (with a
    shortest counterexample), 2 bad usage, 3 unknown (a depth/state/time bound cut the search).
    """


@command.command(name="raft")
@raft_bounds
@click.option("--list-bugs", is_flag=True, help="List the fault flags and exit.")
@click.option(
    "--symmetry/--no-symmetry",
    default=True,
    show_default=True,
    help="Explore one state per renaming of server ids.",
)
@click.option(
    "--semantics",
    type=click.Choice(list(SEMANTICS)),
    default="raft",
    show_default=True,
    help="raft: spec.raft (atomic message handling, network as a set); raft-tla: raft.tla's "
    "actions and message bag (count-0 messages kept, as raft.tla does); raft-tla-clean-bag: "
    "the same with count-0 messages removed; raft-tla-set: the network as a set whose "
    "messages stay after delivery (needs --duplicates, which it stands for). The raft-tla "
    "modes start terms at 1 and have no bug flags or snapshots.",
)
@click.option(
    "--engine",
    type=click.Choice(list(ENGINES)),
    default="auto",
    show_default=True,
    help="spec: run the readable spec's own functions; packed (raft-tla semantics only): the "
    "same successor relation specialised to packed states, kept equal to the spec by tests; "
    "auto: packed where it exists.",
)
@search_options
def raft_command(
    config: raft.Config,
    list_bugs: bool,
    symmetry: bool,
    semantics: str,
    engine: str,
    options: Options,
    as_json: bool,
    itf_path: Path | None,
    html_path: Path | None,
) -> None:
    """Model-check the Raft spec (spec.raft, or raft.tla's semantics)."""
    if list_bugs:
        if as_json:
            click.echo(json.dumps(raft.BUGS))
        else:
            for name, what in raft.BUGS.items():
                click.echo(f"{name:24} {what}")
        sys.exit(0)
    try:
        model = RaftModel(config=config, semantics=semantics, engine=engine, symmetry=symmetry)
    except ValueError as error:
        raise BadInput(str(error)) from None
    run_and_report(model, options, as_json, itf_path, html_path)


@command.command(name="impl-raft")
@impl_raft_bounds
@click.option("--list-bugs", is_flag=True, help="List the core's fault flags and exit.")
@click.option("--symmetry/--no-symmetry", default=True, show_default=True,
              help="Explore one state per renaming of server ids.")
@click.option("--schedule-out", "schedule_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the counterexample, if any, as a schedule that "
              "'dscheck sim raft --schedule FILE' replays.")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the counterexample's simulator trace, which "
              "'dscheck check-trace' reads.")
@search_options
def impl_raft_command(config: ImplRaftConfig, list_bugs: bool, symmetry: bool,
                      schedule_path: Path | None, trace_path: Path | None, options: Options,
                      as_json: bool, itf_path: Path | None, html_path: Path | None) -> None:
    """Model-check the Raft implementation itself: the simulator's cores (impl/raft/core.py),
    driven through their API by every interleaving within the bounds.

    A counterexample is replayed on the simulator, step by step, before it is reported; the
    report names the schedule and trace files that hold it."""
    if list_bugs:
        if as_json:
            click.echo(json.dumps({name: bug.description for name, bug in BUGS.items()}))
        else:
            for bug in BUGS.values():
                click.echo(f"{bug.name:24} {bug.description}")
        sys.exit(0)
    for path in (schedule_path, trace_path):
        if path is not None and not path.resolve().parent.is_dir():
            raise BadInput("no such directory; expected an existing folder", str(path))
    model = ImplRaftModel(config=config, symmetry=symmetry)
    run_and_report(model, options, as_json, itf_path, html_path,
                   after=partial(replay_counterexample, model, schedule_path, trace_path))


@command.command(name="mapreduce")
@mapreduce_job("--job-workers")
@search_options
def mapreduce_command(
    model: MapReduceModel, options: Options, as_json: bool, itf_path: Path | None,
    html_path: Path | None
) -> None:
    """Model-check the MapReduce coordinator's spec (spec.mapreduce) for one small job."""
    run_and_report(model, options, as_json, itf_path, html_path)


@command.command(name="kv")
@kv_bounds
@click.option("--list-bugs", is_flag=True, help="List the fault flags and exit.")
@search_options
def kv_command(config: kv.Config, list_bugs: bool, options: Options, as_json: bool,
               itf_path: Path | None, html_path: Path | None) -> None:
    """Model-check the key/value service's spec (spec.kv): clerk calls executed exactly once
    on replicas of one committed log, with retries, restarts, snapshots, and ReadIndex reads.

    The defaults (2 replicas, a log of ≤ 4 entries, one clerk appending while another appends
    and reads, snapshots and restarts) are exhausted in seconds; every bug flag is found there
    (stale-read with --read-index) with a shortest counterexample."""
    if list_bugs:
        if as_json:
            click.echo(json.dumps(kv.BUGS))
        else:
            for name, what in kv.BUGS.items():
                click.echo(f"{name:24} {what}")
        sys.exit(0)
    run_and_report(KVModel(config=config), options, as_json, itf_path, html_path)


@command.command(name="shardkv")
@shardkv_bounds
@click.option("--list-bugs", is_flag=True, help="List the fault flags and exit.")
@search_options
def shardkv_command(
    config: shardkv.Config, list_bugs: bool, options: Options, as_json: bool,
    itf_path: Path | None, html_path: Path | None
) -> None:
    """Model-check the sharded KV spec (spec.shardkv): groups, configurations, migration.

    The defaults (2 groups, 2 shards, the 4 configurations of Join 1, Join 2, Leave 1, Join 1,
    2 clerks with 2 calls each, ≤ 3 messages in flight, drops and duplicates) are exhausted in
    seconds; every bug flag is found there with a shortest counterexample."""
    if list_bugs:
        if as_json:
            click.echo(json.dumps(shardkv.BUGS))
        else:
            for name, what in shardkv.BUGS.items():
                click.echo(f"{name:24} {what}")
        sys.exit(0)
    run_and_report(ShardKVModel(config=config), options, as_json, itf_path, html_path)


@command.command(name="shardctrler")
@click.option("--gids", type=click.IntRange(1, 6), default=3, show_default=True,
              help="Groups 1..N may join and leave.")
@click.option("--shards", type=click.IntRange(1, 10), default=10, show_default=True,
              help="Shards (the lab's NShards is 10).")
@click.option("--moves/--no-moves", default=True, show_default=True,
              help="Also Move any shard to any present group.")
@click.option("--rule", type=click.Choice(RULES), default="minimal", show_default=True,
              help="minimal: the controller spec's rebalancing; deal: a deliberately wasteful "
                   "rule (deal every shard afresh) that the checker must reject.")
@search_options
def shardctrler_command(gids: int, shards: int, moves: bool, rule: str, options: Options,
                        as_json: bool, itf_path: Path | None,
                        html_path: Path | None) -> None:
    """Model-check the shard controller (spec.shardctrler): every Join/Leave/Move sequence.

    Checks on every rebalancing step that the result is balanced, moves the fewest shards, gives
    no shard to a group that already existed (joins) and moves no shard of a surviving group
    (leaves), both from a balanced configuration; and that a Move moves exactly its shard."""
    run_and_report(ShardCtrlerModel(gids=gids, shards=shards, moves=moves, rule=rule), options,
                   as_json, itf_path, html_path)
