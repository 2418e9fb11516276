"""`dscheck demo`: the main job on its embedded default, start to finish.

A simulated 5-server Raft cluster runs under crashes, restarts, partitions and an unreliable
network; its run is recorded as a trace; then every checker judges what was recorded, and a
table says what each found. Files land in `--out` (default `./dscheck-demo`): the trace, the
linearizability report (HTML), and `report.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from checker.demo.run import DemoSettings, Stage, run_demo
from checker.files import write_atomically
from checker.verdict import Verdict

_STYLE = {Verdict.OK: "green", Verdict.VIOLATION: "bold red", Verdict.UNKNOWN: "yellow"}


@click.command(name="demo")
@click.option("--seed", type=int, default=1, show_default=True, help="The simulator's seed.")
@click.option("--servers", type=click.IntRange(3, 9), default=5, show_default=True)
@click.option("--duration", type=click.FloatRange(1, 600), default=20.0, show_default=True,
              help="Virtual seconds of random faults.")
@click.option("--reliable", is_flag=True, help="A reliable network (default: unreliable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dscheck-demo"), show_default=True,
              help="Folder for the trace and the reports.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
def command(seed: int, servers: int, duration: float, reliable: bool, out: Path,
            as_json: bool) -> None:
    """Simulate a Raft cluster under faults, record it, and run every checker on the record."""
    console = Console(stderr=as_json, highlight=False)
    settings = DemoSettings(seed=seed, servers=servers, duration_ms=int(duration * 1000),
                            unreliable=not reliable, out=out)
    stages = run_demo(settings, lambda text: console.print(f"[dim]· {text}[/dim]"))
    verdict = Verdict.worst([stage.verdict for stage in stages])
    report = {
        "verdict": verdict.value,
        "seed": seed,
        "servers": servers,
        "stages": [_stage_json(stage) for stage in stages],
    }
    report_path = out / "report.json"
    write_atomically(report_path, json.dumps(report, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(report))
    else:
        _print(console, stages, verdict, report_path)
    sys.exit(verdict.exit_status)


def _stage_json(stage: Stage) -> dict[str, object]:
    return {
        "stage": stage.name,
        "verdict": stage.verdict.value,
        "finding": stage.finding,
        "seconds": round(stage.seconds, 3),
        "figures": stage.figures,
        "files": list(stage.files),
    }


def _print(console: Console, stages: list[Stage], verdict: Verdict, report_path: Path) -> None:
    table = Table(title="dscheck demo", title_justify="left")
    table.add_column("check")
    table.add_column("verdict")
    table.add_column("finding")
    table.add_column("seconds", justify="right")
    for stage in stages:
        style = _STYLE[stage.verdict]
        table.add_row(stage.name, f"[{style}]{stage.verdict.value.upper()}[/{style}]",
                      stage.finding, f"{stage.seconds:.2f}")
    console.print(table)
    for stage in stages:
        if stage.details:
            console.print(f"\n[bold]{stage.name}[/bold]\n{stage.details}")
    files = [path for stage in stages for path in stage.files] + [str(report_path)]
    console.print("files: " + ", ".join(files))
    style = _STYLE[verdict]
    console.print(f"[{style}]{verdict.value.upper()}[/{style}]")
