"""A simulated disk whose writes take time: the persist→durable delay of parallel write
(`RaftConfig.parallel_write`, Raft thesis §10.2.1), for the simulator's drivers.

With parallel write a driver no longer makes a step's `persist` durable before its messages:
a leader's AppendEntries marked `early` leave at once, everything else waits, and the core is
told when its state reached the disk (`RaftCore.persisted`). `SlowDisk` is that disk for a
simulated server, shaped like the network runtime's group commit (impl.net.server):

* `stage` queues a state and, if no write is under way, starts one that completes after a
  delay drawn from the loop's generator;
* a write makes everything staged when it started durable (saved to the lab's `Persister`,
  in order), then releases the held outputs it covered, in order, then hands the last state
  to `durable` (the driver reports it to its core) — all before the next write can complete;
* a crash (`stop`) loses what was staged and not written, and every held output with it:
  the restarted server reads the persister, which holds only what was durable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from impl.raft.effects import HardState, Persist
from impl.raft.persister import Persister
from impl.sim.loop import EventLoop

#: How long one write takes, in virtual ms (drawn per write): a few ms, as an fsync on an SSD,
#: so that replies, elections and heartbeats interleave with writes in every scenario.
WRITE_MS = (1, 8)


class SlowDisk:
    def __init__(self, loop: EventLoop, persister: Persister,
                 durable: Callable[[HardState], None]) -> None:
        self._loop = loop
        self._persister = persister
        self._durable_fn = durable
        self._staged: list[Persist] = []
        self._seq = 0  # the number of the latest staged state
        self.durable = 0  # the number of the latest state on disk
        self._held: deque[tuple[int, Callable[[], None]]] = deque()
        self._writing = False
        self._stopped = False

    def stage(self, persist: Persist) -> None:
        self._staged.append(persist)
        self._seq += 1
        if not self._writing:
            self._writing = True
            self._loop.call_later(self._loop.rng.randint(*WRITE_MS), self._written, self._seq)

    def after_staged(self, release: Callable[[], None]) -> None:
        """Run `release` once everything staged so far is durable (at once if it is), after
        every output held before it."""
        if self._seq <= self.durable and not self._held:
            release()
        else:
            self._held.append((self._seq, release))

    def stop(self) -> None:
        """The server crashed: nothing more reaches the disk or leaves the server."""
        self._stopped = True
        self._staged.clear()
        self._held.clear()

    def _written(self, upto: int) -> None:
        if self._stopped:
            return
        count = upto - self.durable
        done, self._staged = self._staged[:count], self._staged[count:]
        for persist in done:
            self._persister.save(persist.state, persist.snapshot)
        self.durable = upto
        while self._held and self._held[0][0] <= upto and not self._stopped:
            self._held.popleft()[1]()
        if self._stopped:
            return
        self._writing = False
        self._durable_fn(done[-1].state)
        if self._seq > self.durable and not self._writing and not self._stopped:
            self._writing = True
            self._loop.call_later(self._loop.rng.randint(*WRITE_MS), self._written, self._seq)
