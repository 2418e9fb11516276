"""After Hypothesis's shrink, a shorter failing run (`dscheck hunt`'s post-pass).

Theory of operation
-------------------
Hypothesis minimises a schedule by its own order over its draws — fewer faults, earlier
times, a smaller seed — not by the run the schedule makes. Two things keep a shrunk run long
when it is measured as the bench measures it (core events up to the failure, the unit of the
model checker's steps):

- the run is all of the cores' traffic up to the failure — heartbeats, the churn clients'
  entries, elections — so a smaller seed, or a schedule with fewer faults, is not an earlier
  failure, and the clients' traffic stays whenever the schedule that first failed had them;
- a fault consumes the seed's draws (`scheduled_faults` replays a recorded run draw for
  draw), so removing one changes every later delay and drop: the same seed without it
  rarely fails, and Hypothesis, which changes one draw at a time, keeps faults that only
  feed the random stream.

The post-pass is a greedy descent on the run itself: from the shrunk schedule it tries the
clients off or one fewer, half the time, each fault removed, faults moved earlier, and the
seed alone — every change under the current seed, then under each other seed in turn
(`SEEDS`) — takes the first schedule that still fails with fewer core events (ties: fewer
faults), and starts again. It stops when nothing is shorter, or at the hunt's deadline (then
it says so, and the best so far stands). The failure it keeps may be another invariant than
the shrunk one's, as Hypothesis's own shrinking may: any failure of the flag's run counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from impl.sim.schedule import Schedule

if TYPE_CHECKING:
    from checker.hunt import Outcome

# Seeds tried beside the current one for each change: the draws a removed fault consumed
# shift every later one, so a change is judged under several random streams — as many as
# stay cheap: a run without clients takes ~10 ms, one with them 0.2-2 s, so a pass over
# eight changes stays within seconds, or within a few minutes.
SEEDS = 8
QUIET_SEEDS = 64  # without clients


@dataclass
class Tightened:
    schedule: Schedule
    outcome: Outcome
    runs: int          # runs the post-pass made (memoised ones not counted)
    steps: int         # shorter failing schedules it moved to
    complete: bool     # False: the deadline stopped it, `schedule` is the best so far


def tighten(schedule: Schedule, outcome: Outcome,
            run: Callable[[Schedule], Outcome | None]) -> Tightened:
    """The descent from `schedule` (whose run is `outcome`). `run` gives a schedule's
    outcome, or None once the hunt's time is spent (then the descent ends)."""
    best, best_outcome = schedule, outcome
    runs = steps = 0
    moved = True
    while moved:
        moved = False
        for tried in _tries(best):
            got = run(tried)
            runs += 1
            if got is None:
                return Tightened(best, best_outcome, runs, steps, complete=False)
            if got.failure is not None and _shorter(tried, got, best, best_outcome):
                best, best_outcome, moved = tried, got, True
                steps += 1
                break
    return Tightened(best, best_outcome, runs, steps, complete=True)


def _tries(best: Schedule) -> Iterator[Schedule]:
    """Every change under the current seed first (a shorter run is often one change away),
    then under each other seed in turn, as many as the change's runs afford."""
    changes = list(_changes(best))
    for seed in (best.seed, *(s for s in range(QUIET_SEEDS) if s != best.seed)):
        for change in changes:
            if seed == best.seed or seed < (QUIET_SEEDS if change.clients == 0 else SEEDS):
                tried = dataclasses.replace(change, seed=seed)
                if tried != best:
                    yield tried


def _changes(schedule: Schedule) -> Iterator[Schedule]:
    """The changes tried, cheapest run and largest cut first."""
    # fewer churn clients: none (the cheapest runs), or one fewer (the flags that need
    # entries keep them, with less traffic around them)
    for clients in sorted({0, schedule.clients - 1}):
        if 0 <= clients < schedule.clients:
            yield dataclasses.replace(schedule, clients=clients)
    items = schedule.items
    # a shorter run: half the time of faults, not before the last fault (a failure the
    # settling shows — a command applied early, no agreement — comes sooner)
    last = max((f["t"] for f in items), default=0)
    if schedule.duration_ms // 2 >= max(last, 1):
        yield dataclasses.replace(schedule, duration_ms=schedule.duration_ms // 2)
    for k in reversed(range(len(items))):
        yield dataclasses.replace(schedule, items=items[:k] + items[k + 1:])
    # the faults from the k-th on sooner, by all or half of the gap before them (from the
    # start for the first): the same faults in the same order, the same gaps between them
    times = sorted({f["t"] for f in items})
    for k, at in enumerate(times):
        gap = at - (times[k - 1] if k else 0)
        for shift in (gap, gap // 2):
            if shift > 0:
                yield dataclasses.replace(schedule, items=tuple(
                    {**f, "t": f["t"] - shift} if f["t"] >= at else f for f in items))
    yield schedule  # the seed alone


def _shorter(a: Schedule, a_out: Outcome, b: Schedule, b_out: Outcome) -> bool:
    return (a_out.core_events, a.faults) < (b_out.core_events, b.faults)
