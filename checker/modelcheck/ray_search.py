"""The partitioned breadth-first search on Ray: one actor per partition, on one machine or a
cluster.

Each actor holds one `partition.Partition` (its share of the seen-set, by `Model.owner`, and
its frontier) and runs the phase functions of `partition.py`, the same ones the forked engine
runs. A level, as the coordinator (`levels.drive`) sees it, is a stream of small calls:

- `expand(batch_size)` takes the next ~1,000 frontier states of one actor, merges the
  successors it owns itself, and returns one bucket per other partition (Ray's
  `num_returns`) plus a few counters. The buckets stay in Ray's object store: the coordinator
  never fetches them, it hands their references to the owners' `receive`, and Ray moves the
  bytes from node to node. (Ray advises calls of at least ~10 ms; at ~30,000 states/s an
  actor spends ~30 ms on a batch of 1,000.)
- back-pressure: an actor has at most `Options.in_flight` batches whose buckets are not yet
  merged by their owners; until one is, it gets no new batch. Object-store memory is thus
  bounded by about workers × in_flight × (batch_size × successors per state) records, and a
  slow node slows the others down instead of letting its inbox grow.
- the level ends once every batch is merged; a bound that cuts the search is checked between
  batches, and then the actors keep the unexpanded rest of their frontier, so a checkpoint
  can resume exactly there.

Fingerprints are the stable ones (`plain.fingerprint_function`): actors are separate
interpreters, each with its own hash seed. Without an address a local Ray is started for the
run (and stopped after it); with one, the search joins that cluster, whose nodes must have
dscheck installed. A model travels to the actors as its configuration (`Model.__reduce_ex__`)
and is built again there, each copy with its own memo.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.modelcheck.checkpoint import SavedPart, dump_part, load_part
from checker.modelcheck.common import Budget, ProgressCallback
from checker.modelcheck.levels import LevelTick, PartStatus, drive
from checker.modelcheck.model import Model
from checker.modelcheck.partition import (
    Partition,
    Record,
    dump_partition,
    expand_batch,
    merge_records,
    peak_memory,
    restore_partition,
)
from checker.modelcheck.plain import fingerprint_function
from checker.modelcheck.result import ModelCheckResult, Options
from spec.errors import BadInput

CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster's address before calling it unreachable


class PartitionActor:
    """One partition, as a Ray actor (wrapped by `ray.remote` when the engine starts, so
    that importing this module does not need Ray)."""

    def __init__(self, model: Model[Any], index: int, count: int, spill_after: int | None,
                 spill_dir: Path | None) -> None:
        import ray

        fingerprint = fingerprint_function(model, True)
        self.part = Partition(index, count, model, fingerprint, spill_after, spill_dir)
        node_id = ray.get_runtime_context().get_node_id()
        self.node = f"{os.uname().nodename}/{node_id[:8]}"
        self.cpu_at_start = time.process_time()  # the worker's start and imports are not ours

    def ready(self) -> bool:
        return True

    def _status(self, advance: bool) -> PartStatus:
        part = self.part
        report = part.advance() if advance else part.report
        left = len(part.frontier) - part.cursor
        return PartStatus(report, part.distinct, part.queue, dict(part.reached), self.node,
                          peak_memory(), {"frontier": float(left)},
                          time.process_time() - self.cpu_at_start)

    def seed(self, records: list[Record]) -> PartStatus:
        merge_records(self.part, records)
        return self._status(advance=True)

    def load(self, data: bytes) -> PartStatus:
        restore_partition(self.part, load_part(data, "checkpoint"))
        return self._status(advance=False)

    def expand(self, limit: int) -> tuple[Any, ...]:
        report = self.part.report
        generated, new = report.generated, report.new
        buckets = expand_batch(self.part, limit)
        sizes = tuple(len(b) for b in buckets)
        return (*buckets, (report.generated - generated, report.new - new, sizes))

    def receive(self, records: list[Record]) -> int:
        return merge_records(self.part, records)

    def end_level(self) -> PartStatus:
        return self._status(advance=True)

    def cut_status(self) -> PartStatus:
        return self._status(advance=False)

    def parent_of(self, fp: int) -> tuple[bool, int | None]:
        return self.part.parent_of(fp)

    def dump(self) -> bytes:
        return dump_partition(self.part)

    def close(self) -> None:
        if self.part.spill is not None:
            self.part.spill.close()


@dataclass
class _Batch:
    """An expand call in flight: its actor, its buckets, and how many receives are pending."""

    source: int
    buckets: list[Any]
    pending: int = 0


class RayPartitions:
    """`levels.Partitions` as Ray actors (see the module docstring)."""

    def __init__(self, ray: Any, model: Model[Any], options: Options) -> None:
        self.ray = ray
        self.count = options.workers
        self.fingerprint = fingerprint_function(model, True)
        self.batch_size, self.in_flight = options.batch_size, options.in_flight
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus < self.count:
            raise BadInput(f"the Ray cluster has {cpus:g} CPU(s) and --workers {self.count} "
                           "needs one each; lower --workers or add nodes")
        actor_class = ray.remote(PartitionActor).options(
            num_cpus=1, scheduling_strategy="SPREAD", max_concurrency=1
        )
        self.actors = [
            actor_class.remote(model, k, self.count, options.spill_after, options.spill_dir)
            for k in range(self.count)
        ]
        self.left = [0] * self.count  # frontier states each actor has still to expand
        # Wait until every actor is built: starting a worker process and importing the model
        # takes seconds on a loaded machine, and the search's clock (a time limit) must not
        # run out before the first state is expanded.
        ray.get([actor.ready.remote() for actor in self.actors])

    def _statuses(self, refs: list[Any]) -> list[PartStatus]:
        statuses: list[PartStatus] = self.ray.get(refs)
        self.left = [int(s.extra.get("frontier", 0)) for s in statuses]
        return statuses

    def seed(self, buckets: list[list[Record]]) -> list[PartStatus]:
        return self._statuses([a.seed.remote(b) for a, b in zip(self.actors, buckets, strict=True)])

    def load(self, parts: list[SavedPart]) -> list[PartStatus]:
        refs = [a.load.remote(dump_part(p)) for a, p in zip(self.actors, parts, strict=True)]
        return self._statuses(refs)

    def level(self, budget: Budget, tick: LevelTick) -> tuple[list[PartStatus], str]:
        ray, count = self.ray, self.count
        left = list(self.left)
        unmerged = [0] * count  # per actor: batches whose buckets are not all merged yet
        batches: dict[int, _Batch] = {}
        waiting: dict[Any, tuple[bool, int]] = {}  # ref -> (is the expand's counters, batch)
        numbers = itertools.count()
        generated = new = 0
        reason = ""
        last_tick = time.monotonic()
        while True:
            for k in range(count if reason else 0, count):
                while left[k] > 0 and unmerged[k] < self.in_flight:
                    take = min(self.batch_size, left[k])
                    left[k] -= take
                    unmerged[k] += 1
                    *buckets, counters = self.actors[k].expand.options(
                        num_returns=count + 1
                    ).remote(take)
                    key = next(numbers)
                    batches[key] = _Batch(k, buckets)
                    waiting[counters] = (True, key)
            if not waiting:
                break
            ready, _ = ray.wait(list(waiting), num_returns=1, timeout=0.5)
            for ref in ready:
                is_expand, key = waiting.pop(ref)
                batch = batches[key]
                if is_expand:
                    batch_generated, batch_new, sizes = ray.get(ref)
                    generated += batch_generated
                    new += batch_new
                    for j in range(count):
                        if j != batch.source and sizes[j]:
                            waiting[self.actors[j].receive.remote(batch.buckets[j])] = (False, key)
                            batch.pending += 1
                    batch.buckets = []  # Ray frees a bucket once its receive has it
                else:
                    new += ray.get(ref)
                    batch.pending -= 1
                if batch.pending == 0:
                    del batches[key]
                    unmerged[batch.source] -= 1
            if time.monotonic() - last_tick >= 0.5:
                last_tick = time.monotonic()
                tick(generated, new)
                if not reason:
                    reason = budget.exceeded(0, 0) or ""
        if reason:
            return self._statuses([a.cut_status.remote() for a in self.actors]), reason
        return self._statuses([a.end_level.remote() for a in self.actors]), ""

    def parent_of(self, fp: int) -> int | None:
        for held, parent in self.ray.get([a.parent_of.remote(fp) for a in self.actors]):
            if held:
                return parent  # type: ignore[no-any-return]
        return None

    def dump(self) -> Iterator[bytes]:
        for actor in self.actors:  # one at a time: the coordinator holds one partition's file
            yield self.ray.get(actor.dump.remote())

    def close(self) -> None:
        try:
            self.ray.get([a.close.remote() for a in self.actors], timeout=30)
        finally:
            for actor in self.actors:
                self.ray.kill(actor)


def search_ray(
    model: Model[Any], options: Options, progress: ProgressCallback | None = None
) -> ModelCheckResult:
    """The search of `search.search`, by `options.workers` Ray actors."""
    ray = _import_ray()
    started = _connect(ray, options)
    try:
        partitions = RayPartitions(ray, model, options)
        # The clock starts once the actors are up: starting a local Ray (~5-8 s here) and
        # its workers is not the search's time; bench/modelcheck_ray.py reports it apart.
        budget = Budget(options)
        try:
            return drive(model, options, progress, partitions, budget)
        finally:
            partitions.close()
    finally:
        if started:
            ray.shutdown()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BadInput("the ray engine needs Ray: pip install 'dscheck[ray]'") from None
    return ray


def _connect(ray: Any, options: Options) -> bool:
    """Join the cluster at `options.address`, or start a local Ray; True if this run started
    (and so must stop) it. An address that does not answer is bad input (one line, exit 2)."""
    if ray.is_initialized():
        return False
    address = options.address
    if address is None:
        start_local(options.workers)
        return True
    _reachable(address)
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BadInput(f"cannot join the Ray cluster at {address}: {first}") from None
    return True


def start_local(workers: int) -> None:
    """Start a local Ray for this process (a new one, never a cluster found lying around),
    with a CPU per partition; its workers import dscheck from where this process did (a
    work tree, say)."""
    ray = _import_ray()
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = root if not path else f"{root}{os.pathsep}{path}"
    try:
        ray.init(
            address="local",
            num_cpus=max(workers, os.cpu_count() or 1),
            logging_level=logging.ERROR,
            log_to_driver=False,
            include_dashboard=False,
        )
    finally:
        if path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = path


def _reachable(address: str) -> None:
    """Fail fast, with one line, if nothing listens at host:port (Ray itself retries for
    minutes)."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise BadInput(f"--cluster {address!r}: expected HOST:PORT of a Ray head node "
                       "(ray start --head prints it)")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), CONNECT_TIMEOUT):
            pass
    except OSError as error:
        raise BadInput(f"cannot reach a Ray cluster at {address} ({error.strerror or error}); "
                       "expected the address of a running Ray head node") from None
