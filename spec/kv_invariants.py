"""The key/value service's properties, each written once over a `View`.

A `View` is what the invariants read of a run of the service: the replicas' state machines,
and the history — where each call took effect, what the committed log makes at each index,
which writes were acknowledged. Two things provide it: a spec `State` (`StateView` below, for
the model checker), and a recorded trace (`checker.trace_check.kv`, which rebuilds the same
facts from the servers' states, applies and reads and the clerks' invokes and returns). The
invariant bodies below are the only definitions; each is *scoped* to one replica's state
machine or one call, so a trace checker re-evaluates only the instances a step touched.

The properties (issue 11):

- ReplicasAgree — replicas that applied the same index hold the same store and duplicate table
  (the first replica to reach an index fixes what every other must hold there);
- NoCallAppliedTwice — no clerk call executes at more than one index of the log;
- ReplyMatchesState — a reply matches the state at an index where its call took effect: a
  get's value is its key's value in the store the committed log makes through that index
  (each call executed once), and a write is acknowledged only once it executed;
- NoAckedWriteLost — an acknowledged write is in every store that applied past its index:
  such a replica's duplicate table shows the call executed;
- NoStaleRead — a call takes effect at an index no lower than the commit index when it was
  invoked: a read never reflects a state older than what was already committed when it began
  (the real-time half of linearizability, and what ReadIndex must keep, thesis §6.4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from spec.kv_types import (
    GET,
    NOOP,
    Call,
    Config,
    Dup,
    Effect,
    Machine,
    State,
    Store,
    replay,
    seq_of,
    value_of,
)


class View(Protocol):
    """What the invariants read. Indexes are log indexes (1-based; 0 is the empty store)."""

    def first_at(self, index: int) -> tuple[Store | str, Dup] | None:
        """The store (or its digest) and duplicate table of the first replica seen to have
        applied through `index`; None if none was."""
        ...

    def known_through(self) -> int:
        """The committed log is known through this index."""
        ...

    def value_at(self, index: int, key: str) -> str | None:
        """The value of `key` (None: absent) in the store that entries 1..index of the
        committed log make, each call executed once (index ≤ known_through())."""
        ...

    def effects_of(self, clerk: int, seq: int) -> Sequence[Effect]:
        """Every index where call (clerk, seq) took effect: applied there, or read there."""
        ...

    def acked_through(self, clerk: int, index: int) -> int:
        """The highest seq among `clerk`'s acknowledged writes that executed at or before
        `index` (0: none)."""
        ...

    def clerk_ids(self) -> Iterable[int]:
        ...


# ---------------------------------------------------------------- the properties


def replicas_agree(v: View, m: Machine) -> bool:
    first = v.first_at(m.applied)
    return first is None or first == (m.store, m.dup)


def no_call_applied_twice(v: View, call: Call) -> bool:
    return len({e.index for e in v.effects_of(call.op.clerk, call.op.seq) if e.executed}) <= 1


def reply_matches_state(v: View, call: Call) -> bool:
    if not call.returned:
        return True
    effects = v.effects_of(call.op.clerk, call.op.seq)
    if call.op.kind != GET:
        return any(e.executed for e in effects)
    known = v.known_through()
    return any(e.index <= known and (v.value_at(e.index, call.op.key) or "") == call.output
               for e in effects)


def no_acked_write_lost(v: View, m: Machine) -> bool:
    return all(seq_of(m.dup, c) >= v.acked_through(c, m.applied) for c in v.clerk_ids())


def no_stale_read(v: View, call: Call) -> bool:
    return all(e.index >= call.fresh for e in v.effects_of(call.op.clerk, call.op.seq))


@dataclass(frozen=True)
class Invariant:
    """One property: its name, what it says, and its body on one instance — a replica's
    state machine (`scope` "replica") or a call of the history (`scope` "call")."""

    name: str
    words: str
    scope: str
    body: Callable[[View, Any], bool]

    def holds(self, v: View, subject: Machine | Call) -> bool:
        return self.body(v, subject)


PROPERTIES: tuple[Invariant, ...] = (
    Invariant("ReplicasAgree", "Replicas that applied the same index hold the same store and "
              "duplicate table.", "replica", replicas_agree),
    Invariant("NoCallAppliedTwice", "No clerk call executes at more than one index of the "
              "log.", "call", no_call_applied_twice),
    Invariant("ReplyMatchesState", "A reply matches the state at an index where its call took "
              "effect: a get returns its key's value in the store the committed log makes "
              "there; a write is acknowledged only once it executed.", "call",
              reply_matches_state),
    Invariant("NoAckedWriteLost", "An acknowledged write is in every store that applied past "
              "its index (its duplicate table shows the call executed).", "replica",
              no_acked_write_lost),
    Invariant("NoStaleRead", "A call takes effect at an index no lower than the commit index "
              "when it was invoked.", "call", no_stale_read),
)
BY_NAME: dict[str, Invariant] = {inv.name: inv for inv in PROPERTIES}


# ---------------------------------------------------------------- the spec's own view


class StateView:
    """A spec `State` as a `View`: the committed log is the state's, history variables give
    the rest."""

    def __init__(self, config: Config, state: State) -> None:
        self.config = config
        self.state = state

    def first_at(self, index: int) -> tuple[Store | str, Dup] | None:
        if index == 0:
            return (), ()
        seen = self.state.seen
        return seen[index - 1] if index <= len(seen) else None

    def known_through(self) -> int:
        return len(self.state.log)

    def value_at(self, index: int, key: str) -> str | None:
        store, _ = replay(self.state.log, index)
        return value_of(store, key)

    def effects_of(self, clerk: int, seq: int) -> Sequence[Effect]:
        return [e for e in self.state.effects if (e.clerk, e.seq) == (clerk, seq)]

    def acked_through(self, clerk: int, index: int) -> int:
        best = 0
        for call in self.state.calls:
            op = call.op
            if op.clerk != clerk or op.kind == GET or not call.returned or op.seq <= best:
                continue
            executed = [e.index for e in self.effects_of(clerk, op.seq) if e.executed]
            if executed and min(executed) <= index:
                best = op.seq
        return best

    def clerk_ids(self) -> Iterable[int]:
        return range(self.config.clerks)


def holds_everywhere(inv: Invariant, config: Config, state: State) -> bool:
    """`inv` on every instance of `state`: each replica's state machine, or each call."""
    v = StateView(config, state)
    subjects: Iterable[Machine | Call] = (
        state.replicas if inv.scope == "replica" else state.calls)
    return all(inv.holds(v, s) for s in subjects)


