"""Concrete views of a Raft state: the per-server arrays every invariant reads.

A view exposes one state in the vocabulary of the spec and the trace format
(`docs/vocabulary.md`): per-server arrays indexed by server id — `term`, `role`, `voted_for`,
`commit_index`, `snapshot_index`, `last_index` — and per-pair ones indexed `[i][j]` —
`votes_granted`, `votes_responded` (booleans), `next_index`, `match_index`; per-index log
accessors (`known`, `term_at`, `value_at`, `last_term`); the messages in flight (`network`);
and one array primitive, `agree`, "two logs hold the same entries on 1..hi". The symbolic
twin (`checker.invariants.symbolic.SymState`) holds the same arrays of Z3 terms under the same
names, so an invariant written against one has both meanings.

Two concrete sources: a spec `State` (`from_spec`), and the per-node states of a trace
(`ServerRec`, built by `checker.trace_check.reader`, which knows terms but not commands:
values read as 0, "unknown", and commands are judged on `apply` events instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import add
from typing import NamedTuple

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
NONE = -1  # voted_for = null; value_at beyond the end of a log

# Message kinds: the spec's message classes, in this order (RV, RVR, AE, AER, IS abbreviate
# their names in formulas).
MESSAGE_CLASSES: tuple[type[Message], ...] = (
    RequestVote, RequestVoteReply, AppendEntries, AppendEntriesReply, InstallSnapshot)
RV, RVR, AE, AER, IS = range(len(MESSAGE_CLASSES))
KIND_NAMES = tuple(cls.__name__ for cls in MESSAGE_CLASSES)
KIND_OF: dict[type[Message], int] = {cls: k for k, cls in enumerate(MESSAGE_CLASSES)}
# Each kind's fields beyond src, dst and term: the spec's own field names, which `MsgRec`
# and the symbolic `SymMsg` use too (an AppendEntries' `entries` as `entry_terms` and
# `entry_values`).
FIELDS: dict[int, tuple[str, ...]] = {
    KIND_OF[cls]: tuple(f for f in cls.__slots__ if f not in ("src", "dst", "term"))
    for cls in MESSAGE_CLASSES
}


class ServerRec(NamedTuple):
    """One server's variables. The log is its snapshot (last index and term, §7) and the terms
    of the entries after it (`log_terms`, the trace's `log` without its indexes); `values` are
    the values of entries 1..last_index, or None when unknown (a trace records no commands:
    they read as 0). The vote sets are booleans by server id, () for none. (A named tuple: a
    view transposes its servers' records into the per-server arrays in one `zip`.)"""

    term: int
    role: int
    voted_for: int
    commit_index: int
    snapshot_index: int
    snapshot_term: int
    log_terms: tuple[int, ...]
    values: tuple[int, ...] | None
    votes_granted: tuple[bool, ...] = ()
    votes_responded: tuple[bool, ...] = ()
    next_index: tuple[int, ...] = ()
    match_index: tuple[int, ...] = ()

    @property
    def last_index(self) -> int:
        return self.snapshot_index + len(self.log_terms)

    def terms(self, lo: int, hi: int) -> tuple[int, ...]:
        """Terms of entries lo..hi, all known (snapshot_index ≤ lo, hi ≤ last_index)."""
        base = self.snapshot_index
        if lo == base:
            return (self.snapshot_term, *self.log_terms[: hi - base])
        return self.log_terms[lo - base - 1 : hi - base]


@dataclass(frozen=True, slots=True)
class MsgRec:
    """A message in flight: its kind (an index of MESSAGE_CLASSES) and every kind's fields by
    their spec names, those of other kinds left at 0 (so that a formula may read any field of
    any message, as it does of a symbolic slot). An AppendEntries' entries are split into
    `entry_terms` and `entry_values`."""

    kind: int
    src: int
    dst: int
    term: int
    last_log_index: int = 0  # RequestVote
    last_log_term: int = 0
    granted: bool = False  # RequestVoteReply
    prev_index: int = 0  # AppendEntries
    prev_term: int = 0
    entry_terms: tuple[int, ...] = ()
    entry_values: tuple[int, ...] = ()
    leader_commit: int = 0
    success: bool = False  # AppendEntriesReply
    match_index: int = 0
    last_index: int = 0  # InstallSnapshot
    last_term: int = 0
    values: tuple[int, ...] = ()
    present: bool = True

    @property
    def entry_count(self) -> int:
        return len(self.entry_terms)

    def entry_term(self, k: int) -> int:
        return self.entry_terms[k] if 0 <= k < len(self.entry_terms) else NONE

    def entry_value(self, k: int) -> int:
        return self.entry_values[k] if 0 <= k < len(self.entry_values) else NONE


def members(ids: frozenset[int], n: int) -> tuple[bool, ...]:
    """A set of server ids as booleans by id."""
    return tuple(j in ids for j in range(n))


class ConcreteView:
    """A concrete state seen through the invariant vocabulary."""

    __slots__ = ("cap", "commit_index", "last_index", "match_index", "n", "network",
                 "next_index", "recs", "restarts", "role", "snapshot_index", "term",
                 "voted_for", "votes_granted", "votes_responded")

    def __init__(self, recs: Sequence[ServerRec], network: Sequence[MsgRec] = (),
                 restarts: int = 0):
        self.recs = recs
        self.n = n = len(recs)
        self.network = network
        self.restarts = restarts
        (self.term, self.role, self.voted_for, self.commit_index, self.snapshot_index, _, log_terms,
         _, granted, responded, self.next_index, self.match_index) = zip(*recs, strict=True)
        self.last_index = tuple(map(add, self.snapshot_index, map(len, log_terms)))
        nobody = (False,) * n
        # (a trace records no votes: every server's sets are empty, and cheaply so)
        self.votes_granted = (tuple(g or nobody for g in granted) if any(granted)
                              else (nobody,) * n)
        self.votes_responded = (tuple(r or nobody for r in responded) if any(responded)
                                else (nobody,) * n)
        self.cap = max(*self.last_index, *self.commit_index, 0)

    # the log, by absolute index k ≥ 1
    def known(self, i: int, k: int) -> bool:
        """The term of entry k is known (not compacted away, not beyond the end)."""
        r = self.recs[i]
        return r.snapshot_index <= k <= r.last_index

    def term_at(self, i: int, k: int) -> int:
        """The term of entry k, NONE where unknown (so that a conjunction with `known` may be
        evaluated eagerly, as its Z3 form is)."""
        r = self.recs[i]
        if k == r.snapshot_index:
            return r.snapshot_term
        if r.snapshot_index < k <= r.last_index:
            return r.log_terms[k - r.snapshot_index - 1]
        return NONE

    def last_term(self, i: int) -> int:
        r = self.recs[i]
        return r.log_terms[-1] if r.log_terms else r.snapshot_term

    def term_at_sym(self, i: int, k: int) -> int:
        """`term_at` where the index is computed (the symbolic view needs If-chains there)."""
        return self.term_at(i, k)

    def value_at_sym(self, i: int, k: int) -> int:
        return self.value_at(i, k)

    def value_at(self, i: int, k: int) -> int:
        r = self.recs[i]
        if not 1 <= k <= r.last_index:
            return NONE
        return 0 if r.values is None else r.values[k - 1]

    def entry_slots(self, m: MsgRec) -> range:
        """The positions of m's entries to quantify over (all of them)."""
        return range(m.entry_count)

    # array primitives (their Z3 twins are in checker.invariants.symbolic)
    def log_terms_at_most(self, i: int, bound: int) -> bool:
        """Every known term of i's log is ≤ bound."""
        r = self.recs[i]
        return r.snapshot_term <= bound and (not r.log_terms or max(r.log_terms) <= bound)

    def last_common(self, i: int, j: int, hi: int) -> int:
        """The largest k ≤ hi at which both logs know the term of entry k and it is the same;
        0 if there is none."""
        a, b = self.recs[i], self.recs[j]
        lo = max(a.snapshot_index, b.snapshot_index, 1)
        hi = min(hi, a.last_index, b.last_index)
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
        common = min(hi, a.last_index, b.last_index)
        if hi > common and a.last_index != b.last_index:
            return False  # one log holds entry common+1 ≤ hi, the other does not
        if common <= 0:
            return True
        if a.values is not None or b.values is not None:
            va = a.values[:common] if a.values is not None else (0,) * common
            vb = b.values[:common] if b.values is not None else (0,) * common
            if va != vb:
                return False
        lo = max(a.snapshot_index, b.snapshot_index, 1)
        return lo > common or a.terms(lo, common) == b.terms(lo, common)


def rec_from_spec(state: State, i: int) -> ServerRec:
    snapshot = state.snapshot[i]
    log = state.log[i]
    voted = state.voted_for[i]
    return ServerRec(
        term=state.term[i],
        role=int(state.role[i]),
        voted_for=NONE if voted is None else voted,
        commit_index=state.commit_index[i],
        snapshot_index=snapshot.index,
        snapshot_term=snapshot.term,
        log_terms=tuple(e.term for e in log),
        values=snapshot.values + tuple(e.value for e in log),
        votes_granted=members(state.votes_granted[i], state.servers),
        votes_responded=members(state.votes_responded[i], state.servers),
        next_index=state.next_index[i],
        match_index=state.match_index[i],
    )


def msg_from_spec(m: Message) -> MsgRec:
    """The record of a spec message: its fields carried over by name."""
    kind = KIND_OF[type(m)]
    fields = {f: getattr(m, f) for f in FIELDS[kind] if f != "entries"}
    if kind == AE:
        assert isinstance(m, AppendEntries)
        fields["entry_terms"] = tuple(e.term for e in m.entries)
        fields["entry_values"] = tuple(e.value for e in m.entries)
    return MsgRec(kind, m.src, m.dst, m.term, **fields)


def from_spec(state: State) -> ConcreteView:
    """The view of a spec state (messages in a deterministic order)."""
    recs = [rec_from_spec(state, i) for i in range(state.servers)]
    network = sorted((msg_from_spec(m) for m in state.network), key=_msg_key)
    return ConcreteView(recs, network, state.restarts)


def _msg_key(m: MsgRec) -> tuple[object, ...]:
    return (m.kind, m.src, m.dst, m.term, *(getattr(m, f) for f in FIELDS[m.kind]
                                             if f != "entries"), m.entry_terms)
