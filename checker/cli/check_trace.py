"""`dscheck check-trace FILE`: judge every state of a recorded trace.

Reads a `dscheck-trace` (traces/README.md) and hands it to its system's checker: a Raft trace
has its global state rebuilt after each event and every invariant a trace can show evaluated
(`checker.trace_check`), and so does each Raft group of a kv, shardctrler or shardkv trace,
with the service's own properties in the same pass (`checker.trace_check.kv`,
`shardctrler`, `shardkv`); a MapReduce coordinator's trace has every step judged by the
spec's rules (`checker.trace_check.mapreduce`, also `dscheck mr check-trace`). Exit status 0 when
every state holds them, 1 on a violation (with its position, what it breaks, and for Raft the
servers and the shortest excerpt), 2 when the file is not a trace (`path:line: what is wrong`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from checker.trace_check import check_trace, system_of
from checker.trace_check.render import render_json, render_text


@click.command(name="check-trace")
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--max-violations", type=click.IntRange(min=1), default=10, show_default=True,
              help="Report at most this many violations (the first of each invariant and "
                   "set of servers, shard or call) of a Raft, kv, shardctrler or shardkv trace.")
def command(file: str, as_json: bool, max_violations: int) -> None:
    """Check every state of the trace FILE: a Raft trace against the Raft invariants (a kv,
    shardctrler or shardkv trace also against its service's properties), a MapReduce trace
    against the coordinator's rules."""
    path = Path(file)
    if system_of(path) == "mapreduce":
        from checker.trace_check.mapreduce import check_trace as check_mapreduce

        checked = check_mapreduce(path)
        click.echo(json.dumps(checked.to_json(file)) if as_json else checked.describe(file))
        sys.exit(checked.verdict.exit_status)
    result = check_trace(path, max_violations=max_violations)
    if as_json:
        click.echo(render_json(result))
    else:
        render_text(result, Console(highlight=False))
    sys.exit(result.verdict.exit_status)
