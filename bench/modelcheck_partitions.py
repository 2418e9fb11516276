"""What partitioning the search costs, counted rather than timed: the partitions' phase
functions run in this one process, in turn, on the raft.tla comparison configuration
(3 servers, terms ≤ 2, logs ≤ 1, clean bag), counting the canonical forms computed, the calls
of `Model.owner`, the records shipped between partitions and their pickled bytes, and the
states each partition holds.

    python bench/modelcheck_partitions.py                  # ≤ 2 in flight, 1 and 2 partitions
    python bench/modelcheck_partitions.py --in-flight 1    # ≤ 1 in flight (seconds)
    python bench/modelcheck_partitions.py --partitions 1 2 4

The counts do not depend on the machine's load (the CPU seconds printed beside them do:
compare those only between runs started together). Buckets are pickled and unpickled as the
forked engine's queues do, so their bytes are what crosses a pipe. Prints a table and one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from checker.modelcheck.models import RaftModel
from checker.modelcheck.partition import Partition, Record, expand_batch, merge_records
from spec import raft


def run(in_flight: int, count: int) -> dict[str, Any]:
    model = RaftModel(
        config=raft.Config(servers=3, max_term=2, max_log=1, values=1, max_messages=in_flight),
        semantics="raft-tla-clean-bag",
    )
    counters = {"canonical": 0, "owner": 0}
    canonical, owner = model.canonical, model.owner

    def counted_canonical(state: Any) -> Any:
        counters["canonical"] += 1
        return canonical(state)

    def counted_owner(state: Any, fingerprint: int) -> int:
        counters["owner"] += 1
        return owner(state, fingerprint)

    # (the model binds its hot functions as attributes; these wrap them, for counting only)
    object.__setattr__(model, "canonical", counted_canonical)
    object.__setattr__(model, "owner", counted_owner)
    parts = [Partition(k, count, model, hash) for k in range(count)]
    seeds: list[list[Record]] = [[] for _ in range(count)]
    for state in model.initial_states():
        enc = model.canonical(state)
        fp = hash(enc)
        seeds[model.owner(enc, fp) % count].append((fp, None, enc))
    for part, seed in zip(parts, seeds, strict=True):
        merge_records(part, seed)
        part.advance()
    records = pickled = generated = 0
    depth = 1
    cpu = time.process_time()
    # Per level, each partition's CPU (expanding, pickling what it sends, unpickling and
    # merging what it receives): a level lasts as long as its slowest partition, so the sum
    # of the per-level maxima over the sum of the means is the barrier's cost in wall time.
    slowest = mean = shipping = 0.0
    while any(p.frontier for p in parts):
        spent = [0.0] * count
        buckets = []
        for k, p in enumerate(parts):
            start = time.process_time()
            buckets.append(expand_batch(p))
            spent[k] += time.process_time() - start
        for k, part in enumerate(parts):
            for j in range(count):
                if j != k:
                    start = time.process_time()
                    data = pickle.dumps(buckets[j][k], protocol=pickle.HIGHEST_PROTOCOL)
                    sent = time.process_time()
                    incoming = pickle.loads(data)
                    shipping += time.process_time() - start
                    spent[j] += sent - start
                    spent[k] += time.process_time() - sent
                    records += len(incoming)
                    pickled += len(data)
                    start = time.process_time()
                    merge_records(part, incoming)
                    spent[k] += time.process_time() - start
        slowest += max(spent)
        mean += sum(spent) / count
        generated += sum(p.advance().generated for p in parts)
        if any(p.frontier for p in parts):
            depth += 1
    return {
        "in_flight": in_flight,
        "partitions": count,
        "distinct_states": sum(p.distinct for p in parts),
        "states_generated": generated,
        "depth": depth,
        "canonical_forms": counters["canonical"],
        "owner_calls": counters["owner"],
        "records_shipped": records,
        "bytes_pickled": pickled,
        "states_per_partition": [p.distinct for p in parts],
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "pickle_seconds": round(shipping, 2),
        "level_imbalance": round(slowest / mean, 3) if mean else 1.0,
        "load": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--in-flight", type=int, default=2)
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    rows = [run(args.in_flight, count) for count in args.partitions]
    table = Table(title=f"partitioned search, counted (≤ {args.in_flight} in flight)")
    for column in ("partitions", "distinct", "depth", "canonical forms", "owner calls",
                   "records", "bytes", "per partition", "CPU s (load)", "pickling s",
                   "slowest/mean"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(str(r["partitions"]), f"{r['distinct_states']:,}", str(r["depth"]),
                      f"{r['canonical_forms']:,}", f"{r['owner_calls']:,}",
                      f"{r['records_shipped']:,}", f"{r['bytes_pickled']:,}",
                      " / ".join(f"{n:,}" for n in r["states_per_partition"]),
                      f"{r['cpu_seconds']} ({r['load']})", str(r["pickle_seconds"]),
                      str(r["level_imbalance"]))
    Console(width=160).print(table)
    print(json.dumps({"bench": "modelcheck_partitions", "runs": rows}))


if __name__ == "__main__":
    main()
