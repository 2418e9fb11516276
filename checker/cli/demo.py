"""`dscheck demo`: the main job on its embedded default, start to finish.

A simulated 5-server Raft cluster runs under crashes, restarts, partitions and an unreliable
network, and so do a key/value service on Raft and a sharded key/value service whose replica
groups join and leave meanwhile; each run is recorded as a trace; then every checker judges
what was recorded, and a table says what each found. `--seeds N` repeats the
simulations and their judges for N seeds (the model check runs once), and the report says how
many runs the verdict rests on. Files land in `--out` (default `./dscheck-demo`): the traces,
the linearizability report (HTML, every run's history), and `report.json` (what `--json`
prints).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from checker.demo.run import DemoSettings, run_demo
from checker.demo.stage import Stage
from checker.verdict import Verdict
from impl.files import write_atomically

_STYLE = {Verdict.OK: "green", Verdict.VIOLATION: "bold red", Verdict.UNKNOWN: "yellow"}


@click.command(name="demo")
@click.option("--seed", type=int, default=1, show_default=True, help="The simulator's seed.")
@click.option("--seeds", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Simulate and judge this many runs: seeds SEED, SEED+1, ...")
@click.option("--servers", type=click.IntRange(3, 9), default=5, show_default=True)
@click.option("--duration", type=click.FloatRange(1, 600), default=20.0, show_default=True,
              help="Virtual seconds of random faults.")
@click.option("--reliable", is_flag=True, help="A reliable network (default: unreliable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("dscheck-demo"), show_default=True,
              help="Folder for the traces and the reports.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
def command(seed: int, seeds: int, servers: int, duration: float, reliable: bool, out: Path,
            as_json: bool) -> None:
    """Simulate a Raft cluster, a key/value service and a sharded key/value service under
    faults, record them, and run every checker on the records."""
    console = Console(stderr=as_json, highlight=False)
    settings = DemoSettings(seed=seed, seeds=seeds, servers=servers,
                            duration_ms=int(duration * 1000), unreliable=not reliable, out=out)
    stages = run_demo(settings, lambda text: console.print(f"[dim]· {escape(text)}[/dim]"))
    verdict = Verdict.worst([stage.verdict for stage in stages])
    report = {
        "verdict": verdict.value,
        "seed": seed,
        "seeds": settings.seed_list,
        "rests_on": settings.rests_on(),
        "servers": servers,
        "stages": [_stage_json(stage) for stage in stages],
    }
    report_path = out / "report.json"
    write_atomically(report_path, json.dumps(report, indent=2) + "\n")
    if as_json:
        click.echo(json.dumps(report))
    else:
        _print(console, stages, settings, verdict, report_path)
    sys.exit(verdict.exit_status)


def _stage_json(stage: Stage) -> dict[str, object]:
    return {
        "stage": stage.name,
        "seed": stage.seed,
        "verdict": stage.verdict.value,
        "finding": stage.finding,
        "seconds": round(stage.seconds, 3),
        "figures": stage.figures,
        "files": list(stage.files),
    }


def _print(console: Console, stages: list[Stage], settings: DemoSettings, verdict: Verdict,
           report_path: Path) -> None:
    several = settings.seeds > 1
    table = Table(title="dscheck demo", title_justify="left")
    table.add_column("check")
    table.add_column("verdict")
    table.add_column("finding")
    table.add_column("seconds", justify="right")
    for stage in stages:
        style = _STYLE[stage.verdict]
        table.add_row(_label(stage, several), f"[{style}]{stage.verdict.value.upper()}[/{style}]",
                      escape(stage.finding), f"{stage.seconds:.2f}")
    console.print(table)
    for stage in stages:
        if stage.details:
            console.print(f"\n[bold]{escape(_label(stage, several))}[/bold]\n"
                          f"{escape(stage.details)}")
    # The traces first (one per seed), then the reports on them.
    files = sorted(dict.fromkeys(path for stage in stages for path in stage.files),
                   key=lambda path: not path.endswith(".jsonl"))
    console.print("files: " + escape(", ".join([*files, str(report_path)])))
    console.print(escape(settings.rests_on()))
    style = _STYLE[verdict]
    console.print(f"[{style}]{verdict.value.upper()}[/{style}]")


def _label(stage: Stage, several: bool) -> str:
    return f"{stage.name} (seed {stage.seed})" if several and stage.seed is not None else stage.name
