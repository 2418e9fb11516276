"""`dscheck sim raft --schedule FILE` and `--schedule-out FILE`: fault schedules as data
(impl/sim/schedule.py).

A `faults` schedule replays a random run (its seed's draws, its faults at their virtual
times) and gives the same trace as the run that wrote it; a `steps` schedule (a model
checker's counterexample) plays one exact interleaving."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from impl.raft.bugs import check_bugs
from impl.raft.scenarios.scripted import play_steps
from impl.sim.schedule import CLIENTS, Schedule, read_schedule
from impl.trace import TraceWriter
from spec.errors import BadInput

# The options a schedule fixes itself: given with --schedule they are an error.
_FIXED = ("scenario_name", "seed", "servers", "unreliable", "drop_rate", "snapshots",
          "duration", "bugs")


def load(path: Path, ctx: click.Context) -> Schedule:
    for name in _FIXED:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE":
            flag = "--" + name.replace("_name", "").replace("_", "-")
            raise BadInput(f"{flag}: the schedule {path} fixes it; drop the option")
    schedule = read_schedule(path)
    try:
        check_bugs(schedule.bugs)
    except ValueError as error:
        raise BadInput(f"bugs: {error}", str(path), 1) from None
    return schedule


def faults_record(run_args: dict[str, Any], record: list[dict[str, Any]]) -> Schedule:
    return Schedule(kind="faults", servers=run_args["servers"],
                    bugs=tuple(sorted(run_args["bugs"])), seed=run_args["seed"],
                    duration_ms=run_args["duration_ms"], unreliable=run_args["unreliable"],
                    drop_rate=run_args["drop_rate"], snapshots=run_args["snapshots"],
                    clients=run_args.get("clients", CLIENTS), drawn=True, items=tuple(record))


def run_args(schedule: Schedule) -> dict[str, Any]:
    """`simulate`'s arguments for a `faults` schedule."""
    return {"seed": schedule.seed, "servers": schedule.servers,
            "unreliable": schedule.unreliable, "snapshots": schedule.snapshots,
            "duration_ms": schedule.duration_ms, "drop_rate": schedule.drop_rate,
            "bugs": frozenset(schedule.bugs), "faults": list(schedule.items),
            "clients": schedule.clients,
            # A trace of faults the seed does not draw names the file that replays it.
            "schedule": None if schedule.drawn else str(schedule.path)}


def play(schedule: Schedule, trace: TraceWriter) -> dict[str, Any]:
    """Play a `steps` schedule; the summary of what the cluster did."""
    started = time.perf_counter()
    failure = None
    try:
        run = play_steps(schedule, trace)
        final = run.observations[-1]
    except BadInput:
        raise
    except Exception as error:  # a broken core is a finding, not a crash
        failure = f"{type(error).__name__}: {error}"
        final = None
    roles = ([("crashed" if c is None else f"{c.role.value} t{c.term}") for c in final.cores]
             if final is not None else [])
    return {"system": "raft", "scenario": f"schedule {schedule.path}", "kind": "steps",
            "bugs": sorted(schedule.bugs), "servers": schedule.servers,
            "steps": len(schedule.items), "final": roles,
            "wall_seconds": round(time.perf_counter() - started, 3),
            "verdict": "VIOLATION" if failure else "OK", "failure": failure}


def print_steps(s: dict[str, Any], trace_path: Path | None) -> None:
    click.echo(f"raft · {s['scenario']} · {s['steps']} steps · {s['servers']} servers"
               + (f" · bugs: {', '.join(s['bugs'])}" if s["bugs"] else ""))
    if s["final"]:
        click.echo("after the last step: " + ", ".join(
            f"s{i} {role}" for i, role in enumerate(s["final"])))
    if trace_path is not None:
        click.echo(f"trace: {trace_path} (judge it with 'dscheck check-trace {trace_path}')")
    click.echo(f"VIOLATION: {s['failure']}" if s["failure"] else
               "OK: every step played (the invariants are check-trace's to judge)")

