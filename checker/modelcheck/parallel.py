"""Parallel breadth-first search on this machine: partitions in forked processes.

Each partition (`partition.Partition`: its share of the seen-set by `Model.owner`, its
frontier) lives in a forked process. A level is the two phases of `partition.py`: every
process expands its frontier, and what it can take of the others' once its own is done
(`stealing.py`), sends each other process the bucket addressed to it (fingerprints first,
then only the records the owner lacks: `_exchange`) and merges what it receives; the
coordinator (`levels.drive`) only counts, writes checkpoints and decides when to stop. The
Ray engine (`ray_search.py`) runs the same phase functions in actors, batch by batch.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from checker.modelcheck.checkpoint import SavedPart
from checker.modelcheck.common import Budget, ProgressCallback, cyclic_gc_paused
from checker.modelcheck.levels import LevelTick, PartStatus, drive
from checker.modelcheck.model import Model
from checker.modelcheck.partition import (
    Partition,
    Record,
    dump_partition,
    merge_records,
    node_name,
    offer,
    peak_memory,
    restore_partition,
    taken,
    wanted,
)
from checker.modelcheck.plain import fingerprint_function
from checker.modelcheck.result import ModelCheckResult, Options
from checker.modelcheck.stealing import Stealing


def status(part: Partition) -> PartStatus:
    report = part.advance()
    return PartStatus(report, part.distinct, part.queue, dict(part.reached), node_name(),
                      peak_memory(), cpu=time.process_time())


def _worker(
    part: Partition, control: Connection, inboxes: list[Any], pipes: dict[int, Connection]
) -> None:
    with cyclic_gc_paused():
        _serve(part, control, inboxes, pipes)


def _serve(
    part: Partition, control: Connection, inboxes: list[Any], pipes: dict[int, Connection]
) -> None:
    # The model arrives by fork, not by pickling: each process has its own copy (and its
    # own memo, for a model that memoises).
    stealing = Stealing(part, pipes)
    while True:
        command, arg = control.recv()
        if command == "seed":
            merge_records(part, arg)
            control.send(status(part))
        elif command == "load":
            restore_partition(part, arg)
            control.send(PartStatus(part.report, part.distinct, part.queue, dict(part.reached),
                                    node_name(), peak_memory(), cpu=time.process_time()))
        elif command == "level":
            _exchange(part, stealing.expand_level(), inboxes)
            control.send(status(part))
        elif command == "parent":
            control.send(part.parent_of(arg))
        elif command == "dump":
            control.send_bytes(dump_partition(part))
        else:
            if part.spill is not None:
                part.spill.close()
            return


def _exchange(part: Partition, buckets: list[list[Record]], inboxes: list[Any]) -> None:
    """Send each other partition its bucket and merge the ones sent here, in three messages
    per pair: the bucket's fingerprints (`offer`), the positions its owner wants back
    (`wanted`), and only those records (`taken`), so that records the owner already holds
    are never pickled. Queues, not pipes: a queue's feeder thread sends, so that two
    partitions sending to each other at once cannot both block on a full pipe."""
    index, count = part.index, part.count
    for k in range(count):
        if k != index:
            inboxes[k].put(("offer", index, offer(buckets[k])))
    inbox = inboxes[index]
    for _ in range(3 * (count - 1)):  # an offer, a reply and records from each other one
        kind, sender, payload = inbox.get()
        if kind == "offer":
            inboxes[sender].put(("want", index, wanted(part, payload)))
        elif kind == "want":
            inboxes[sender].put(("records", index, taken(buckets[sender], payload)))
        else:
            merge_records(part, payload)


class ForkedPartitions:
    """`levels.Partitions` in forked processes talking through pipes and queues."""

    def __init__(self, model: Model[Any], options: Options) -> None:
        self.count = options.workers
        self.fingerprint = fingerprint_function(model, options.stable_fingerprints)
        ctx = mp.get_context("fork")
        inboxes = [ctx.Queue() for _ in range(self.count)]
        pipes = [ctx.Pipe() for _ in range(self.count)]
        # One duplex pipe between each two partitions, for work stealing (`stealing.py`).
        peers: list[dict[int, Connection]] = [{} for _ in range(self.count)]
        for i in range(self.count):
            for j in range(i + 1, self.count):
                peers[i][j], peers[j][i] = ctx.Pipe()
        self.procs = []
        for k in range(self.count):
            part = Partition(k, self.count, model, self.fingerprint, options.spill_after,
                             options.spill_dir)
            proc = ctx.Process(target=_worker, args=(part, pipes[k][1], inboxes, peers[k]),
                               daemon=True)
            proc.start()
            self.procs.append(proc)
        self.controls = [a for a, _ in pipes]

    def _all(self, command: str, args: list[Any] | None = None) -> list[Any]:
        for k, c in enumerate(self.controls):
            c.send((command, None if args is None else args[k]))
        return [c.recv() for c in self.controls]

    def seed(self, buckets: list[list[Record]]) -> list[PartStatus]:
        return self._all("seed", list(buckets))

    def load(self, parts: list[SavedPart]) -> list[PartStatus]:
        return self._all("load", list(parts))

    def level(self, budget: Budget, tick: LevelTick) -> tuple[list[PartStatus], str]:
        return self._all("level"), ""

    def parent_of(self, fp: int) -> int | None:
        # The owner is not known from the fingerprint alone (see Model.owner): ask every
        # partition; only the owner has the state (this runs only to rebuild a path).
        for held, parent in self._all("parent", [fp] * self.count):
            if held:
                return parent  # type: ignore[no-any-return]
        return None

    def dump(self) -> Iterator[bytes]:
        for c in self.controls:
            c.send(("dump", None))
            yield c.recv_bytes()

    def close(self) -> None:
        for c in self.controls:
            with contextlib.suppress(OSError):  # the worker may be gone already
                c.send(("stop", None))
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()


def search_parallel(
    model: Model[Any], options: Options, progress: ProgressCallback | None = None
) -> ModelCheckResult:
    """The search of `search.search`, by `options.workers` processes (forked)."""
    budget = Budget(options)
    with cyclic_gc_paused():
        partitions = ForkedPartitions(model, options)
        try:
            return drive(model, options, progress, partitions, budget)
        finally:
            partitions.close()
