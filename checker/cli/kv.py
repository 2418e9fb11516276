"""`dscheck kv get|put|append|load`: a clerk of a running key/value cluster (impl.net).

`get KEY`, `put KEY VALUE`, `append KEY VALUE` make one call with the simulator's clerk core
(exactly-once: a retried call keeps its (clerk, seq), and the servers' duplicate table runs it
once). A get goes through the Raft log, so it is linearizable. `load` runs N clerks for a
bounded time, records their history (`--history`, audit it with `dscheck lin`), and prints
throughput and latency percentiles, with a progress line every second on standard error.

Given a sharded cluster file (`dscheck cluster start --sharded`), the same commands are the
sharded service's clerk (impl.shardkv.clerk): each key goes to the group that serves its shard
in the controller's configuration, asking the controller again on ErrWrongGroup.

Exit statuses: 0 done; 2 bad input (a bad cluster file, no server of the cluster answers,
a key or value that is not text the service can hold); 3 unknown — the call did not finish
within `--timeout` (a put or append may still take effect).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

import click

from impl.net.clerk import NetClerk
from impl.net.cluster import Address, Sharded, read_any
from impl.net.load import KINDS, LoadResult, LoadSettings, run_load
from impl.net.local import statuses
from impl.net.server import run_loop
from spec.errors import BadInput

EXIT_UNKNOWN = 3
MAX_KEY = 1 << 10  # characters: keys are names, not payloads
MAX_VALUE = 1 << 20  # characters of one value (a frame holds it many times over)
FC = TypeVar("FC", bound=Callable[..., object])


def _cluster_option(command: FC) -> FC:
    return click.option("--cluster", "cluster_file", type=click.Path(path_type=Path),
                        default=Path("dscheck-cluster/cluster"), show_default=True,
                        help="The cluster file (one HOST:PORT a line).")(command)


def _timeout_option(command: FC) -> FC:
    return click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0,
                        show_default=True,
                        help="Seconds to wait for the call; past it the outcome is unknown "
                             "(exit 3).")(command)


def _text(what: str, text: str, limit: int, *, empty_ok: bool) -> str:
    """A key or value the service can hold: UTF-8 text (no lone surrogates, as a shell
    argument of bytes that are not UTF-8 decodes to), within the size limit."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"the {what} is not valid UTF-8 text; keys and values are strings") \
            from None
    if not text and not empty_ok:
        raise BadInput(f"the {what} is empty")
    if len(text) > limit:
        raise BadInput(f"the {what} is {len(text):,} characters; at most {limit:,}")
    return text


async def _reachable(cluster: tuple[Address, ...] | Sharded, path: Path) -> None:
    # A sharded service's calls start at the controller: it must answer.
    servers = cluster.controller if isinstance(cluster, Sharded) else cluster
    found = await statuses(servers, 1.0)
    if all(s is None for s in found):
        what = "the controller's" if isinstance(cluster, Sharded) else "its"
        raise BadInput(f"cluster unreachable: none of {what} {len(servers)} servers answers "
                       f"({', '.join(map(str, servers))})", str(path))


async def _one_call(cluster: tuple[Address, ...] | Sharded, path: Path, kind: str, key: str,
                    value: str | None, timeout: float) -> str | None:
    await _reachable(cluster, path)
    clerk = NetClerk(cluster)
    try:
        return await asyncio.wait_for(clerk.call(kind, key, value), timeout)
    finally:
        clerk.close()


def _call(cluster_file: Path, kind: str, key: str, value: str | None, timeout: float) -> None:
    key = _text("key", key, MAX_KEY, empty_ok=False)
    if value is not None:
        value = _text("value", value, MAX_VALUE, empty_ok=True)
    cluster = read_any(cluster_file)
    try:
        output = run_loop(_one_call(cluster, cluster_file, kind, key, value, timeout))
    except TimeoutError:
        effect = "" if kind == "get" else "; it may still take effect"
        click.echo(f"dscheck kv {kind}: no answer within {timeout:g} s (outcome unknown"
                   f"{effect})", err=True)
        sys.exit(EXIT_UNKNOWN)
    click.echo(output if kind == "get" else "OK")


@click.group(name="kv")
def command() -> None:
    """A clerk of a running key/value cluster: get, put, append, and load."""


@command.command(name="get")
@click.argument("key")
@_cluster_option
@_timeout_option
def get(key: str, cluster_file: Path, timeout: float) -> None:
    """Print KEY's value ("" if absent); linearizable (read through the Raft log)."""
    _call(cluster_file, "get", key, None, timeout)


@command.command(name="put")
@click.argument("key")
@click.argument("value")
@_cluster_option
@_timeout_option
def put(key: str, value: str, cluster_file: Path, timeout: float) -> None:
    """Set KEY to VALUE, exactly once."""
    _call(cluster_file, "put", key, value, timeout)


