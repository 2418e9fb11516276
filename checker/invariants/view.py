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
    AppendEntries,
    AppendEntriesReply,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    State,
)

FOLLOWER, CANDIDATE, LEADER = 0, 1, 2
NONE = -1  # votedFor = null; value_at beyond the end of a log
RV, RVR, AE, AER, IS = 0, 1, 2, 3, 4  # message kinds
KIND_NAMES = ("RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply", "InstallSnapshot")


@dataclass(frozen=True, slots=True)
class ServerRec:
    """One server's variables. The log is its snapshot (last index and term, §7) and the terms
    of the entries after it; `values` are the values of entries 1..last, or None when unknown
    (a trace records no commands: they read as 0)."""

    term: int
    role: int
    voted_for: int
    commit: int
    snap_index: int
    snap_term: int
    log_terms: tuple[int, ...]
    values: tuple[int, ...] | None
    granted: frozenset[int] = frozenset()
    responded: frozenset[int] = frozenset()
    next_index: tuple[int, ...] = ()
    match_index: tuple[int, ...] = ()

    @property
    def last(self) -> int:
        return self.snap_index + len(self.log_terms)

    def terms(self, lo: int, hi: int) -> tuple[int, ...]:
        """Terms of entries lo..hi, all known (snap_index ≤ lo, hi ≤ last)."""
        base = self.snap_index
        if lo == base:
            return (self.snap_term, *self.log_terms[: hi - base])
        return self.log_terms[lo - base - 1 : hi - base]


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
        return self.ent_terms[k] if 0 <= k < len(self.ent_terms) else NONE

    def entry_value(self, k: int) -> int:
        return self.ent_values[k] if 0 <= k < len(self.ent_values) else NONE


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
        return self.recs[i].last

    def snap(self, i: int) -> int:
        return self.recs[i].snap_index

    # the log, by absolute index k ≥ 1
    def known(self, i: int, k: int) -> bool:
        """The term of entry k is known (not compacted away, not beyond the end)."""
        r = self.recs[i]
        return r.snap_index <= k <= r.last

    def term_at(self, i: int, k: int) -> int:
        """The term of entry k, NONE where unknown (so that a conjunction with `known` may be
        evaluated eagerly, as its Z3 form is)."""
        r = self.recs[i]
        if k == r.snap_index:
            return r.snap_term
        if r.snap_index < k <= r.last:
            return r.log_terms[k - r.snap_index - 1]
        return NONE

    def last_term(self, i: int) -> int:
        r = self.recs[i]
        return r.log_terms[-1] if r.log_terms else r.snap_term

    def term_at_sym(self, i: int, k: int) -> int:
        """`term_at` where the index is computed (the symbolic view needs If-chains there)."""
        return self.term_at(i, k)

    def value_at_sym(self, i: int, k: int) -> int:
        return self.value_at(i, k)

    def value_at(self, i: int, k: int) -> int:
        r = self.recs[i]
        if not 1 <= k <= r.last:
            return NONE
        return 0 if r.values is None else r.values[k - 1]

    def entry_slots(self, m: MsgRec) -> range:
        """The positions of m's entries to quantify over (all of them)."""
        return range(m.n)

    # leader and candidate state
    def granted(self, i: int, j: int) -> bool:
        return j in self.recs[i].granted

    def responded(self, i: int, j: int) -> bool:
        return j in self.recs[i].responded

    def next(self, i: int, j: int) -> int:
        return self.recs[i].next_index[j]

    def match(self, i: int, j: int) -> int:
        return self.recs[i].match_index[j]

    # array primitives (their Z3 twins are in checker.invariants.symbolic)
    def log_terms_at_most(self, i: int, bound: int) -> bool:
        """Every known term of i's log is ≤ bound."""
        r = self.recs[i]
        return r.snap_term <= bound and (not r.log_terms or max(r.log_terms) <= bound)

    def last_common(self, i: int, j: int, hi: int) -> int:
        """The largest k ≤ hi at which both logs know the term of entry k and it is the same;
        0 if there is none."""
        a, b = self.recs[i], self.recs[j]
        lo = max(a.snap_index, b.snap_index, 1)
        hi = min(hi, a.last, b.last)
        if hi < lo:
            return 0
        ta, tb = a.terms(lo, hi), b.terms(lo, hi)
        if ta[-1] == tb[-1]:
            return hi  # the usual case: the logs agree at their common end
        for k in range(len(ta) - 2, -1, -1):
            if ta[k] == tb[k]:
                return lo + k
        return 0

    def agree(self, i: int, other: ConcreteView, j: int, hi: int) -> bool:
        """Entries 1..hi are the same in i's log (here) and j's log (in `other`): equal values
        (absent beyond the end) and equal terms where both know them."""
        a, b = self.recs[i], other.recs[j]
        common = min(hi, a.last, b.last)
        if hi > common and a.last != b.last:
            return False  # one log holds entry common+1 ≤ hi, the other does not
        if common <= 0:
            return True
        if a.values is not None or b.values is not None:
            va = a.values[:common] if a.values is not None else (0,) * common
            vb = b.values[:common] if b.values is not None else (0,) * common
            if va != vb:
                return False
        lo = max(a.snap_index, b.snap_index, 1)
        return lo > common or a.terms(lo, common) == b.terms(lo, common)


def rec_from_spec(state: State, i: int) -> ServerRec:
    snap = state.snapshot[i]
    log = state.log[i]
    voted = state.voted_for[i]
    return ServerRec(
        term=state.term[i],
        role=int(state.role[i]),
        voted_for=NONE if voted is None else voted,
        commit=state.commit_index[i],
        snap_index=snap.index,
        snap_term=snap.term,
        log_terms=tuple(e.term for e in log),
        values=snap.values + tuple(e.value for e in log),
        granted=state.votes_granted[i],
        responded=state.votes_responded[i],
        next_index=state.next_index[i],
        match_index=state.match_index[i],
    )


def msg_from_spec(m: Message) -> MsgRec:
    match m:
        case RequestVote():
            return MsgRec(RV, m.src, m.dst, m.term, a=m.last_log_index, b=m.last_log_term)
        case RequestVoteReply():
            return MsgRec(RVR, m.src, m.dst, m.term, flag=m.granted)
        case AppendEntries():
            return MsgRec(
                AE, m.src, m.dst, m.term, a=m.prev_index, b=m.prev_term, c=m.leader_commit,
                ent_terms=tuple(e.term for e in m.entries),
                ent_values=tuple(e.value for e in m.entries),
            )
        case AppendEntriesReply():
            return MsgRec(AER, m.src, m.dst, m.term, a=m.match_index, flag=m.success)
        case InstallSnapshot():
            return MsgRec(IS, m.src, m.dst, m.term, a=m.last_index, b=m.last_term, ent_values=m.values)
    raise AssertionError(f"not a message: {m!r}")  # pragma: no cover


def from_spec(state: State) -> ConcreteView:
    """The view of a spec state (messages in a deterministic order)."""
    recs = [rec_from_spec(state, i) for i in range(state.servers)]
    msgs = sorted((msg_from_spec(m) for m in state.network), key=_msg_key)
    return ConcreteView(recs, msgs, state.restarts)


def _msg_key(m: MsgRec) -> tuple[int, ...]:
    return (m.kind, m.src, m.dst, m.term, m.a, m.b, int(m.flag), m.c, *m.ent_terms)
