"""`dscheck sim kv`: run the key/value service on the simulator, then audit what clients saw.

`dscheck sim kv` plays one of the lab's 23 kvraft scenarios by name (`--scenario`), or a
random fault schedule (the default: clients on random keys, with partitions and crashes as
asked), under one seed, in virtual time. The lab's checks run throughout; afterwards the
clients' whole history — calls in flight at the end settled from the servers, or unknown — is
checked for linearizability with the kv model (checker.kv_audit). `--trace` writes the run's
trace (traces/README.md, system "kv"); `--history` the history (traces/HISTORY.md), which
`dscheck lin --model kv` reads. `--read-index` has the servers answer gets by ReadIndex (Raft
thesis §6.4) instead of through the log, in a scenario or the random schedule. Exit status: 1 if a lab check failed or the history is not
linearizable, 3 if linearizability could not be decided, else 0.
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
from checker.kv_audit import Audit, audit
from checker.verdict import Verdict
from impl.files import write_atomically
from impl.kv.scenarios import SCENARIOS, Scenario, find
from impl.kv.scenarios.chaos import SimRun, simulate
from spec.errors import BadInput

_RANDOM_ONLY = ("--servers", "--clients", "--unreliable/--reliable", "--partitions",
                "--crashes", "--maxraftstate", "--duration")


@click.command(name="kv")
@click.option("--scenario", "scenario_name", metavar="NAME", default=None,
              help="A lab scenario (e.g. persist_partition_unreliable_3A, or "
                   "TestPersistPartitionUnreliable3A); default: a random fault schedule. "
                   "'list' lists them.")
@click.option("--seed", type=int, default=1, show_default=True, help="The run's one seed.")
@click.option("--servers", type=click.IntRange(min=1, max=15), default=None,
              help="Servers, for the random schedule  [default: 5].")
@click.option("--clients", type=click.IntRange(min=1, max=100), default=None,
              help="Concurrent clients on random keys, for the random schedule  [default: 5].")
@click.option("--unreliable/--reliable", default=None,
              help="Lossy network, for the random schedule  [default: reliable].")
@click.option("--partitions/--no-partitions", default=None,
              help="Random schedule: split the servers into random halves now and then "
                   "[default: on].")
@click.option("--crashes/--no-crashes", default=None,
              help="Random schedule: crash and restart servers now and then  [default: on].")
@click.option("--maxraftstate", type=int, default=None, callback=maxraftstate,
              help="Random schedule: snapshot when Raft's state approaches this many bytes; "
                   "-1 never  [default: -1].")
@click.option("--duration", type=click.FloatRange(min=0.0, max=3600.0), default=None,
              help="Virtual seconds of faults for the random schedule  [default: 20].")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the run's trace (JSON Lines) to this file.")
@click.option("--history", "history_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write the clients' history (dscheck-history) to this file.")
@click.option("--read-index", is_flag=True, default=False,
              help="Serve gets by ReadIndex (Raft thesis §6.4): no log entry, the leader "
                   "confirms its commit index with a heartbeat round and reads its store.")
@click.option("--search-budget", type=click.FloatRange(min=0.0, min_open=True), default=10.0,
              show_default=True,
              help="Seconds the linearizability search gets before the servers' own order is "
                   "verified as a linearization instead; if neither decides: unknown (exit 3).")
@click.option("--json", "as_json", is_flag=True, default=False,
              help="Print the summary as one JSON object.")
def kv(scenario_name: str | None, seed: int, servers: int | None, clients: int | None,
       unreliable: bool | None, partitions: bool | None, crashes: bool | None,
       maxraftstate: int | None, duration: float | None, trace_path: Path | None,
       history_path: Path | None, read_index: bool, search_budget: float,
       as_json: bool) -> None:
    """Simulate the key/value service: a lab scenario, or random faults; audit the history."""
    if scenario_name == "list":
        width = max(len(s.name) for s in SCENARIOS)
        go_width = max(len(s.go_name) for s in SCENARIOS)
        for s in SCENARIOS:
            click.echo(f"{s.name:{width}} {s.go_name:{go_width}} {s.servers} servers, {s.clients} "
                       f"client{'s' if s.clients > 1 else ''}"
                       f"{', unreliable' if s.unreliable else ''}"
                       f"{f', maxraftstate {s.maxraftstate}' if s.maxraftstate > 0 else ''}")
        return
    given = (servers, clients, unreliable, partitions, crashes, maxraftstate, duration)
    scenario = _resolve(scenario_name, given)
    check_paths(("--trace", trace_path), ("--history", history_path))
    with recording(trace_path) as trace:
        # A fault of the implementation is a finding (impl.sim.faults): the trace up to it
        # is renamed into place whole; only an interrupt discards it.
        run = simulate(seed=seed, scenario=scenario, servers=servers or 5,
                       clients=clients or 5, unreliable=bool(unreliable),
                       partitions=partitions is not False, crashes=crashes is not False,
                       maxraftstate=-1 if maxraftstate is None else maxraftstate,
                       duration_ms=round((20.0 if duration is None else duration) * 1000),
                       trace=trace, read_index=read_index)
    result = audit(run.tester.history, run.tester.witness(), search_budget=search_budget)
    if history_path is not None:
        label = scenario.name if scenario is not None else "random faults"
        write_atomically(history_path, run.tester.history.to_jsonl(
            run.tester.stamp(), note=f"dscheck sim kv, {label}, seed {seed}"))
    lab = Verdict.VIOLATION if run.failure else Verdict.OK
    verdict = Verdict.worst([lab, result.verdict])
    summary = _summary(run, scenario, seed, result, verdict, trace_path, history_path)
    finish(summary, as_json, lambda: _print(summary), result, verdict)


def _resolve(name: str | None, given: tuple[Any, ...]) -> Scenario | None:
    if name is None:
        return None
    scenario = find(name)
    if scenario is None:
        raise BadInput(f"--scenario: no key/value scenario named {name!r} "
                       "(expected a name from 'dscheck sim kv --scenario list')")
    fixed_by_scenario(scenario.name, tuple(zip(_RANDOM_ONLY, given, strict=True)))
    return scenario


def _summary(run: SimRun, scenario: Scenario | None, seed: int, result: Audit,
             verdict: Verdict, trace_path: Path | None,
             history_path: Path | None) -> dict[str, Any]:
    cfg = run.tester
    return {
        "system": "kv",
        "scenario": scenario.name if scenario is not None else "random faults",
        "seed": seed,
        "servers": cfg.n,
        "unreliable": not cfg.net.reliable,
        "maxraftstate": cfg.maxraftstate,
        "read_index": cfg.server_config.read_index,
        "reads": cfg.reads,
        **run_summary(run, result, verdict, trace_path, history_path),
    }


def _print(s: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    network = "unreliable" if s["unreliable"] else "reliable"
    snapshots = (f"maxraftstate {s['maxraftstate']}" if s["maxraftstate"] > 0
                 else "no snapshots")
    reads = " · ReadIndex reads" if s["read_index"] else ""
    console.print(f"[bold]kv[/bold] · {s['scenario']} · seed {s['seed']} · {s['servers']} "
                  f"servers · {network} network · {snapshots}{reads} · "
                  f"{s['virtual_seconds']:.1f} s virtual in {s['wall_seconds']:.2f} s wall")
    for line in s["pass_lines"]:
        console.print(f"  {line}")
    console.print(f"calls: {s['calls']} ({s['settled']} in flight at the end settled from the "
                  f"servers, {s['unknown']} unknown) · applies: {s['applies']} · "
                  + (f"ReadIndex reads: {s['reads']} · " if s["read_index"] else "")
                  + f"RPCs: "
                  f"{s['rpcs']} · dropped: {s['messages_dropped']} · max Raft state: "
                  f"{s['max_raft_state_bytes']:,} B · max snapshot: "
                  f"{s['max_snapshot_bytes']:,} B")
    print_linearizability(console, s["linearizability"],
                          "the servers' order, verified as a linearization", "servers' order")
    for key in ("trace", "history"):
        if s[key]:
            console.print(f"{key}: {s[key]}")
    print_verdict(console, s)
