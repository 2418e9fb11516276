"""Work stealing within a level, between forked partitions (`parallel.py`).

Each level waits for its slowest partition. Ownership by `Model.owner` leaves the partitions'
frontiers a few per cent apart (up to 8% in the raft.tla comparison), their states differ in
cost, and the two cores of a virtual machine do not always run at the same speed: measured
on the raft.tla comparison, the slower partition of each level summed to ~0.9 s more than the
mean of the two over a ~20 s search, and handing over states by count before the level
(planned from the frontier sizes) left most of it, the time per state differing between
the partitions. So a partition that has expanded its frontier takes half of what another
has left: a frontier state costs ~3 us to ship against ~15 us to expand.

A partition expands its frontier in chunks of `CHUNK` states and between chunks answers
requests: with the last half of its unexpanded states ("work"), or "none" when fewer than
`MIN_GIFT` are left. An idle partition asks the others in turn, expands what it is given
(answering requests between chunks as well), and stops asking one that said "none" or
"done"; when none is left to ask, it tells all "done" and goes on to the exchange. Any
partition may expand any state: it holds no seen-set entry for a state it does not own,
only for the successors it owns, and ships the rest as usual.

Messages go over one duplex pipe per pair, each tagged with the level, so that a request
left unanswered when its target had moved on to the exchange is dropped in the next level.
A pipe can carry a large message without deadlock here: "work" is only sent to a partition
that is waiting for it.
"""

from __future__ import annotations

from multiprocessing.connection import Connection, wait

from checker.modelcheck.partition import Partition, Record, expand_batch, interned

# States expanded between two looks for requests (~3 ms of work in the raft.tla comparison):
# a request waits about half of that for its answer. With 1,000 (~15 ms) each worker waited
# 0.2-0.47 s a search for answers, with 200 0.15-0.30 s (three paired runs); a look costs a
# poll of each pipe.
CHUNK = 200
# Fewer unexpanded states than this are not worth a message (~0.3 ms to ship 100): the owner
# finishes them.
MIN_GIFT = 100


class Stealing:
    """One partition's side of the protocol (see the module docstring)."""

    def __init__(self, part: Partition, pipes: dict[int, Connection]) -> None:
        self.part = part
        self.pipes = pipes  # the other partitions' indexes -> the pipe to each
        self.index_of = {id(conn): k for k, conn in pipes.items()}
        self.level = 0
        self.done: set[int] = set()
        self.buckets: list[list[Record]] = []

    def expand_level(self) -> list[list[Record]]:
        """Expand this partition's frontier and what it can take from the others'; returns
        the successors' records bucketed by owner (as `expand_batch`)."""
        self.level += 1
        self.done = set()
        self.buckets = [[] for _ in range(self.part.count)]
        self._expand_held()
        asked = sorted(self.pipes)
        while True:
            victims = [k for k in asked if k not in self.done]
            if not victims:
                break
            asked = asked[1:] + asked[:1]  # spread the requests over the others
            self.pipes[victims[0]].send(("request", self.level, None))
            if self._await_answer(victims[0]):
                self._expand_held()
        for conn in self.pipes.values():
            conn.send(("done", self.level, None))
        buckets, self.buckets = self.buckets, []
        return buckets

    def _expand_held(self) -> None:
        part = self.part
        while part.cursor < len(part.frontier):
            for bucket, more in zip(self.buckets, expand_batch(part, CHUNK), strict=True):
                bucket.extend(more)
            self._answer_requests()

    def _answer_requests(self) -> None:
        for k, conn in self.pipes.items():
            while conn.poll():
                kind, level, _ = conn.recv()
                if level != self.level:
                    continue  # left over from a level that has ended
                if kind == "request":
                    left = len(self.part.frontier) - self.part.cursor
                    if left >= MIN_GIFT:
                        conn.send(("work", self.level, self.part.give(left // 2)))
                    else:
                        conn.send(("none", self.level, None))
                elif kind == "done":
                    self.done.add(k)

    def _await_answer(self, victim: int) -> bool:
        """Wait for `victim`'s answer, telling others who ask meanwhile that this partition
        has nothing to give; True if work came (it is then this partition's frontier)."""
        while True:
            for ready in wait(list(self.pipes.values())):
                k = self.index_of[id(ready)]
                conn = self.pipes[k]
                kind, level, payload = conn.recv()
                if level != self.level:
                    continue
                if kind == "request":
                    conn.send(("none", self.level, None))
                elif kind in ("none", "done"):
                    self.done.add(k)
                    if k == victim:
                        return False
                else:  # "work": only `victim` sends it, in answer to this request
                    self.part.frontier = interned(self.part.model, payload)
                    self.part.cursor = 0
                    return True
