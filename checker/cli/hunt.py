"""`dscheck hunt raft --bug NAME`: find a failing fault schedule by random search
(Hypothesis), shrink it within a time budget, print it and the command that replays it
(checker/hunt.py has the theory of operation)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from checker.files import write_output
from checker.hunt import HuntResult, hunt
from checker.verdict import Verdict
from impl.raft.bugs import check_bugs
from spec.errors import BadInput


@click.group(name="hunt")
def command() -> None:
    """Search random fault schedules for a failure and shrink it to a minimal schedule."""


@command.command(name="raft")
@click.option("--bug", "bug", required=True, metavar="NAME",
              help="The Raft core's fault flag to hunt (dscheck sim raft --list-bugs).")
@click.option("--servers", type=click.IntRange(2, 7), default=3, show_default=True)
@click.option("--duration", type=click.FloatRange(1.0, 120.0), default=4.0, show_default=True,
              help="Virtual seconds of faults per run.")
@click.option("--max-faults", type=click.IntRange(0, 50), default=8, show_default=True,
              help="Faults per schedule, at most.")
@click.option("--examples", type=click.IntRange(1, 100_000), default=100_000,
              show_default=True, help="Schedules Hypothesis generates, at most, before "
              "shrinking (the budget usually ends the search first).")
@click.option("--budget", type=click.FloatRange(1.0, 86_400.0), default=300.0,
              show_default=True, help="Seconds for the whole hunt; the search and shrinking "
              "stop there and the report says how far they got.")
@click.option("--cpu-budget", is_flag=True, help="Count --budget in this process's CPU "
              "seconds, not wall seconds (the same work whatever the machine's load).")
@click.option("--unreliable/--reliable", default=True, show_default=True,
              help="The lab's lossy network (drops, delays) under every schedule.")
@click.option("--no-tighten", is_flag=True, help="Stop at Hypothesis's shrunk schedule: no "
              "post-pass for a shorter failing run (fewer clients, less time, faults removed or "
              "sooner, other seeds).")
@click.option("--schedule-out", "schedule_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the shrunk schedule here (default: print it only).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def raft_command(bug: str, servers: int, duration: float, max_faults: int, examples: int,
                 budget: float, cpu_budget: bool, unreliable: bool, no_tighten: bool,
                 schedule_path: Path | None, as_json: bool) -> None:
    """Hunt a fault flag of the Raft core with random fault schedules."""
    try:
        check_bugs([bug])
    except ValueError as error:
        raise BadInput(f"--bug: {error}") from None
    if schedule_path is not None and not schedule_path.resolve().parent.is_dir():
        raise BadInput("no such directory; expected an existing folder", str(schedule_path))
    result = hunt(bug, servers=servers, duration_ms=round(duration * 1000),
                  max_faults=max_faults, unreliable=unreliable, max_examples=examples,
                  budget_s=budget, cpu_budget=cpu_budget, tighten=not no_tighten)
    if result.schedule is not None and schedule_path is not None:
        write_output(schedule_path, result.schedule.text(), "the shrunk schedule")
    verdict = (Verdict.VIOLATION if result.found
               else Verdict.OK if result.shrink_complete else Verdict.UNKNOWN)
    if as_json:
        click.echo(json.dumps({"verdict": verdict.value, **result.to_json()}))
    else:
        _print(result, verdict, schedule_path, cpu_budget)
    sys.exit(verdict.exit_status)


def _print(r: HuntResult, verdict: Verdict, path: Path | None, cpu_budget: bool) -> None:
    click.echo(f"hunt raft --bug {r.bug}: {r.runs} schedules run")
    if not r.found:
        why = ("" if r.shrink_complete else " (the time budget ran out first)")
        click.echo(f"{verdict.name}: no failing schedule found{why}")
        return
    assert r.schedule is not None and r.outcome is not None
    first = r.first
    click.echo(f"first failure after {r.wall_to_first_failure or 0:.1f} s "
               f"({r.cpu_to_first_failure or 0:.1f} CPU s)"
               + (f" ({sum(f['op'] != 'skip' for f in first.items)} faults)" if first else ""))
    state = ("complete" if r.shrink_complete else "stopped by the time budget; the best so far")
    unit = "CPU s" if cpu_budget else "s"
    click.echo(f"shrunk in {r.shrink_seconds:.1f} {unit}, {r.shrink_steps} smaller failing schedules "
               f"found ({state})")
    if r.shrunk is not None and r.shrunk_outcome is not None and r.tighten_runs:
        state = "complete" if r.tighten_complete else "stopped by the time budget"
        click.echo(f"shrunk schedule: {r.shrunk.faults} faults, "
                   f"{r.shrunk_outcome.core_events} core events; tightened in "
                   f"{r.tighten_seconds:.1f} {unit}, {r.tighten_runs} runs, "
                   f"{r.tighten_steps} shorter ({state})")
    click.echo(f"minimal schedule: seed {r.schedule.seed}, "
               f"{r.schedule.faults} faults, "
               f"{r.outcome.core_events} core events up to the failure")
    click.echo(r.schedule.text(), nl=False)
    click.echo(f"failure: {r.outcome.failure}")
    where = str(path) if path is not None else "FILE (save the lines above)"
    click.echo(f"replay: dscheck sim raft --schedule {where} --trace T && "
               "dscheck check-trace T")
    click.echo(verdict.name)
