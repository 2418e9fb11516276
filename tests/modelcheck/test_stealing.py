"""The forked partitions' level protocol: work stealing (`stealing.py`) and the exchange that
offers fingerprints before records (`partition.offer`, `wanted`, `taken`).

Stealing must not change what a level finds: every frontier state is expanded exactly once,
by whichever partition holds it when its turn comes, and the search gives the serial one's
results with stealing forced at every chunk."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

import pytest

from checker.modelcheck import Model, Options, check, stealing
from checker.modelcheck.models import RaftModel
from checker.modelcheck.models.kv import KVModel
from checker.modelcheck.partition import (
    Partition,
    Record,
    expand_batch,
    merge_records,
    offer,
    taken,
    wanted,
)
from checker.modelcheck.stealing import Stealing
from checker.modelcheck.trace import replay_holds
from spec import kv, raft

CONFIG = raft.Config(servers=3, max_term=2, max_log=1, max_messages=1)


def _model() -> RaftModel:
    return RaftModel(config=CONFIG, semantics="raft-tla-clean-bag")


def _level(model: RaftModel, depth: int) -> list[tuple[int, Any]]:
    """The frontier of one partition (of one) after `depth` levels."""
    part = Partition(0, 1, model)
    merge_records(part, [(hash(s), None, s) for s in map(model.canonical, model.initial_states())])
    for _ in range(depth):
        part.advance()
        expand_batch(part)
    part.advance()
    return part.frontier


def _peers(count: int) -> list[dict[int, Connection]]:
    peers: list[dict[int, Connection]] = [{} for _ in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            peers[i][j], peers[j][i] = Pipe()
    return peers


@pytest.fixture
def small_gifts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks and gifts small enough that a level of a few hundred states is shared."""
    monkeypatch.setattr(stealing, "CHUNK", 5)
    monkeypatch.setattr(stealing, "MIN_GIFT", 2)


def _expand_in_threads(parts: list[Partition]) -> list[list[list[Record]]]:
    peers = _peers(len(parts))
    sides = [Stealing(part, peers[k]) for k, part in enumerate(parts)]
    out: list[list[list[Record]]] = [[] for _ in parts]

    def run(k: int) -> None:
        out[k] = sides[k].expand_level()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(parts))]
    # The idle ones first: their requests are waiting when partition 0 finishes its first
    # chunk (started together, partition 0 may be done before another thread runs at all).
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)
    threads[0].start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "the stealing protocol deadlocked"
    return out


def _next_level(parts: list[Partition], buckets: list[list[list[Record]]]) -> set[int]:
    for k, part in enumerate(parts):
        for sender in buckets:
            merge_records(part, sender[k])
    return {fp for part in parts for fp, _ in part.next}


@pytest.mark.parametrize("count", [2, 3])
def test_an_idle_partition_takes_work_and_the_level_finds_the_same_states(
    count: int, small_gifts: None
) -> None:
    model = _model()
    frontier = _level(model, 12)
    assert len(frontier) > 100
    # Reference: the same frontier expanded by one partition alone.
    alone = Partition(0, 1, model)
    alone.frontier = list(frontier)
    expand_batch(alone)
    expected = {fp for fp, _ in alone.next}
    # Every state starts with partition 0; the others have nothing of their own to expand.
    parts = [Partition(k, count, model) for k in range(count)]
    parts[0].frontier = list(frontier)
    buckets = _expand_in_threads(parts)
    generated = [p.report.generated for p in parts]
    assert all(g > 0 for g in generated), f"an idle partition took no work: {generated}"
    assert sum(generated) == alone.report.generated  # each state expanded exactly once
    assert _next_level(parts, buckets) == expected


def test_a_level_with_nothing_to_expand_ends() -> None:
    parts = [Partition(k, 2, _model()) for k in range(2)]
    assert _expand_in_threads(parts) == [[[], []], [[], []]]


def test_an_owner_asks_only_for_the_records_it_does_not_hold() -> None:
    part = Partition(0, 2, _model())
    part.parent = {11: None, 33: 11}
    bucket: list[Record] = [(11, 5, "a"), (22, 5, "b"), (33, 6, "c"), (44, 6, "d")]
    assert taken(bucket, wanted(part, offer(bucket))) == [(22, 5, "b"), (44, 6, "d")]
    assert taken([], wanted(part, offer([]))) == []


MODELS: dict[str, Callable[[], Model[Any]]] = {
    "raft-tla-packed": _model,
    "raft-no-step-down": lambda: RaftModel(
        config=raft.Config(max_term=2, bugs=frozenset({"no-step-down"}))),
    "kv-no-dup-check": lambda: KVModel(config=kv.Config(max_log=3,
                                                        bugs=frozenset({"no-dup-check"}))),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_forced_stealing_gives_the_serial_results(name: str, small_gifts: None) -> None:
    serial = check(MODELS[name](), Options(workers=1))
    for workers in (2, 3):
        result = check(MODELS[name](), Options(workers=workers))
        assert (result.verdict, result.depth) == (serial.verdict, serial.depth)
        if serial.counterexample is None:  # the serial search stops inside the violating level
            assert (result.distinct_states, result.states_generated, result.sometimes) == (
                serial.distinct_states, serial.states_generated, serial.sometimes)
            assert result.counterexample is None
        else:
            assert result.counterexample is not None
            assert len(result.counterexample.steps) == len(serial.counterexample.steps)
            assert replay_holds(MODELS[name](), result.counterexample)
