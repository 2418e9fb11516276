"""`dscheck sim shardkv` and `dscheck sim shardctrler`: run lab 4's services on the simulator,
then audit what clients saw.

`dscheck sim shardkv` plays one of the lab's 13 shardkv tests by name (`--scenario`), or a
random schedule (the default: clients on random keys while groups join and leave, servers
and whole groups crash and restart, on a lossy network if asked), under one seed, in virtual
time. The lab's checks run throughout; afterwards the clients' whole history — across every
reconfiguration, calls in flight at the end settled from the groups, or unknown — is checked
for linearizability with the kv model (checker.kv_audit). `--bug` switches on one of the
implementation's fault flags (the spec's sharding mistakes). `--trace` writes the run's trace
(traces/README.md, system "shardkv"); `--history` the history (traces/HISTORY.md), which
`dscheck lin` reads.

`dscheck sim shardctrler` does the same for the controller: one of the 11 sub-tests of 4A,
or random Join/Leave/Move/Query calls while controller servers crash; its clerks' history is
audited against the controller's spec (checker.shardctrler.audit). Its trace is the
"shardctrler" system, which `dscheck lin` reads too.

Exit status: 1 if a lab check failed or the history is not linearizable, 3 if
linearizability could not be decided, else 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from checker.cli.sim_common import (
    check_paths,
    finish,
    fixed_by_scenario,
    maxraftstate,
    print_linearizability,
    print_verdict,
    recording,
    run_summary,
)
from checker.kv_audit import audit
from checker.shardctrler.audit import audit as ctrl_audit
from checker.verdict import Verdict
from impl.files import write_atomically
from impl.shardctrler import chaos as ctrl_chaos
from impl.shardctrler.scenarios import SCENARIOS as CTRL_SCENARIOS
from impl.shardctrler.scenarios import find as find_ctrl
from impl.shardkv.machine import BUGS
from impl.shardkv.scenarios import SCENARIOS, Scenario, find
from impl.shardkv.scenarios.chaos import SimRun, simulate
from spec.errors import BadInput

_RANDOM_ONLY = ("--servers", "--clients", "--unreliable/--reliable",
                "--reconfigure/--no-reconfigure", "--crashes/--no-crashes", "--maxraftstate",
                "--duration")


@click.command(name="shardkv")
@click.option("--scenario", "scenario_name", metavar="NAME", default=None,
              help="A lab test (e.g. challenge2_partial_4B, or TestChallenge2Partial); "
                   "default: a random schedule. 'list' lists them.")
@click.option("--seed", type=int, default=1, show_default=True, help="The run's one seed.")
@click.option("--servers", type=click.IntRange(min=1, max=7), default=None,
              help="Servers per group (3 groups), for the random schedule  [default: 3].")
@click.option("--clients", type=click.IntRange(min=1, max=100), default=None,
              help="Concurrent clients on random keys, for the random schedule  [default: 5].")
@click.option("--unreliable/--reliable", default=None,
              help="Lossy network, for the random schedule  [default: reliable].")
@click.option("--reconfigure/--no-reconfigure", default=None,
              help="Random schedule: groups join and leave  [default: on].")
@click.option("--crashes/--no-crashes", default=None,
              help="Random schedule: servers and whole groups crash and restart  "
                   "[default: on].")
@click.option("--maxraftstate", type=int, default=None, callback=maxraftstate,
              help="Random schedule: snapshot when Raft's state approaches this many bytes; "
                   "-1 never  [default: -1].")
@click.option("--duration", type=click.FloatRange(min=0.0, max=3600.0), default=None,
              help="Virtual seconds of faults for the random schedule  [default: 20].")
@click.option("--bug", "bugs", multiple=True, type=click.Choice(sorted(BUGS)),
              help="Switch on an implementation fault flag (repeatable).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the run's trace (JSON Lines) to this file.")
@click.option("--history", "history_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the clients' history (dscheck-history) to this file.")
@click.option("--search-budget", type=click.FloatRange(min=0.0, min_open=True), default=10.0,
              show_default=True,
              help="Seconds the linearizability search gets before the groups' own order is "
                   "verified as a linearization instead; if neither decides: unknown (exit 3).")
@click.option("--json", "as_json", is_flag=True, default=False,
              help="Print the summary as one JSON object.")
def shardkv(scenario_name: str | None, seed: int, servers: int | None, clients: int | None,
            unreliable: bool | None, reconfigure: bool | None, crashes: bool | None,
            maxraftstate: int | None, duration: float | None, bugs: tuple[str, ...],
            trace_path: Path | None, history_path: Path | None, search_budget: float,
            as_json: bool) -> None:
    """Simulate the sharded key/value service: a lab test, or a random schedule; audit the
    history."""
    if scenario_name == "list":
        width = max(len(s.name) for s in SCENARIOS)
        go_width = max(len(s.go_name) for s in SCENARIOS)
        for s in SCENARIOS:
            click.echo(f"{s.name:{width}} {s.go_name:{go_width}} "
                       f"{'unreliable' if s.unreliable else 'reliable'}, "
                       f"{f'maxraftstate {s.maxraftstate}' if s.maxraftstate > 0 else 'no snapshots'}"
                       f"{', challenge' if s.challenge else ''}")
        return
    given = (servers, clients, unreliable, reconfigure, crashes, maxraftstate, duration)
    scenario = _resolve(scenario_name, given)
    check_paths(("--trace", trace_path), ("--history", history_path))
    with recording(trace_path) as trace:
        # A fault of the implementation is a finding (impl.sim.faults): the trace up to it
        # is renamed into place whole; only an interrupt discards it.
        run = simulate(seed=seed, scenario=scenario, servers=servers or 3,
                       clients=clients or 5, unreliable=bool(unreliable),
                       reconfigure=reconfigure is not False, crashes=crashes is not False,
                       maxraftstate=-1 if maxraftstate is None else maxraftstate,
                       duration_ms=round((20.0 if duration is None else duration) * 1000),
                       bugs=frozenset(bugs), trace=trace)
    cfg = run.tester
    result = audit(cfg.history, cfg.witness(), search_budget=search_budget)
    label = scenario.name if scenario is not None else "random faults"
    if history_path is not None:
        write_atomically(history_path, cfg.history.to_jsonl(
            cfg.stamp(), note=f"dscheck sim shardkv, {label}, seed {seed}"))
    lab = Verdict.VIOLATION if run.failure else Verdict.OK
    verdict = Verdict.worst([lab, result.verdict])
    lossy = scenario.unreliable if scenario is not None else bool(unreliable)
    summary = _summary(run, label, seed, bugs, lossy, result, verdict, trace_path,
                       history_path)
    finish(summary, as_json, lambda: _print(summary), result, verdict)


def _resolve(name: str | None, given: tuple[Any, ...]) -> Scenario | None:
    if name is None:
        return None
    scenario = find(name)
    if scenario is None:
        raise BadInput(f"--scenario: no shardkv test named {name!r} "
                       "(expected a name from 'dscheck sim shardkv --scenario list')")
    fixed_by_scenario(scenario.name, tuple(zip(_RANDOM_ONLY, given, strict=True)))
    return scenario


def _summary(run: SimRun, label: str, seed: int, bugs: tuple[str, ...], unreliable: bool,
             result: Any, verdict: Verdict, trace_path: Path | None,
             history_path: Path | None) -> dict[str, Any]:
    """The run as one JSON object. `unreliable`: the run's network setting (a scenario may
    make the network reliable again before it ends, as TestUnreliable2 and 3 do)."""
    cfg = run.tester
    return {
        "system": "shardkv",
        "scenario": label,
        "seed": seed,
        "groups": list(cfg.gids),
        "servers_per_group": cfg.n,
        "unreliable": unreliable,
        "maxraftstate": cfg.maxraftstate,
        "bugs": sorted(bugs),
        "persisted_bytes": cfg.persisted_bytes(),
        **run_summary(run, result, verdict, trace_path, history_path),
    }


def _print(s: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    network = "unreliable" if s["unreliable"] else "reliable"
    snapshots = (f"maxraftstate {s['maxraftstate']}" if s["maxraftstate"] > 0
                 else "no snapshots")
    bugs = f" · bugs: {', '.join(s['bugs'])}" if s["bugs"] else ""
    console.print(f"[bold]shardkv[/bold] · {s['scenario']} · seed {s['seed']} · groups "
                  f"{', '.join(map(str, s['groups']))} × {s['servers_per_group']} servers · "
                  f"{network} network · {snapshots}{bugs} · {s['virtual_seconds']:.1f} s "
                  f"virtual in {s['wall_seconds']:.2f} s wall")
    for line in s["pass_lines"]:
        console.print(f"  {line}")
    console.print(f"calls: {s['calls']} ({s['settled']} in flight at the end settled from the "
                  f"groups, {s['unknown']} unknown) · applies: {s['applies']} · RPCs: "
                  f"{s['rpcs']} · dropped: {s['messages_dropped']} · persisted, all group "
                  f"servers: {s['persisted_bytes']:,} B")
    print_linearizability(console, s["linearizability"], "the groups' order, verified",
                          "the groups' order")
    for key in ("trace", "history"):
        if s[key]:
            console.print(f"{key}: {s[key]}")
    print_verdict(console, s)


@click.command(name="shardctrler")
@click.option("--scenario", "scenario_name", metavar="NAME", default=None,
              help="A 4A sub-test (e.g. move_4A, or TestBasic/Move); default: random calls. "
                   "'list' lists them.")
@click.option("--seed", type=int, default=1, show_default=True, help="The run's one seed.")
@click.option("--servers", type=click.IntRange(min=1, max=7), default=None,
              help="Controller servers, for the random schedule  [default: 3].")
@click.option("--clients", type=click.IntRange(min=1, max=50), default=None,
              help="Concurrent clerks, for the random schedule  [default: 5].")
@click.option("--crashes/--no-crashes", default=None,
              help="Random schedule: a minority of servers crash and restart  [default: on].")
@click.option("--duration", type=click.FloatRange(min=0.0, max=3600.0), default=None,
              help="Virtual seconds of the random schedule  [default: 10].")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the run's trace (JSON Lines) to this file.")
@click.option("--search-budget", type=click.FloatRange(min=0.0, min_open=True), default=10.0,
              show_default=True,
              help="Seconds the linearizability search gets before the controller's own order "
                   "is verified as a linearization instead; if neither decides: unknown.")
@click.option("--json", "as_json", is_flag=True, default=False,
              help="Print the summary as one JSON object.")
def shardctrler(scenario_name: str | None, seed: int, servers: int | None,
                clients: int | None, crashes: bool | None, duration: float | None,
                trace_path: Path | None, search_budget: float, as_json: bool) -> None:
    """Simulate the shard controller: a 4A sub-test, or random calls; audit the history."""
    if scenario_name == "list":
        width = max(len(s.name) for s in CTRL_SCENARIOS)
        for s in CTRL_SCENARIOS:
            click.echo(f"{s.name:{width}} {s.go_name}")
        return
    scenario = None
    if scenario_name is not None:
        scenario = find_ctrl(scenario_name)
        if scenario is None:
            raise BadInput(f"--scenario: no 4A sub-test named {scenario_name!r} (expected a "
                           "name from 'dscheck sim shardctrler --scenario list')")
        fixed_by_scenario(scenario.name, (("--servers", servers), ("--clients", clients),
                                          ("--crashes/--no-crashes", crashes),
                                          ("--duration", duration)))
    check_paths(("--trace", trace_path))
    with recording(trace_path) as trace:
        run = ctrl_chaos.simulate(seed=seed, scenario=scenario, servers=servers or 3,
                                  clients=clients or 5, crashes=crashes is not False,
                                  duration_ms=round((10.0 if duration is None else duration)
                                                    * 1000), trace=trace)
    cfg = run.tester
    result = ctrl_audit(cfg.history, cfg.witness(), search_budget=search_budget)
    lab = Verdict.VIOLATION if run.failure else Verdict.OK
    verdict = Verdict.worst([lab, result.verdict])
    summary: dict[str, Any] = {
        "system": "shardctrler",
        "scenario": scenario.name if scenario is not None else "random calls",
        "seed": seed, "servers": cfg.n, "virtual_seconds": cfg.now / 1000,
        "wall_seconds": round(run.wall_seconds, 3),
        "pass_lines": [s.line() for s in run.summaries],
        "calls": len(cfg.history),
        "refused": sum(1 for c in cfg.history if isinstance(c.output, str)),
        "configurations": max((s.core.machine.latest.num for s in cfg.cluster.servers
                               if s is not None), default=0),
        "rpcs": cfg.rpc_total(), "failure": run.failure,
        "fault": run.fault.to_json() if run.fault is not None else None,
        "linearizability": {"verdict": result.verdict.value, "decided_by": result.how,
                            "operations": result.operations,
                            "seconds": round(result.seconds, 3),
                            "witness_problem": result.witness_problem},
        "verdict": verdict.value,
        "trace": str(trace_path) if trace_path is not None else None,
    }
    finish(summary, as_json, lambda: _print_ctrl(summary, trace_path), result, verdict)


def _print_ctrl(summary: dict[str, Any], trace_path: Path | None) -> None:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]shardctrler[/bold] · {summary['scenario']} · seed {summary['seed']} · "
                  f"{summary['servers']} servers · {summary['virtual_seconds']:.1f} s virtual in "
                  f"{summary['wall_seconds']:.2f} s wall")
    for line in summary["pass_lines"]:
        console.print(f"  {line}")
    console.print(f"calls: {summary['calls']} ({summary['refused']} refused as invalid) · "
                  f"configurations: {summary['configurations']} · RPCs: {summary['rpcs']}")
    print_linearizability(console, summary["linearizability"],
                          "the controller's order, verified", "the controller's order")
    if trace_path is not None:
        console.print(f"trace: {trace_path}")
    print_verdict(console, summary)
