"""What every `dscheck sim SYSTEM` command does alike: where its files go, which options a lab
scenario fixes, the maxraftstate option's rule, and how a run's summary ends the command."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from checker.linearizability import render_text
from checker.verdict import Verdict
from impl.files import open_atomically
from impl.trace import TraceWriter
from spec.errors import BadInput


def check_paths(*paths: tuple[str, Path | None]) -> None:
    """Refuse an output file whose directory is missing before the run, not after it."""
    for option, path in paths:
        if path is not None and not path.resolve().parent.is_dir():
            raise BadInput(f"{option}: directory {path.resolve().parent} does not exist",
                           path=str(path))


@contextlib.contextmanager
def recording(path: Path | None) -> Iterator[TraceWriter]:
    """A trace writer for the run: to `path` atomically, or disabled when there is none."""
    if path is None:
        yield TraceWriter.disabled()
        return
    check_paths(("--trace", path))
    with open_atomically(path) as stream:
        yield TraceWriter(stream)


def fixed_by_scenario(scenario: str, given: tuple[tuple[str, Any], ...]) -> None:
    """Refuse an option of the random schedule given together with a lab scenario."""
    for option, value in given:
        if value is not None:
            raise BadInput(f"{option}: for the random schedule; scenario {scenario} "
                           "fixes its own setting")


def maxraftstate(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value != -1 and value < 1:
        raise click.BadParameter(f"{value} bytes: must be -1 (never snapshot) or at least 1")
    return value


def run_summary(run: Any, audited: Any, verdict: Verdict, trace_path: Path | None,
                history_path: Path | None) -> dict[str, Any]:
    """What a run of a key/value service on Raft (kv, shardkv) reports alike, for its JSON
    summary: the tester's figures, the audit, the verdict and the files written."""
    cfg, lin = run.tester, audited.result
    return {
        "virtual_seconds": cfg.now / 1000,
        "wall_seconds": round(run.wall_seconds, 3),
        "pass_lines": [s.line() for s in run.summaries],
        "calls": len(cfg.history.calls),
        "settled": run.settled,
        "unknown": run.unknown,
        "applies": cfg.applies,
        "rpcs": cfg.rpc_total(),
        "bytes": cfg.net.stats.total_bytes,
        "messages_dropped": cfg.net.stats.dropped,
        "max_raft_state_bytes": cfg.log_size(),
        "max_snapshot_bytes": cfg.snapshot_size(),
        "failure": run.failure,
        "fault": run.fault.to_json() if run.fault is not None else None,
        "linearizability": {
            "verdict": audited.verdict.value, "decided_by": audited.how,
            "operations": audited.operations, "parts": len(lin.partitions),
            "seconds": round(audited.seconds, 3), "witness_problem": audited.witness_problem},
        "verdict": verdict.value,
        "trace": str(trace_path) if trace_path is not None else None,
        "history": str(history_path) if history_path is not None else None,
    }


def print_linearizability(console: Any, lin: dict[str, Any], witness: str, order: str) -> None:
    """The audit's line: `witness` names how the servers' own order decided it, `order`
    prefixes that order's problem when it was not a linearization."""
    how = "the search" if lin["decided_by"] == "search" else witness
    parts = f" on {lin['parts']} key{'' if lin['parts'] == 1 else 's'}" if "parts" in lin else ""
    console.print(f"linearizability: {lin['verdict'].upper()} · {lin['operations']} operations"
                  f"{parts} · decided by {how} in {lin['seconds']:.2f} s")
    if lin["witness_problem"]:
        console.print(f"  {order}: {lin['witness_problem']}")


def print_verdict(console: Any, s: dict[str, Any]) -> None:
    if s["failure"]:
        console.print(f"[bold red]VIOLATION[/bold red]: {s['failure']}")
    elif s["verdict"] == "violation":
        console.print("[bold red]VIOLATION[/bold red]: the history is not linearizable")
    elif s["verdict"] == "unknown":
        console.print("[bold yellow]UNKNOWN[/bold yellow]: linearizability not decided")
    else:
        console.print("[bold green]OK[/bold green]: every lab check held; the history is "
                      "linearizable")


def finish(summary: dict[str, Any], as_json: bool, show: Callable[[], None], audited: Any,
           verdict: Verdict) -> None:
    """Print the summary (JSON, or `show` and the audit's counterexample) and exit with the
    verdict's status."""
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        show()
        if audited.verdict is Verdict.VIOLATION:
            click.echo(render_text(audited.result))
    raise click.exceptions.Exit(verdict.exit_status)
