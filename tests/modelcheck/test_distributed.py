"""The search on Ray actors gives the local search's results exactly: verdict, distinct states,
states generated, depth, "sometimes", and a shortest counterexample replayed through the spec,
for Raft (both engines), MapReduce and sharded KV, clean and with bug flags; batches small
enough to exercise back-pressure; fingerprints the same in every interpreter."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from checker.modelcheck import Model, ModelCheckResult, Options, check
from checker.modelcheck.models import MapReduceModel, RaftModel, ShardKVModel
from checker.modelcheck.models.kv import KVModel
from checker.modelcheck.ray_search import start_local
from checker.modelcheck.trace import replay_holds
from checker.verdict import Verdict
from spec import kv, mapreduce, raft, shardkv

ROOT = Path(__file__).resolve().parents[2]

TLA = raft.Config(servers=3, max_term=2, max_log=1, max_messages=1)
MODELS: dict[str, Callable[[], Model[Any]]] = {
    "raft": lambda: RaftModel(config=raft.Config(servers=3, max_term=1, max_log=1)),
    "raft-restarts-drops": lambda: RaftModel(
        config=raft.Config(servers=2, max_term=2, max_log=1, max_restarts=1, drops=True)
    ),
    "raft-tla-packed": lambda: RaftModel(config=TLA, semantics="raft-tla-clean-bag"),
    "raft-tla-spec": lambda: RaftModel(
        config=raft.Config(servers=2, max_term=2, max_log=1, max_messages=2),
        semantics="raft-tla",
        engine="spec",
    ),
    "raft-no-step-down": lambda: RaftModel(
        config=raft.Config(max_term=2, bugs=frozenset({"no-step-down"}))
    ),
    "raft-unpersisted-vote": lambda: RaftModel(
        config=raft.Config(max_term=1, max_restarts=1, bugs=frozenset({"unpersisted-vote"}))
    ),
    "mapreduce": lambda: MapReduceModel(config=mapreduce.Config(n_map=1, n_reduce=2)),
    "mapreduce-commit-every-report": lambda: MapReduceModel(
        config=mapreduce.Config(mutation="commit_every_report")
    ),
    # The key/value service's spec: states hold named tuples (its log entries).
    "kv": lambda: KVModel(config=kv.Config(max_log=3)),
    "kv-no-dup-check": lambda: KVModel(config=kv.Config(max_log=3,
                                                        bugs=frozenset({"no-dup-check"}))),
    "shardkv-bug": lambda: ShardKVModel(
        config=shardkv.Config(bugs=frozenset({next(iter(sorted(shardkv.BUGS)))}))
    ),
}


BUGGY = {"raft-no-step-down", "raft-unpersisted-vote", "mapreduce-commit-every-report",
         "kv-no-dup-check", "shardkv-bug"}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray for the module (the engine uses a Ray already started in its process);
    starting one per test would cost seconds each."""
    start_local(3)
    yield
    ray.shutdown()


def figures(result: ModelCheckResult) -> tuple[Any, ...]:
    cex = result.counterexample
    return (result.verdict, result.depth, None if cex is None else len(cex.steps))


def counts(result: ModelCheckResult) -> tuple[Any, ...]:
    return (result.distinct_states, result.states_generated, result.sometimes)


# The two largest configurations (about two minutes together at -n 2) run in the campaign;
# the default suite keeps every engine path on the smaller ones.
_LARGE = {"raft-tla-packed", "raft-restarts-drops"}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.campaign) if n in _LARGE else n for n in MODELS])
def test_ray_gives_the_local_search_results(name: str, local_ray: None) -> None:
    make = MODELS[name]
    serial = check(make(), Options())
    forked = check(make(), Options(workers=2))
    on_ray = check(make(), Options(engine="ray", workers=2))
    # Small batches, one in flight: many calls, back-pressure on every batch.
    tiny_batches = check(make(), Options(engine="ray", workers=3, batch_size=7, in_flight=1))
    for result in (forked, on_ray, tiny_batches):
        assert figures(result) == figures(serial)
        if serial.verdict is Verdict.OK:
            assert counts(result) == counts(serial)
        else:
            # A violation ends the search after its level in a partitioned search, so the
            # figures do not depend on the order of work: the same as forked processes.
            assert counts(result) == counts(forked)
    assert serial.verdict is (Verdict.VIOLATION if name in BUGGY else Verdict.OK)
    for result in (serial, on_ray, tiny_batches):
        if result.counterexample is not None:
            assert replay_holds(result.model.replay_model(), result.counterexample)


def test_a_cut_search_on_ray_is_unknown(local_ray: None) -> None:
    model = RaftModel(config=raft.Config(max_term=2))
    result = check(model, Options(engine="ray", workers=2, max_depth=6))
    assert result.verdict is Verdict.UNKNOWN and "depth bound" in result.reason
    assert result.depth == 6


def test_per_node_figures_add_up(local_ray: None) -> None:
    result = check(MODELS["raft"](), Options(engine="ray", workers=3, per_node=True))
    assert result.nodes and sum(n.partitions for n in result.nodes) == 3
    assert sum(n.distinct for n in result.nodes) == result.distinct_states
    assert all(n.memory > 0 for n in result.nodes)


def test_a_model_travels_as_its_configuration() -> None:
    model = RaftModel(config=TLA, semantics="raft-tla-clean-bag")
    copy = pickle.loads(pickle.dumps(model))
    assert type(copy) is RaftModel and copy.config == model.config
    assert copy.engine_used == "packed" and copy.semantics == model.semantics
    (state,) = model.initial_states()
    assert list(copy.successors(state)) == list(model.successors(state))


_FINGERPRINTS = """
import json, sys
from checker.modelcheck.plain import fingerprint_function
from tests.modelcheck.test_distributed import MODELS
out = {}
for name, make in MODELS.items():
    model = make()
    fingerprint = fingerprint_function(model, True)
    states = list(model.initial_states())
    for _ in range(3):
        states = [t for s in states for _, t in model.successors(s)][:40]
    out[name] = [fingerprint(model.canonical(s)) for s in states]
print(json.dumps(out))
"""


def test_stable_fingerprints_agree_across_interpreters_with_different_hash_seeds() -> None:
    """Ray's workers are interpreters of their own: a model that declares `hash` stable must
    be right, and the others get a digest that is."""
    runs = []
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", _FINGERPRINTS], capture_output=True, text=True, cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            check=True, timeout=300,
        )
        runs.append(json.loads(out.stdout))
    assert runs[0] == runs[1]
    assert all(runs[0].values())
