"""Concrete views of a Raft state: the per-server arrays every invariant reads.

A view exposes one state through a small vocabulary — per-server scalars (`term`, `role`,
`voted_for`, `commit`, `last`, `snap`), per-index log accessors (`known`, `term_at`,
`value_at`), per-pair leader/candidate state (`granted`, `responded`, `next`, `match`), and
the messages in flight — plus one array primitive, `agree`, "two logs hold the same entries on
1..hi". The symbolic twin (`checker.invariants.symbolic.SymState`) has the same vocabulary over
Z3 terms, so an invariant written against it has both meanings.

Two concrete sources: a spec `State` (`from_spec`), and the per-node states of a trace
(`ServerRec.from_trace`, which knows terms but not commands: values read as 0, "unknown", and
commands are judged on `apply` events instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spec.raft_types import (
    AppendEntriesRequest,
    AppendEntriesResponse,
    InstallSnapshotRequest,
    Message,
    RequestVoteRequest,
    RequestVoteResponse,
    State,
)

FOLLOWER, CANDIDATE, LEADER = 0, 1, 2
NONE = -1  # votedFor = null; value_at beyond the end of a log
RV, RVR, AE, AER, IS = 0, 1, 2, 3, 4  # message kinds
KIND_NAMES = ("RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply", "InstallSnapshot")


@dataclass(frozen=True, slots=True)
class ServerRec:
    """One server's variables. `terms[k-1]` is the term of entry k (None where compacted away:
    below the snapshot's last index, whose term the snapshot keeps, §7); `values[k-1]` its value."""

    term: int
    role: int
    voted_for: int
    commit: int
    snap_index: int
    terms: tuple[int | None, ...]
    values: tuple[int, ...]
    granted: frozenset[int] = frozenset()
    responded: frozenset[int] = frozenset()
    next_index: tuple[int, ...] = ()
    match_index: tuple[int, ...] = ()

    @property
    def last(self) -> int:
        return len(self.terms)


@dataclass(frozen=True, slots=True)
class MsgRec:
    """A message in flight, flattened: `a`/`b` are the two index/term fields of its kind
    (lastLogIndex/lastLogTerm, prevLogIndex/prevLogTerm, matchIndex, a snapshot's last
    index/term), `flag` granted/success, `c` leaderCommit, then the entries."""

    kind: int
    src: int
    dst: int
    term: int
    a: int = 0
    b: int = 0
    flag: bool = False
    c: int = 0
    ent_terms: tuple[int, ...] = ()
    ent_values: tuple[int, ...] = ()
    present: bool = True

    @property
    def n(self) -> int:
        return len(self.ent_terms)

    def entry_term(self, k: int) -> int:
        return self.ent_terms[k]

    def entry_value(self, k: int) -> int:
        return self.ent_values[k]


class ConcreteView:
    """A concrete state seen through the invariant vocabulary."""

    __slots__ = ("cap", "messages", "n", "recs", "restarts")

    def __init__(self, recs: Sequence[ServerRec], messages: Sequence[MsgRec] = (), restarts: int = 0):
        self.recs = recs
        self.n = len(recs)
        self.messages = messages
        self.restarts = restarts
        self.cap = max((max(r.last, r.commit) for r in recs), default=0)

    # per-server scalars
    def term(self, i: int) -> int:
        return self.recs[i].term

    def role(self, i: int) -> int:
        return self.recs[i].role

    def voted_for(self, i: int) -> int:
        return self.recs[i].voted_for

    def commit(self, i: int) -> int:
        return self.recs[i].commit

    def last(self, i: int) -> int:
        return len(self.recs[i].terms)

    def snap(self, i: int) -> int:
        return self.recs[i].snap_index

    # the log, by absolute index k ≥ 1
    def known(self, i: int, k: int) -> bool:
        """The term of entry k is known (not compacted away, not beyond the end)."""
        r = self.recs[i]
        return r.snap_index <= k <= len(r.terms)

    def term_at(self, i: int, k: int) -> int:
        """The term of entry k, NONE where unknown (so that a conjunction with `known` may be
        evaluated eagerly, as its Z3 form is)."""
        r = self.recs[i]
        if 1 <= k <= len(r.terms):
            t = r.terms[k - 1]
            return NONE if t is None else t
        return NONE

    def value_at(self, i: int, k: int) -> int:
        r = self.recs[i]
        return r.values[k - 1] if 1 <= k <= len(r.values) else NONE

    # leader and candidate state
    def granted(self, i: int, j: int) -> bool:
        return j in self.recs[i].granted

    def responded(self, i: int, j: int) -> bool:
        return j in self.recs[i].responded

    def next(self, i: int, j: int) -> int:
        return self.recs[i].next_index[j]

    def match(self, i: int, j: int) -> int:
        return self.recs[i].match_index[j]

    def agree(self, i: int, other: ConcreteView, j: int, hi: int) -> bool:
        """Entries 1..hi are the same in i's log (here) and j's log (in `other`): equal values
        (absent beyond the end) and equal terms where both know them."""
        if hi <= 0:
            return True
        a, b = self.recs[i], other.recs[j]
        if a.values[:hi] != b.values[:hi]:
            return False
        ta, tb = a.terms[:hi], b.terms[:hi]
        return ta == tb or all(x is None or y is None or x == y for x, y in zip(ta, tb, strict=True))


def rec_from_spec(state: State, i: int) -> ServerRec:
    snap = state.snapshot[i]
    log = state.log[i]
    below: tuple[int | None, ...] = (*((None,) * (snap.index - 1)), snap.term) if snap.index else ()
    voted = state.voted_for[i]
    return ServerRec(
        term=state.current_term[i],
        role=int(state.role[i]),
        voted_for=NONE if voted is None else voted,
        commit=state.commit_index[i],
        snap_index=snap.index,
        terms=below + tuple(e.term for e in log),
        values=snap.values + tuple(e.value for e in log),
        granted=state.votes_granted[i],
        responded=state.votes_responded[i],
        next_index=state.next_index[i],
        match_index=state.match_index[i],
    )


def msg_from_spec(m: Message) -> MsgRec:
    match m:
        case RequestVoteRequest():
            return MsgRec(RV, m.src, m.dst, m.term, a=m.last_log_index, b=m.last_log_term)
        case RequestVoteResponse():
            return MsgRec(RVR, m.src, m.dst, m.term, flag=m.granted)
        case AppendEntriesRequest():
            return MsgRec(
                AE, m.src, m.dst, m.term, a=m.prev_log_index, b=m.prev_log_term, c=m.leader_commit,
                ent_terms=tuple(e.term for e in m.entries),
                ent_values=tuple(e.value for e in m.entries),
            )
        case AppendEntriesResponse():
            return MsgRec(AER, m.src, m.dst, m.term, a=m.match_index, flag=m.success)
        case InstallSnapshotRequest():
            return MsgRec(IS, m.src, m.dst, m.term, a=m.last_index, b=m.last_term, ent_values=m.values)
    raise AssertionError(f"not a message: {m!r}")  # pragma: no cover


def from_spec(state: State) -> ConcreteView:
    """The view of a spec state (messages in a deterministic order)."""
    recs = [rec_from_spec(state, i) for i in range(state.servers)]
    msgs = sorted((msg_from_spec(m) for m in state.network), key=_msg_key)
    return ConcreteView(recs, msgs, state.restarts)


def _msg_key(m: MsgRec) -> tuple[int, ...]:
    return (m.kind, m.src, m.dst, m.term, m.a, m.b, int(m.flag), m.c, *m.ent_terms)
