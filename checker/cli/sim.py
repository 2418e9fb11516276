"""`dscheck sim`: run a system on the deterministic simulator and summarise what happened.

`dscheck sim raft` plays one of the lab's 28 Raft scenarios by name (`--scenario`), or a
random fault schedule (the default), under one seed, in virtual time; with `--trace OUT` it
records the run in the trace format of traces/README.md. The lab's checks run throughout;
a failed check is a violation (exit 1), shown with the seed that reproduces it. So is a
fault of the implementation — an exception raised by a server, or a run the event loop's
watchdog stopped because virtual time no longer advanced (impl.sim.faults): the summary
names it, and the trace up to it is kept, for `dscheck check-trace` to judge.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from checker.cli import sim_schedule
from checker.cli.sim_common import recording
from checker.cli.sim_kv import kv
from checker.cli.sim_shard import shardctrler, shardkv
from checker.files import write_output
from checker.verdict import Verdict
from impl.raft.bugs import BUGS, check_bugs
from impl.raft.labtester import RaftTester
from impl.raft.scenarios import SCENARIOS, Scenario, find
from impl.raft.scenarios.chaos import SimRun, simulate
from spec.errors import BadInput


@click.group(name="sim")
def command() -> None:
    """Run a system on the deterministic simulator (virtual time, one seed)."""


command.add_command(kv)  # `dscheck sim kv`: the key/value service (checker/cli/sim_kv.py)
# `dscheck sim shardkv` and `dscheck sim shardctrler`: lab 4 (checker/cli/sim_shard.py)
command.add_command(shardkv)
command.add_command(shardctrler)


@command.command(name="raft")
@click.option("--scenario", "scenario_name", metavar="NAME", default=None,
              help="A lab scenario (e.g. figure8_unreliable_2C, or TestFigure8Unreliable2C); "
                   "default: a random fault schedule. 'list' lists them.")
@click.option("--seed", type=int, default=1, show_default=True, help="The run's one seed.")
@click.option("--servers", type=click.IntRange(min=1, max=15), default=None,
              help="Cluster size for the random schedule  [default: 5].")
@click.option("--unreliable/--reliable", default=None,
              help="Lossy network (requests and replies dropped, 0-26 ms delays) for the "
                   "random schedule  [default: reliable].")
@click.option("--drop-rate", type=click.FloatRange(min=0.0, max=1.0), default=None,
              help="Probability a request or reply is lost when unreliable  [default: 0.1].")
@click.option("--snapshots/--no-snapshots", default=None,
              help="Random schedule: the lab's snapshot applier (a snapshot every 10 entries) "
                   "keeps logs, and traces, short  [default: on].")
@click.option("--duration", type=click.FloatRange(min=0.0, max=3600.0), default=None,
              help="Virtual seconds of faults for the random schedule  [default: 30].")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the run's trace (JSON Lines) to this file.")
@click.option("--json", "as_json", is_flag=True, default=False,
              help="Print the summary as one JSON object.")
@click.option("--bug", "bugs", multiple=True, metavar="NAME",
              help="Turn a fault flag of the Raft core on (repeatable): a classic Raft "
                   "mistake re-created on purpose; --list-bugs lists them.")
@click.option("--list-bugs", is_flag=True, help="List the core's fault flags and exit.")
@click.option("--schedule", "schedule_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Replay a schedule file: a random run's faults (written by "
              "--schedule-out; same trace) or a model checker's steps.")
@click.option("--schedule-out", "schedule_out", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Random schedule: write the run's faults, with its seed, as a "
              "schedule that --schedule replays.")
@click.pass_context
def raft(ctx: click.Context, scenario_name: str | None, seed: int, servers: int | None,
         unreliable: bool | None, drop_rate: float | None, snapshots: bool | None,
         duration: float | None, trace_path: Path | None, as_json: bool, bugs: tuple[str, ...],
         list_bugs: bool, schedule_path: Path | None, schedule_out: Path | None) -> None:
    """Simulate a Raft cluster: a lab scenario, random faults, or a schedule; print a
    summary."""
    if schedule_path is not None:
        _replay(ctx, schedule_path, schedule_out, trace_path, as_json)
    if list_bugs:
        for bug in BUGS.values():
            click.echo(f"{bug.name:24} {bug.description}")
        return
    try:
        chosen = check_bugs(bugs)
    except ValueError as error:
        raise BadInput(f"--bug: {error}") from None
    if scenario_name == "list":
        for s in SCENARIOS:
            click.echo(f"{s.name:32} {s.go_name:34} {s.servers} servers"
                       f"{', unreliable' if s.unreliable else ''}"
                       f"{', snapshots' if s.snapshot else ''}")
        return
    scenario = _resolve(scenario_name, servers, unreliable, duration, snapshots)
    if scenario is not None and schedule_out is not None:
        raise BadInput("--schedule-out: a lab scenario is a program, not a fault schedule; "
                       "--schedule-out is for the random schedule")
    label = scenario.name if scenario is not None else "random faults"
    args = {"seed": seed, "servers": servers or 5, "unreliable": bool(unreliable),
            "snapshots": snapshots is not False,
            "duration_ms": round((30.0 if duration is None else duration) * 1000),
            "drop_rate": drop_rate, "bugs": chosen}
    _run_and_print(scenario, label, args, trace_path, schedule_out, as_json)


def _run_and_print(scenario: Scenario | None, label: str, args: dict[str, Any],
                   trace_path: Path | None, schedule_out: Path | None, as_json: bool) -> None:
    record: list[dict[str, Any]] | None = [] if schedule_out is not None else None
    with recording(trace_path) as trace:
        # `simulate` returns whatever the implementation does (a fault is a finding), so the
        # trace is renamed into place whole, up to the fault; only an interrupt discards it.
        run = simulate(scenario=scenario, trace=trace, record=record, **args)
    if schedule_out is not None and record is not None:
        write_output(schedule_out, sim_schedule.faults_record(args, record).text(),
                     "the schedule")
    verdict = Verdict.VIOLATION if run.failure else Verdict.OK
    summary = _summary(run, label, args["seed"], verdict, trace_path)
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        _print(summary)
    raise click.exceptions.Exit(verdict.exit_status)


def _replay(ctx: click.Context, path: Path, schedule_out: Path | None,
            trace_path: Path | None, as_json: bool) -> None:
    if schedule_out is not None:
        raise BadInput("--schedule-out: a replayed schedule is already a file")
    schedule = sim_schedule.load(path, ctx)
    if schedule.kind == "faults":
        _run_and_print(None, f"schedule {path}", sim_schedule.run_args(schedule), trace_path,
                       None, as_json)
    with recording(trace_path) as trace:
        summary = sim_schedule.play(schedule, trace)
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        sim_schedule.print_steps(summary, trace_path)
    raise click.exceptions.Exit(1 if summary["failure"] else 0)


def _resolve(name: str | None, servers: int | None, unreliable: bool | None,
             duration: float | None, snapshots: bool | None) -> Scenario | None:
    if name is None:
        return None
    scenario = find(name)
    if scenario is None:
        raise BadInput(f"--scenario: no Raft scenario named {name!r} "
                       "(expected a name from 'dscheck sim raft --scenario list')")
    if servers is not None and servers != scenario.servers:
        raise BadInput(f"--servers: scenario {scenario.name} runs with {scenario.servers} "
                       f"servers, not {servers}")
    if unreliable is not None and unreliable != scenario.unreliable:
        kind = "an unreliable" if scenario.unreliable else "a reliable"
        raise BadInput(f"--unreliable/--reliable: scenario {scenario.name} runs on {kind} "
                       "network")
    if duration is not None:
        raise BadInput(f"--duration: scenario {scenario.name} has its own length; "
                       "--duration is for the random schedule")
    if snapshots is not None:
        raise BadInput("--snapshots/--no-snapshots: for the random schedule; a scenario fixes "
                       "its applier")
    return scenario


def _summary(run: SimRun, label: str, seed: int, verdict: Verdict,
             trace_path: Path | None) -> dict[str, Any]:
    cfg: RaftTester = run.tester
    per_term = Counter(cfg.leaders.values())
    return {
        "system": "raft",
        "scenario": label,
        "bugs": sorted(cfg.bugs),
        "seed": seed,
        "servers": cfg.n,
        "unreliable": not cfg.net.reliable,
        "virtual_seconds": cfg.now / 1000,
        "wall_seconds": round(run.wall_seconds, 3),
        "leaders_per_term": {str(t): leader for t, leader in sorted(cfg.leaders.items())},
        "terms_led_per_server": {str(s): per_term.get(s, 0) for s in range(cfg.n)},
        "commits": cfg.max_index,
        "rpcs": cfg.rpc_total(),
        "rpcs_per_server": {str(s): cfg.rpc_count(s) for s in range(cfg.n)},
        "bytes": cfg.bytes_total(),
        "bytes_sent_per_server": {str(s): cfg.net.bytes_sent.get(s, 0) for s in range(cfg.n)},
        "messages_dropped": cfg.net.stats.dropped,
        "max_raft_state_bytes": cfg.log_size(),
        "verdict": verdict.value,
        "failure": run.failure,
        "fault": run.fault.to_json() if run.fault is not None else None,
        "trace": str(trace_path) if trace_path is not None else None,
    }


def _print(s: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    network = "unreliable" if s["unreliable"] else "reliable"
    bugs = f" · bugs: {', '.join(s['bugs'])}" if s["bugs"] else ""
    console.print(f"[bold]raft[/bold] · {s['scenario']} · seed {s['seed']} · {s['servers']} "
                  f"servers · {network} network{bugs} · {s['virtual_seconds']:.1f} s virtual in "
                  f"{s['wall_seconds']:.2f} s wall")
    leaders = s["leaders_per_term"]
    shown = ", ".join(f"t{t}→{leader}" for t, leader in list(leaders.items())[:12])
    more = f" … (+{len(leaders) - 12})" if len(leaders) > 12 else ""
    console.print(f"leaders per term ({len(leaders)} terms with a leader): {shown}{more}")
    table = Table("server", "terms led", "RPCs received", "bytes sent", box=None,
                  pad_edge=False)
    for server in range(s["servers"]):
        key = str(server)
        table.add_row(key, str(s["terms_led_per_server"][key]), str(s["rpcs_per_server"][key]),
                      f"{s['bytes_sent_per_server'][key]:,}")
    console.print(table)
    console.print(f"commits: {s['commits']} · RPCs: {s['rpcs']} · bytes: {s['bytes']:,} · "
                  f"dropped: {s['messages_dropped']} · max Raft state: "
                  f"{s['max_raft_state_bytes']:,} B")
    if s["trace"]:
        partial = (f" (up to the fault: judge it with 'dscheck check-trace {s['trace']}')"
                   if s["fault"] else "")
        console.print(f"trace: {escape(s['trace'] + partial)}")
    if s["failure"]:
        console.print(f"[bold red]VIOLATION[/bold red]: {escape(s['failure'])}")
    else:
        console.print("[bold green]OK[/bold green]: every lab check held")
