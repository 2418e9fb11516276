"""`dscheck prove shardkv`: prove the sharded KV invariants inductive with Z3.

Encodes the spec's Init and Next at the given bounds (the same options, ranges and defaults as
`dscheck model-check shardkv`), checks initiation and consecution of every invariant relative
to the conjunction still standing (dropping those that fail, with their counterexamples to
induction confirmed by the executable spec), and checks ConfigurationsInOrder on every step.
Exit status 0 when every safety property is proved, 3 when one is not (or the solver answered
unknown), 2 on bad options.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from checker.cli.shardkv_bounds import shardkv_bounds
from checker.files import write_output
from checker.proofs.shardkv.induction import ProofResult, prove
from checker.proofs.shardkv.render import (
    SAFETY_NAMES,
    cti_lines,
    kind_of,
    report_markdown,
    result_json,
    status_of,
)
from checker.verdict import Verdict
from spec.errors import BadInput
from spec.shardkv import Config


@click.command(name="shardkv")
@shardkv_bounds
@click.option("--timeout", "timeout_s", type=click.IntRange(1, 3600), default=300,
              show_default=True, help="Seconds per solver call; beyond it the answer is unknown.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the Markdown proof report to this file.")
def command(config: Config, timeout_s: int, as_json: bool, report: Path | None) -> None:
    """Prove the sharded KV spec's invariants inductive (spec.shardkv)."""
    if report is not None and not report.parent.is_dir():
        raise BadInput("no such directory for --report", str(report))
    console = Console(highlight=False, stderr=as_json)
    if not as_json:
        console.print(f"prove shardkv: {escape(config.describe())}", soft_wrap=True)
    result = prove(config, timeout_ms=timeout_s * 1000)
    if report is not None:
        write_output(report, report_markdown(result), "the report")
    if as_json:
        click.echo(json.dumps(result_json(result), ensure_ascii=False))
    else:
        print_result(console, result)
    sys.exit(result.verdict.exit_status)


def print_result(console: Console, result: ProofResult) -> None:
    table = Table(title=f"inductive invariants ({result.seconds:.1f} s, {result.rounds} "
                        "round(s))")
    for column in ("invariant", "kind", "status"):
        table.add_column(column)
    for name in result.invariants:
        status = status_of(result, name)
        colour = "green" if status == "proved" else "yellow"
        table.add_row(name, kind_of(name), f"[{colour}]{status}[/{colour}]")
    console.print(table)
    for c in result.checks:
        if c.cti is not None and c.invariant in SAFETY_NAMES:
            console.print(f"\n[bold]counterexample to induction for {c.invariant}[/bold] "
                          f"({c.kind})")
            for line in cti_lines(result.config, c.cti):
                console.print("  " + escape(line), soft_wrap=True)
        elif c.verdict is Verdict.UNKNOWN:
            console.print(f"\n{c.invariant} ({c.kind}): unknown — {escape(c.reason)}")
    others = sum(1 for c in result.checks if c.cti is not None and c.invariant not in SAFETY_NAMES)
    if others:
        console.print(f"\n({others} auxiliary invariant(s) dropped with a counterexample to "
                      "induction; see --report or --json)")
    words = {Verdict.OK: "[green]OK[/green]: every safety property is proved inductive",
             Verdict.UNKNOWN: "[yellow]UNKNOWN[/yellow]: not every safety property is proved"}
    console.print("\n" + words[result.verdict])
