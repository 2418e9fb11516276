"""The model checker's engines side by side: forked processes against Ray actors, 1 and 2
workers, a simulated cluster of several Ray nodes on this machine, and TLC beside them.

    python bench/modelcheck_ray.py                      # ≤ 2 in flight: forked and Ray, 1 and 2
    python bench/modelcheck_ray.py --rounds 3 --tlc     # interleaved rounds, TLC in each round
    python bench/modelcheck_ray.py --nodes 3            # also a 3-node Ray cluster on this machine
    python bench/modelcheck_ray.py --in-flight-3 600    # ≤ 3 in flight on 2 Ray nodes, cut at 600 s
    python bench/modelcheck_ray.py --quick              # ≤ 1 in flight: a smoke run of the above

The configuration is raft.tla's semantics (clean bag) on 3 servers, terms ≤ 2, logs ≤ 1: with
≤ 2 messages in flight, 1,898,819 distinct states and depth 54 on every engine (the script
checks the counts agree). The runs of a round are interleaved (forked 1, forked 2, Ray 1,
Ray 2, [TLC]) so that a change of load on this shared machine falls on all of them; each row
carries the load average before and after it and the CPU seconds it used — this process, its
forked workers, and the Ray actors as they report themselves — since wall time on a loaded
machine says little. Medians are taken over rounds.

Ray's own start (a local Ray for the run, or the simulated cluster) is timed apart: it is not
the search's time. Figures derived for docs/model-checking.md: the Ray overhead (Ray's CPU
seconds over the forked engine's, same workers), the cost of one batch of `--batch-size`
states in an actor (its CPU seconds × batch size / states it expanded), and the records each
partition shipped to the others.

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from checker.modelcheck import Options, check
from checker.modelcheck.models import RaftModel
from spec import raft

HERE = Path(__file__).resolve().parent
TLC_SCRIPT = HERE / "modelcheck_tlc.sh"


def _config(in_flight: int) -> raft.Config:
    return raft.Config(servers=3, max_term=2, max_log=1, values=1, max_messages=in_flight)


def _model(in_flight: int) -> RaftModel:
    # A fresh model per run: the packed model memoises property verdicts.
    return RaftModel(config=_config(in_flight), semantics="raft-tla-clean-bag")


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_dscheck(label: str, in_flight: int, options: Options) -> dict[str, Any]:
    load_before, cpu_before = os.getloadavg()[0], _own_cpu()
    result = check(_model(in_flight), options)
    own = _own_cpu() - cpu_before
    # Forked workers are reaped children (counted in `own`); Ray actors are not: their CPU
    # comes from their own reports (`NodeProgress.cpu`).
    actors = sum(n.cpu for n in result.nodes) if options.engine == "ray" else 0.0
    return {
        "label": label,
        "engine": "ray" if options.engine == "ray" else ("forked" if options.workers > 1
                                                         else "serial"),
        "workers": options.workers,
        "in_flight": in_flight,
        "verdict": result.verdict.value,
        "distinct_states": result.distinct_states,
        "states_generated": result.states_generated,
        "depth": result.depth,
        "seconds": round(result.seconds, 2),
        "cpu_seconds": round(own + actors, 2),
        "distinct_per_second": round(result.distinct_states / max(result.seconds, 1e-9)),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "nodes": [
            {"node": n.node, "partitions": n.partitions, "distinct": n.distinct,
             "peak_resident_mb": round(n.memory / 2**20), "cpu_seconds": round(n.cpu, 2)}
            for n in result.nodes
        ],
    }


def run_tlc(in_flight: int, workers: int) -> dict[str, Any]:
    """bench/modelcheck_tlc.sh (TLC on bench/tla/RaftCompare.tla, the same semantics)."""
    load_before, cpu_before = os.getloadavg()[0], _own_cpu()
    start = time.monotonic()
    done = subprocess.run(
        ["bash", str(TLC_SCRIPT), str(in_flight), "FALSE", str(workers)],
        capture_output=True, text=True, check=False,
    )
    seconds = time.monotonic() - start
    out = done.stdout
    # The last count TLC prints is its final one (the earlier ones are progress lines).
    found = re.findall(r"([\d,]+) distinct states found", out)
    distinct = found[-1].replace(",", "") if found else ""
    depth = re.search(r"depth of the complete state graph search is (\d+)", out)
    return {
        "label": f"TLC, {workers} workers",
        "engine": "tlc",
        "workers": workers,
        "in_flight": in_flight,
        "verdict": "ok" if done.returncode == 0 and distinct else f"exit {done.returncode}",
        "distinct_states": int(distinct) if distinct else 0,
        "states_generated": 0,
        "depth": int(depth.group(1)) if depth else 0,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(_own_cpu() - cpu_before, 2),
        "distinct_per_second": round(int(distinct) / seconds) if distinct else 0,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "nodes": [],
    }


def ray_local(workers: int) -> float:
    """Start a local Ray for the coming runs; returns the seconds it took."""
    from checker.modelcheck.ray_search import start_local

    start = time.monotonic()
    start_local(workers)
    return time.monotonic() - start


def ray_cluster(nodes: int) -> tuple[Any, float]:
    """A simulated cluster: `nodes` Ray nodes (raylets, each with its own object store and
    one CPU) on this machine; this process joins it. Returns it and its start time."""
    import ray
    from ray.cluster_utils import Cluster

    root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = root if not path else f"{root}{os.pathsep}{path}"
    start = time.monotonic()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1,
                                                            "include_dashboard": False})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    return cluster, time.monotonic() - start


def _stop_ray(cluster: Any = None) -> None:
    import ray

    ray.shutdown()
    if cluster is not None:
        cluster.shutdown()


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows) if rows else 0.0


def summarise(rows: list[dict[str, Any]], batch_size: int) -> dict[str, Any]:
    """Medians per (engine, workers), and the ratios the docs quote."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["in_flight"] == rows[0]["in_flight"] and not r["label"].startswith("cluster"):
            groups.setdefault(f"{r['engine']}-{r['workers']}", []).append(r)
    medians = {k: {"seconds": _median(v, "seconds"), "cpu_seconds": _median(v, "cpu_seconds"),
                   "runs": len(v)} for k, v in groups.items()}
    out: dict[str, Any] = {"medians": medians}

    def ratio(a: str, b: str, key: str) -> float | None:
        if a in medians and b in medians and medians[b][key]:
            return round(medians[a][key] / medians[b][key], 3)
        return None

    out["two_over_one_forked_wall"] = ratio("serial-1", "forked-2", "seconds")
    out["two_over_one_ray_wall"] = ratio("ray-1", "ray-2", "seconds")
    out["ray_overhead_cpu_1"] = ratio("ray-1", "serial-1", "cpu_seconds")
    out["ray_overhead_cpu_2"] = ratio("ray-2", "forked-2", "cpu_seconds")
    out["ray_overhead_wall_2"] = ratio("ray-2", "forked-2", "seconds")
    out["tlc_over_forked_2_wall"] = ratio("tlc-2", "forked-2", "seconds")
    ray_rows = groups.get("ray-2", [])
    if ray_rows:
        per_state = statistics.median(
            sum(n["cpu_seconds"] for n in x["nodes"]) / max(x["distinct_states"], 1)
            for x in ray_rows
        )
        out["actor_cpu_per_state_us"] = round(per_state * 1e6, 2)
        out["actor_cpu_per_batch_ms"] = round(per_state * batch_size * 1e3, 2)
        out["states_per_batch"] = batch_size
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="≤ 1 in flight (seconds)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds")
    parser.add_argument("--tlc", action="store_true", help="run TLC (2 workers) in each round")
    parser.add_argument("--no-ray", action="store_true", help="forked engine (and TLC) only")
    parser.add_argument("--nodes", type=int, default=0,
                        help="also run on a simulated cluster of this many Ray nodes")
    parser.add_argument("--in-flight-3", type=float, default=0.0, metavar="SECONDS",
                        help="also run ≤ 3 in flight on 2 Ray nodes, cut after SECONDS")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    in_flight = 1 if args.quick else 2
    rows: list[dict[str, Any]] = []
    setup: dict[str, float] = {}
    for _ in range(args.rounds):
        for workers in (1, 2):
            rows.append(run_dscheck(f"forked, {workers} worker(s)", in_flight,
                                    Options(workers=workers)))
        if not args.no_ray:
            setup.setdefault("ray_local_start_s", round(ray_local(2), 2))
            try:
                for workers in (1, 2):
                    rows.append(run_dscheck(f"Ray, {workers} actor(s)", in_flight,
                                            Options(workers=workers, engine="ray",
                                                    per_node=True,
                                                    batch_size=args.batch_size)))
            finally:
                _stop_ray()
        if args.tlc:
            rows.append(run_tlc(in_flight, 2))
    if args.nodes:
        cluster, seconds = ray_cluster(args.nodes)
        setup[f"ray_cluster_{args.nodes}_nodes_start_s"] = round(seconds, 2)
        try:
            rows.append(run_dscheck(f"cluster of {args.nodes} Ray nodes", in_flight,
                                    Options(workers=args.nodes, engine="ray", per_node=True,
                                            batch_size=args.batch_size)))
        finally:
            _stop_ray(cluster)
    if args.in_flight_3:
        cluster, _ = ray_cluster(2)
        try:
            rows.append(run_dscheck("cluster of 2 Ray nodes, ≤ 3 in flight", 3,
                                    Options(workers=2, engine="ray", per_node=True,
                                            time_limit=args.in_flight_3,
                                            batch_size=args.batch_size)))
        finally:
            _stop_ray(cluster)
    same = {(r["distinct_states"], r["depth"]) for r in rows
            if r["in_flight"] == in_flight and r["verdict"] == "ok"}
    summary = summarise(rows, args.batch_size)

    load = os.getloadavg()
    table = Table(title=f"model checking engines ({os.cpu_count()} cores, load now "
                        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f})")
    for column in ("run", "in flight", "verdict", "distinct", "depth", "s", "CPU s",
                   "distinct/s", "load before/after", "per node (MB peak, CPU s)"):
        table.add_column(column, justify="left" if column in ("run", "per node") else "right")
    for r in rows:
        nodes = "; ".join(f"{n['peak_resident_mb']} MB, {n['cpu_seconds']} s" for n in r["nodes"])
        table.add_row(r["label"], str(r["in_flight"]), r["verdict"], f"{r['distinct_states']:,}",
                      str(r["depth"]), str(r["seconds"]), str(r["cpu_seconds"]),
                      f"{r['distinct_per_second']:,}",
                      f"{r['load_before']} / {r['load_after']}", nodes)
    Console(width=160).print(table)
    Console(width=160).print(f"setup: {setup}\nsummary: {summary}\n"
                             f"counts agree across engines: {len(same) <= 1}", markup=False)
    print(json.dumps({"bench": "modelcheck_ray", "cores": os.cpu_count(), "load": load,
                      "setup": setup, "summary": summary, "counts_agree": len(same) <= 1,
                      "runs": rows}))


if __name__ == "__main__":
    main()