StateInvariant = Callable[[Config, State], bool]


def _whole(inv: Invariant) -> StateInvariant:
    def holds(config: Config, state: State) -> bool:
        return holds_everywhere(inv, config, state)

    holds.__name__ = inv.name
    return holds


INVARIANTS: dict[str, StateInvariant] = {inv.name: _whole(inv) for inv in PROPERTIES}


# ---------------------------------------------------------------- "sometimes" properties


def every_call_returned(config: Config, state: State) -> bool:
    return all(c.seq == len(calls) and not c.pending
               for c, calls in zip(state.clerks, config.calls, strict=True))


def retry_in_log(config: Config, state: State) -> bool:
    """A call reached the log twice (a retry), and a replica applied both entries."""
    ids = [(op.clerk, op.seq) for op in state.log if op.kind != NOOP]
    twice = {i for i in ids if ids.count(i) > 1}
    return any(sum(1 for e in state.effects if (e.clerk, e.seq) == i and not e.read) > 1
               for i in twice)


def read_served(config: Config, state: State) -> bool:
    """A ReadIndex read was served (only with `Config.read_index`)."""
    return any(e.read for e in state.effects)


SOMETIMES: dict[str, StateInvariant] = {
    "EveryCallReturned": every_call_returned,
    "RetryInLog": retry_in_log,
    "ReadServed": read_served,
}