@command.command(name="append")
@click.argument("key")
@click.argument("value")
@_cluster_option
@_timeout_option
def append(key: str, value: str, cluster_file: Path, timeout: float) -> None:
    """Append VALUE to KEY's value, exactly once."""
    _call(cluster_file, "append", key, value, timeout)


def _parse_mix(text: str) -> tuple[tuple[str, float], ...]:
    mix = []
    for part in text.split(","):
        kind, sep, weight = part.strip().partition("=")
        try:
            number = float(weight)
        except ValueError:
            number = -1.0
        if not sep or kind not in KINDS or not number >= 0:
            raise click.BadParameter(f"{part.strip()!r}: expected KIND=WEIGHT with KIND one "
                                     f"of {', '.join(KINDS)} and WEIGHT ≥ 0",
                                     param_hint="'--mix'")
        mix.append((kind, number))
    if not any(w > 0 for _, w in mix):
        raise click.BadParameter("some weight must be above 0", param_hint="'--mix'")
    return tuple(mix)


def _show_progress(stream: IO[str], tty: bool) -> Callable[[float, LoadResult], None]:
    last = [0, 0.0]

    def show(seconds: float, result: LoadResult) -> None:
        done = result.done
        rate = (done - last[0]) / max(1e-9, seconds - last[1])
        last[0], last[1] = done, seconds
        text = f"{seconds:6.1f} s  {done:>9,} calls  {rate:>9,.0f}/s now"
        stream.write(("\r" + text) if tty else text + "\n")
        stream.flush()
    return show


@command.command(name="load")
@click.option("--clients", type=click.IntRange(1, 4096), default=8, show_default=True,
              help="Concurrent clerks, each one call at a time.")
@click.option("--duration", type=click.FloatRange(min=0.1, max=86400), default=10.0,
              show_default=True, help="Seconds of calls.")
@click.option("--keys", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many keys the calls spread over.")
@click.option("--value-size", type=click.IntRange(1, MAX_VALUE), default=100,
              show_default=True, help="Bytes of a put's value.")
@click.option("--mix", default="put=1,append=1,get=2", show_default=True,
              help="Relative weights of the kinds of call.")
@click.option("--history", "history_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Record the clients' history here (audit with 'dscheck lin').")
@click.option("--seed", type=int, default=None, help="Seed of the keys and kinds chosen.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--quiet", is_flag=True, help="No progress line.")
@_cluster_option
def load(clients: int, duration: float, keys: int, value_size: int, mix: str,
         history_path: Path | None, seed: int | None, as_json: bool, quiet: bool,
         cluster_file: Path) -> None:
    """Run CLIENTS clerks against the cluster for DURATION seconds; print throughput and
    latency percentiles."""
    settings = LoadSettings(clients=clients, duration=duration, keys=keys,
                            value_size=value_size, mix=_parse_mix(mix), seed=seed)
    cluster = read_any(cluster_file)
    run_loop(_reachable(cluster, cluster_file))
    stream: IO[str] | None = None
    if history_path is not None:
        try:
            stream = history_path.open("w", encoding="utf-8")
        except OSError as error:
            raise BadInput(f"cannot write the history: {error.strerror}",
                           str(history_path)) from None
    progress = None if quiet else _show_progress(sys.stderr, sys.stderr.isatty())
    try:
        result = run_loop(run_load(cluster, settings, stream, progress))
    finally:
        if stream is not None:
            stream.close()
    if progress is not None and sys.stderr.isatty():
        sys.stderr.write("\n")
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"{summary['calls']:,} calls in {summary['seconds']:.2f} s: "
                   f"{summary['per_second']:,.1f}/s with {clients} clients "
                   f"({summary['abandoned']} in flight at the end: outcome unknown)")
        click.echo(f"{'call':<8}{'count':>9}{'per s':>10}{'p50 ms':>9}{'p90 ms':>9}"
                   f"{'p99 ms':>9}{'max ms':>9}")
        for kind in ("all", *KINDS):
            row = summary.get(kind)
            if not row:
                continue
            count = row.get("calls", summary["calls"])
            rate = row.get("per_second", summary["per_second"])
            click.echo(f"{kind:<8}{count:>9,}{rate:>10,.1f}{row['p50_ms']:>9.2f}"
                       f"{row['p90_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['max_ms']:>9.2f}")
    if history_path is not None:
        click.echo(f"history: {history_path} (audit: dscheck lin {history_path})")
    if result.done == 0:
        click.echo("dscheck kv load: no call finished (is a majority of the cluster up?)",
                   err=True)
        sys.exit(EXIT_UNKNOWN)
