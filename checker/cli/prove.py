"""`dscheck prove raft`: prove the Raft invariants inductive with Z3, or find a bug by BMC.

Encodes the spec's Init and Next over the given bounds (with `--snapshots`, Compact and
InstallSnapshot too), checks initiation and consecution of every invariant relative to their
conjunction (dropping those that fail, with their counterexamples to induction, until what
stands is inductive; each round's solver calls spread over `--workers` processes), and with
`--depth K` also searches for a behaviour of at most K steps breaking a safety property.
Exit status 0 when
every safety property is proved, 1 when BMC finds a violation (replayed through the spec), 3
when something is not proved or the solver answered unknown, 2 on bad options.
"""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from checker.cli import prove_shardkv
from checker.cli.raft_bounds import raft_bounds
from checker.files import write_output
from checker.invariants import ALL, LEADER_APPEND_ONLY
from checker.invariants.raft import LONG_LOG_AUXILIARY, SNAPSHOT_AUXILIARY
from checker.proofs.ghost_invariants import GHOST_INVARIANTS, LONG_LOG_GHOST
from checker.proofs.induction import BMCResult, bmc, candidate_invariants, prove
from checker.proofs.parallel import available_cores
from checker.proofs.propose import propose as propose_from_ctis
from checker.proofs.render import (
    bmc_lines,
    config_text,
    cti_lines,
    report_markdown,
    result_json,
    status,
)
from checker.verdict import Verdict
from spec.raft import Config


@click.group(name="prove")
def command() -> None:
    """Prove invariants inductive with Z3, or bounded-model-check them."""


command.add_command(prove_shardkv.command)  # `dscheck prove shardkv` (checker/cli/prove_shardkv.py)


@command.command(name="raft")
@raft_bounds
@click.option("--depth", type=click.IntRange(0, 60), default=None,
              help="Also bounded-model-check behaviours of up to K steps.")
@click.option("--timeout", "timeout_s", type=click.IntRange(1, 3600), default=120,
              show_default=True, help="Seconds per solver call; beyond it the answer is unknown.")
@click.option("--propose", is_flag=True,
              help="Propose auxiliary invariants from the remaining counterexamples to induction "
                   "(templates filtered by the CTIs, reachable samples and Houdini), then prove "
                   "again with them.")
@click.option("--ghost/--no-ghost", default=True, show_default=True,
              help="Also assume and check the ghost-variable lemmas (history of votes and "
                   "commits) that Leader Completeness and State Machine Safety need; "
                   "--no-ghost proves what the spec's own variables support (faster).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes for the solver calls of each round  [default: all cores]; "
                   "1 runs them in this process. The verdicts do not depend on it.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--report", type=click.Path(dir_okay=False), default=None,
              help="Write the Markdown proof report to this file.")
def raft(config: Config, depth: int | None, timeout_s: int, propose: bool, ghost: bool,
         workers: int | None, as_json: bool, report: str | None) -> None:
    """Prove the Raft spec's invariants inductive (and optionally BMC to --depth).

    The bounds are the same options, with the same ranges and defaults, as
    `dscheck model-check raft`'s."""
    console = Console(highlight=False, stderr=as_json)
    if not as_json:
        console.print(f"prove raft: {config_text(config)}")
    candidates = candidate_invariants(config, ghost=ghost)
    if workers is None:
        workers = available_cores()
    result = prove(config, invariants=candidates, timeout_ms=timeout_s * 1000, workers=workers)
    proposed: list[str] = []
    if propose:
        kept, again = propose_from_ctis(config, result, candidates, workers=workers)
        proposed = [f"{inv.name}: {inv.formula}" for inv in kept]
        if again is not None:
            result = again
    found: BMCResult | None = None
    if depth is not None:
        found = bmc(config, depth, timeout_ms=timeout_s * 1000)
    if found is not None and found.verdict is Verdict.VIOLATION:
        verdict = Verdict.VIOLATION
    else:
        verdict = result.verdict
    if report is not None:
        write_output(report, report_markdown(result, found, verdict.value), "the report")
    if as_json:
        out = result_json(result, found, verdict.value)
        if propose:
            out["proposed"] = proposed
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        if propose:
            console.print("proposed auxiliary invariants (inductive with what was proved): "
                          + (", ".join(escape(p) for p in proposed) or "none"))
        _print(console, result, found, verdict)
    sys.exit(verdict.exit_status)


def _print(console: Console, result: object, found: BMCResult | None, verdict: Verdict) -> None:
    from checker.proofs.induction import ProofResult

    assert isinstance(result, ProofResult)
    table = Table(title=f"inductive invariants ({result.seconds:.1f} s, "
                        f"{result.cpu_seconds:.1f} s CPU in {result.workers} process(es), "
                        f"{result.rounds} round(s))")
    for col in ("invariant", "kind", "status"):
        table.add_column(col)
    for name in result.invariants:
        inv = next((i for i in ALL + LONG_LOG_AUXILIARY + SNAPSHOT_AUXILIARY + GHOST_INVARIANTS
                    + LONG_LOG_GHOST if i.name == name), None)
        kind = "auxiliary" if inv is not None and inv.auxiliary else "safety"
        if inv is not None and "ghost" in inv.needs:
            kind = "ghost-based"
        st = status(result, name)
        colour = "green" if st == "proved" else "yellow"
        table.add_row(name, kind, f"[{colour}]{st}[/{colour}]")
    console.print(table)
    safety = [i.name for i in ALL if not i.auxiliary] + [LEADER_APPEND_ONLY.name]
    for c in result.checks:
        if c.cti is not None and c.invariant in safety:
            console.print(f"\n[bold]counterexample to induction for {c.invariant}[/bold] ({c.kind})")
            for line in cti_lines(c.cti):
                console.print("  " + escape(line), soft_wrap=True)
        elif c.verdict is Verdict.UNKNOWN:
            console.print(f"\n{c.invariant} ({c.kind}): unknown — {escape(c.reason)}")
    others = sum(1 for c in result.checks if c.cti is not None and c.invariant not in safety)
    if others:
        console.print(f"\n({others} auxiliary candidate(s) dropped with a CTI; see --report or "
                      "--json)")
    if found is not None:
        console.print(f"\n[bold]bounded model checking, depth {found.depth}[/bold] "
                      f"({found.seconds:.1f} s)")
        for line in bmc_lines(found):
            console.print("  " + escape(line), soft_wrap=True)
    words = {Verdict.OK: "[green]OK[/green]: every safety property is proved inductive",
             Verdict.VIOLATION: "[red]VIOLATION[/red]: a behaviour breaks a safety property",
             Verdict.UNKNOWN: "[yellow]UNKNOWN[/yellow]: not every safety property is proved"}
    console.print("\n" + words[verdict])
