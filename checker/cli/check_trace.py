"""`dscheck check-trace FILE`: judge every state of a recorded trace by the invariants.

Reads a `dscheck-trace` (traces/README.md), rebuilds the global state after each event, and
evaluates every invariant a trace can show (`checker.trace_check`). Exit status 0 when every
state holds them, 1 on a violation (with its position, invariant, servers and the shortest
excerpt), 2 on a malformed trace (`path:line: what is wrong`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from checker.trace_check import check_trace
from checker.trace_check.render import render_json, render_text


@click.command(name="check-trace")
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--max-violations", type=click.IntRange(min=1), default=10, show_default=True,
              help="Report at most this many violations (the first of each invariant and "
                   "set of servers).")
def command(file: str, as_json: bool, max_violations: int) -> None:
    """Check every state of the trace FILE against the Raft invariants."""
    result = check_trace(Path(file), max_violations=max_violations)
    if as_json:
        click.echo(render_json(result))
    else:
        render_text(result, Console(highlight=False))
    sys.exit(result.verdict.exit_status)
