"""Raft's invariants, each written once (theory of operation: `checker.invariants.ops`).

Each `Invariant` has a name, the property in words, a formula in the paper's notation, a
scope (what its body quantifies over: one server, a pair of servers, a message in flight, a
pair of messages, or the whole state) and a body over a view and a backend. `holds(view, ops)`
closes the quantifiers: with `CONCRETE` over a `ConcreteView` it evaluates, with `Z3` over a
`SymState` it is the formula.

`SAFETY` are the spec's own properties (`spec.raft_invariants.INVARIANTS`, same names, shown to
agree by tests/invariants); `AUXILIARY` are the lemmas an inductive proof needs about votes,
terms and messages in flight (Raft's proof in §5.4 argues with them in words).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import combinations, permutations
from typing import Any

from checker.invariants.ops import Ops
from checker.invariants.view import AE, AER, CANDIDATE, FOLLOWER, IS, LEADER, NONE, RVR

V = Any  # a ConcreteView or a SymState (the same vocabulary)
Body = Callable[..., Any]


@dataclass(frozen=True)
class Invariant:
    name: str
    words: str
    formula: str
    scope: str  # "state", "server", "pair" (unordered), "ordered" (i ≠ j), "message", "messages"
    body: Body
    auxiliary: bool = False
    # what the body reads beyond terms, roles, votes, logs and commit indexes: "volatile"
    # (votes granted, next_index/match_index), "network" (messages in flight). A trace records
    # neither, so trace checking evaluates only invariants that need neither.
    needs: frozenset[str] = field(default_factory=frozenset)
    # a clause about the whole state (not per instance), conjoined by `holds`
    whole: Body | None = None

    def instances(self, v: V) -> Iterator[tuple[Any, ...]]:
        ids = range(v.n)
        match self.scope:
            case "state":
                yield ()
            case "server":
                yield from ((i,) for i in ids)
            case "pair":
                yield from combinations(ids, 2)
            case "ordered":
                yield from permutations(ids, 2)
            case "message":
                yield from ((m,) for m in v.network)
            case "messages":
                yield from combinations(v.network, 2)
            case _:  # pragma: no cover
                raise AssertionError(self.scope)

    def holds(self, v: V, ops: Ops) -> Any:
        if self.scope in ("message", "messages"):
            # A slot that holds no message constrains nothing.
            return ops.all(
                ops.implies(ops.all(m.present for m in ms), self.body(v, ops, *ms))
                for ms in self.instances(v)
            )
        each = ops.all(self.body(v, ops, *args) for args in self.instances(v))
        if self.whole is None:
            return each
        return ops.all([each, self.whole(v, ops)])

    def failing(self, v: V, ops: Ops) -> list[tuple[Any, ...]]:
        """The concrete instances that do not hold (servers or messages)."""
        return [args for args in self.instances(v) if not self.body(v, ops, *args)]


@dataclass(frozen=True)
class TransitionInvariant:
    name: str
    words: str
    formula: str
    body: Body  # (before, after, ops, i)

    def holds(self, before: V, after: V, ops: Ops) -> Any:
        return ops.all(self.body(before, after, ops, i) for i in range(before.n))


def _min(ops: Ops, x: Any, y: Any) -> Any:
    return ops.ite(x <= y, x, y)


# ---------------------------------------------------------------- the spec's properties


def _type_ok(v: V, o: Ops, i: int) -> Any:
    return o.all([
        v.term[i] >= 0, v.role[i] >= 0, v.role[i] <= 2,
        v.voted_for[i] >= NONE, v.voted_for[i] < v.n, v.commit_index[i] >= 0,
        v.log_terms_at_most(i, v.term[i]),
        o.all(o.implies(v.votes_granted[i][j], v.votes_responded[i][j]) for j in range(v.n)),
        o.all(v.next_index[i][j] >= 1 for j in range(v.n)),
        o.all(v.match_index[i][j] >= 0 for j in range(v.n)),
    ])


def _type_ok_network(v: V, o: Ops) -> Any:
    return o.all([
        o.all(o.implies(m.present, o.all([m.src >= 0, m.src < v.n, m.dst >= 0, m.dst < v.n]))
              for m in v.network),
        v.restarts >= 0,
    ])


def _commit_index_in_log(v: V, o: Ops, i: int) -> Any:
    return o.all([v.snapshot_index[i] <= v.commit_index[i], v.commit_index[i] <= v.last_index[i]])


def _election_safety(v: V, o: Ops, i: int, j: int) -> Any:
    return o.not_(o.all([v.role[i] == LEADER, v.role[j] == LEADER, v.term[i] == v.term[j]]))


def _log_matching(v: V, o: Ops, i: int, j: int) -> Any:
    # The highest index at which both logs hold an entry of the same term; the prefixes
    # through it must be identical (checking the highest one suffices: agreement on 1..k
    # implies agreement on every shorter prefix).
    k = v.last_common(i, j, _min(o, v.last_index[i], v.last_index[j]))
    return v.agree(i, v, j, k)


def _leader_completeness(v: V, o: Ops, leader: int, i: int) -> Any:
    return o.implies(o.all([v.role[leader] == LEADER, v.term[leader] > v.term[i]]),
                     lambda: v.agree(leader, v, i, v.commit_index[i]))


def _state_machine_safety(v: V, o: Ops, i: int, j: int) -> Any:
    return v.agree(i, v, j, _min(o, v.commit_index[i], v.commit_index[j]))


def _outranks(v: V, o: Ops, m: int, j: int) -> Any:
    """m's log is strictly more up-to-date than j's (§5.4.1: last term, then last index)."""
    return o.any([v.last_term(m) > v.last_term(j),
                  o.all([v.last_term(m) == v.last_term(j), v.last_index[m] > v.last_index[j]])])


def _committed_entries_outvote_rivals(v: V, o: Ops, i: int, j: int) -> Any:
    # A server j lacking an entry i has committed faces a quorum of logs more up-to-date than
    # its own, so it cannot be elected (the heart of §5.4.3's argument).
    rivals = o.count(_outranks(v, o, m, j) for m in range(v.n))

    def entry(k: int) -> Any:
        same = o.all([v.value_at(j, k) == v.value_at(i, k),
                      o.implies(o.all([v.known(i, k), v.known(j, k)]),
                                v.term_at(j, k) == v.term_at(i, k))])
        return o.implies(o.not_(same), rivals >= v.n // 2 + 1)

    return o.forall_upto(v.commit_index[i], v.cap, entry)


def _leader_append_only(before: V, after: V, o: Ops, i: int) -> Any:
    return o.implies(
        o.all([before.role[i] == LEADER, after.role[i] == LEADER, before.term[i] == after.term[i]]),
        lambda: o.all([after.last_index[i] >= before.last_index[i],
                       before.agree(i, after, i, before.last_index[i])]),
    )


SAFETY: tuple[Invariant, ...] = (
    Invariant("TypeOK", "Every variable is in its type: terms and indexes non-negative, roles "
              "and votes name real servers, no log entry of a term above its holder's, votes "
              "granted only by servers that responded.",
              "∀i. term[i] ≥ 0 ∧ log[i][k].term ≤ term[i] ∧ votes_granted[i] ⊆ "
              "votes_responded[i] ∧ …",
              "server", _type_ok, whole=_type_ok_network),
    Invariant("CommitIndexInLog", "No server has committed an entry it does not hold.",
              "∀i. snapshot_index[i] ≤ commit_index[i] ≤ last_index[i]", "server",
              _commit_index_in_log),
    Invariant("ElectionSafety", "At most one leader per term (§5.2, Figure 3).",
              "∀i≠j. role[i] = role[j] = Leader ⇒ term[i] ≠ term[j]", "pair", _election_safety),
    Invariant("LogMatching", "Two logs with an entry of the same index and term are identical "
              "up to that index (§5.3, Figure 3).",
              "∀i,j,k. log[i][k].term = log[j][k].term ⇒ log[i][1..k] = log[j][1..k]", "pair",
              _log_matching),
    Invariant("LeaderCompleteness", "A leader holds every entry committed by a server of a lower "
              "term (§5.4, Figure 3).",
              "∀l,i. role[l] = Leader ∧ term[l] > term[i] ⇒ log[l][1..commit_index[i]] = "
              "log[i][1..commit_index[i]]", "ordered", _leader_completeness),
    Invariant("StateMachineSafety", "Committed prefixes agree: no two servers apply different "
              "entries at one index (§5.4.3, Figure 3).",
              "∀i,j. log[i][1..c] = log[j][1..c] where c = min(commit_index[i], commit_index[j])",
              "pair", _state_machine_safety),
    Invariant("CommittedEntriesOutvoteRivals", "A server lacking an entry another server has "
              "committed faces a quorum of logs more up-to-date than its own, so it cannot be "
              "elected (§5.4.3; the spec's auxiliary invariant).",
              "∀i,j,k ≤ commit_index[i]. log[j][k] ≠ log[i][k] ⇒ |{m : (last_term[m], "
              "last_index[m]) > (last_term[j], last_index[j])}| > n/2", "ordered",
              _committed_entries_outvote_rivals, True,
              # O(commit_index) per pair: left to the proofs, not re-evaluated on long traces.
              frozenset({"proof"})),
)

LEADER_APPEND_ONLY = TransitionInvariant(
    "LeaderAppendOnly", "A leader never overwrites or deletes its entries; it only appends "
    "(§5.3, Figure 3).",
    "∀i. role[i] = role'[i] = Leader ∧ term[i] = term'[i] ⇒ log[i] is a prefix of log'[i]",
    _leader_append_only,
)


# ---------------------------------------------------------------- auxiliary invariants


def _not_follower(v: V, i: int) -> Any:
    return v.role[i] != FOLLOWER


def _voted_for_self(v: V, o: Ops, i: int) -> Any:
    return o.all([o.implies(_not_follower(v, i), v.voted_for[i] == i),
                  o.implies(v.role[i] == CANDIDATE, v.votes_granted[i][i])])


def _granted_votes(v: V, o: Ops, i: int, j: int) -> Any:
    return o.implies(o.all([_not_follower(v, i), v.votes_granted[i][j]]), lambda: o.all([
        v.term[j] >= v.term[i],
        o.implies(v.term[j] == v.term[i], lambda: v.voted_for[j] == i)]))


def _disjoint_votes(v: V, o: Ops, i: int, k: int) -> Any:
    return o.implies(
        o.all([_not_follower(v, i), _not_follower(v, k), v.term[i] == v.term[k]]),
        lambda: o.all(o.not_(o.all([v.votes_granted[i][j], v.votes_granted[k][j]]))
                      for j in range(v.n)))


def _leader_votes(v: V, o: Ops, i: int) -> Any:
    # A leader was elected by a quorum (§5.2). The spec forgets the votes once it wins, so the
    # state keeps what is left of them: each voter voted for it in its term or has moved on to
    # a later one, and has given no vote of that term to anybody else (none counted by another
    # candidate of the term, none in flight).
    t = v.term[i]

    def voter(j: int) -> Any:
        elsewhere = o.any(
            [o.all([x != i, v.role[x] == CANDIDATE, v.term[x] == t, v.votes_granted[x][j]])
             for x in range(v.n)]
            + [o.all([m.present, m.kind == RVR, m.granted, m.src == j, m.dst != i, m.term == t])
               for m in v.network])
        return o.all([o.any([v.term[j] > t, o.all([v.term[j] == t, v.voted_for[j] == i])]),
                      o.not_(elsewhere)])

    return o.implies(v.role[i] == LEADER,
                     lambda: o.count(voter(j) for j in range(v.n)) >= v.n // 2 + 1)


def _supporters(v: V, o: Ops, c: int) -> Any:
    """How many servers have voted, or could still vote, for candidate c in its term."""
    t = v.term[c]

    def grant_in_flight(j: int) -> Any:
        return o.any(o.all([m.present, m.kind == RVR, m.granted, m.src == j, m.dst == c,
                            m.term == t]) for m in v.network)

    return o.count(o.any([v.votes_granted[c][j], grant_in_flight(j), v.term[j] < t,
                          o.all([v.term[j] == t, o.any([v.voted_for[j] == NONE,
                                                        v.voted_for[j] == c])])])
                   for j in range(v.n))


def _leader_blocks_rivals(v: V, o: Ops, leader: int, c: int) -> Any:
    # While a term has a leader, no other candidate of that term can still gather a quorum.
    return o.implies(o.all([v.role[leader] == LEADER, v.role[c] == CANDIDATE,
                            v.term[c] == v.term[leader]]),
                     lambda: _supporters(v, o, c) < v.n // 2 + 1)


def _is_grant(m: Any, o: Ops) -> Any:
    return o.all([m.kind == RVR, m.granted])


def _grant_message(v: V, o: Ops, m: Any) -> Any:
    # A granted vote in flight: its sender voted for its receiver in that term, or moved on.
    return o.implies(_is_grant(m, o), lambda: o.all(
        o.implies(m.src == x, o.all([
            v.term[x] >= m.term,
            o.implies(v.term[x] == m.term, v.voted_for[x] == m.dst)]))
        for x in range(v.n)))


def _grant_message_exclusive(v: V, o: Ops, m: Any) -> Any:
    # ... and no other candidate of that term has counted the same voter.
    return o.implies(_is_grant(m, o), lambda: o.all(
        o.implies(o.all([m.dst != k, _not_follower(v, k), v.term[k] == m.term, m.src == x]),
                  o.not_(v.votes_granted[k][x]))
        for k in range(v.n) for x in range(v.n)))


def _one_grant_per_term(v: V, o: Ops, m1: Any, m2: Any) -> Any:
    return o.implies(o.all([_is_grant(m1, o), _is_grant(m2, o), m1.src == m2.src,
                            m1.term == m2.term]), lambda: m1.dst == m2.dst)


def _message_term_bound(v: V, o: Ops, m: Any) -> Any:
    # Messages carry their sender's term at sending, and terms only grow (§5.1).
    return o.all(o.implies(m.src == x, m.term <= v.term[x]) for x in range(v.n))


# -- logs


def _log_terms_monotonic(v: V, o: Ops, i: int) -> Any:
    # A log's terms never decrease: a leader appends entries of its own term, the highest
    # in its log (§5.3, §5.4).
    return o.forall_upto(v.last_index[i] - 1, v.cap, lambda k: o.implies(
        o.all([v.known(i, k), v.known(i, k + 1)]), v.term_at(i, k) <= v.term_at_sym(i, k + 1)))


def _leader_has_its_entries(v: V, o: Ops, leader: int, i: int) -> Any:
    # Entries of term t were created by the leader of t, which still holds them (and, by Log
    # Matching, everything before them) while it leads.
    return o.implies(v.role[leader] == LEADER, lambda: o.forall_upto(v.last_index[i], v.cap,
                                                                     lambda k: (
        o.implies(o.all([v.known(i, k), v.term_at(i, k) == v.term[leader]]),
                  lambda: v.agree(leader, v, i, k)))))


def _leader_indexes(v: V, o: Ops, i: int) -> Any:
    return o.implies(v.role[i] == LEADER, lambda: o.all(
        o.all([v.next_index[i][j] <= v.last_index[i] + 1,
               v.match_index[i][j] <= v.last_index[i]]) for j in range(v.n)))


# -- AppendEntries in flight: index x of the message's log fragment is prev_index (of term
# prev_term) or prev_index+1+k (entry k).


def _snapshots(v: V) -> bool:
    """Whether v's states may hold snapshots: always for a concrete state, and for a symbolic
    one when its bounds say so (without, the formulas are exactly the snapshot-free ones)."""
    return bool(getattr(getattr(v, "bounds", None), "snapshots", True))


def _is_ae(v: V, m: Any, o: Ops) -> Any:
    """An AppendEntries — or an InstallSnapshot, which reads as an AppendEntries whose prev
    cell is the snapshot's last entry, with no entries and leader_commit 0 (§7)."""
    if _snapshots(v):
        return o.any([m.kind == AE, m.kind == IS])
    return m.kind == AE


def _term_is(v: V, o: Ops, x: int, idx: Any, t: Any) -> Any:
    """Entry idx of x's log has term t — read through x's snapshot, as the spec's own
    definitions do: a compacted entry's term is forgotten, so it is not contradicted."""
    if _snapshots(v):
        return o.any([idx < v.snapshot_index[x], v.term_at_sym(x, idx) == t])
    return v.term_at_sym(x, idx) == t


def _prev_cell(v: V, o: Ops, m: Any) -> tuple[Any, Any]:
    """(prev_index, prev_term) of an AppendEntries; of an InstallSnapshot, read as one
    (`_is_ae`), its last entry (last_index, last_term)."""
    if not _snapshots(v):
        return m.prev_index, m.prev_term
    return (o.ite(m.kind == IS, m.last_index, m.prev_index),
            o.ite(m.kind == IS, m.last_term, m.prev_term))


def _fragment(v: V, o: Ops, m: Any) -> list[tuple[Any, Any, Any, Any]]:
    """(index, term, value-or-None, present) for the prev cell and each entry slot."""
    prev, prev_term = _prev_cell(v, o, m)
    cells = [(prev, prev_term, None, prev >= 1)]
    for k in v.entry_slots(m):
        cells.append((prev + 1 + k, m.entry_term(k), m.entry_value(k), k < m.entry_count))
    return cells


def _ae_shape(v: V, o: Ops, m: Any) -> Any:
    # Entries carry terms ≤ the message's term, in non-decreasing order after prev_term.
    cells = _fragment(v, o, m)
    return o.implies(_is_ae(v, m, o), lambda: o.all([
        cells[0][1] <= m.term,
        *[o.implies(present, o.all([t <= m.term, t >= prev_t]))
          for (_, t, _, present), (_, prev_t, _, _) in zip(cells[1:], cells, strict=False)],
    ]))


def _ae_matches_sender(v: V, o: Ops, m: Any) -> Any:
    # While its sender still leads the message's term, the message is a slice of its log.
    def sender(x: int) -> Any:
        cells = _fragment(v, o, m)
        prev = cells[0][0]
        leads = o.all([m.src == x, v.term[x] == m.term, v.role[x] == LEADER])
        return o.implies(leads, lambda: o.all([
            prev + m.entry_count <= v.last_index[x], m.leader_commit <= v.commit_index[x],
            *[o.implies(o.all([present, idx >= 1]), o.all([
                _term_is(v, o, x, idx, t),
                *([] if val is None else [v.value_at_sym(x, idx) == val])]))
              for idx, t, val, present in cells]]))
    return o.implies(_is_ae(v, m, o), lambda: o.all(sender(x) for x in range(v.n)))


def _ae_entries_of_leader(v: V, o: Ops, m: Any) -> Any:
    # An entry in flight of the current leader's term is in that leader's log.
    def leader(x: int) -> Any:
        return o.implies(v.role[x] == LEADER, lambda: o.all(
            o.implies(o.all([present, idx >= 1, t == v.term[x]]), o.all([
                idx <= v.last_index[x], _term_is(v, o, x, idx, t),
                *([] if val is None else [v.value_at_sym(x, idx) == val])]))
            for idx, t, val, present in _fragment(v, o, m)))
    return o.implies(_is_ae(v, m, o), lambda: o.all(leader(x) for x in range(v.n)))


def _ae_committed(v: V, o: Ops, m: Any) -> Any:
    # What a message says is committed (indexes ≤ leader_commit it carries) agrees with every
    # server's committed prefix, and is in the log of every leader of a later term.
    def server(x: int) -> Any:
        return o.all(
            o.implies(o.all([present, idx >= 1, idx <= m.leader_commit]), o.all([
                o.implies(idx <= v.commit_index[x], _term_is(v, o, x, idx, t)),
                o.implies(o.all([v.role[x] == LEADER, v.term[x] > m.term]),
                          o.all([idx <= v.last_index[x], _term_is(v, o, x, idx, t)]))]))
            for idx, t, _, present in _fragment(v, o, m))
    return o.implies(_is_ae(v, m, o), lambda: o.all(server(x) for x in range(v.n)))


def _cells_agree(o: Ops, c: tuple[Any, Any, Any, Any], d: tuple[Any, Any, Any, Any]) -> Any:
    """Two present cells at the same index have the same term (and value where both carry
    one)."""
    (i1, t1, v1, p1), (i2, t2, v2, p2) = c, d
    same = [t1 == t2] + ([] if v1 is None or v2 is None else [v1 == v2])
    return o.implies(o.all([p1, p2, i1 >= 1, i1 == i2]), o.all(same))


def _ae_log_matching(v: V, o: Ops, m: Any) -> Any:
    # Log Matching for what is in flight (§5.3): where an AppendEntries and a log hold an entry
    # of the same index and term, they hold the same entries up to it.
    cells = _fragment(v, o, m)

    def server(x: int) -> Any:
        out = []
        for hi, (idx, t, val, present) in enumerate(cells):
            held = o.all([present, idx >= 1, idx <= v.last_index[x], v.known(x, idx),
                          v.term_at_sym(x, idx) == t])
            same = [idx2 <= v.last_index[x] for idx2, _, _, _ in cells[:hi]]
            same += [o.implies(o.all([p2, idx2 >= 1]), o.all([
                _term_is(v, o, x, idx2, t2),
                *([] if val2 is None else [v.value_at_sym(x, idx2) == val2])]))
                for idx2, t2, val2, p2 in cells[:hi]]
            if val is not None:
                same.append(v.value_at_sym(x, idx) == val)
            out.append(o.implies(held, o.all(same)))
        return o.all(out)

    return o.implies(_is_ae(v, m, o), lambda: o.all(server(x) for x in range(v.n)))


def _ae_pair_matching(v: V, o: Ops, m1: Any, m2: Any) -> Any:
    # ... and two AppendEntries holding an entry of the same index and term agree up to it.
    c1, c2 = _fragment(v, o, m1), _fragment(v, o, m2)
    out = []
    for a, (i1, t1, _, p1) in enumerate(c1):
        for b, (i2, t2, _, p2) in enumerate(c2):
            meet = o.all([p1, p2, i1 >= 1, i1 == i2, t1 == t2])
            out.append(o.implies(meet, o.all(
                [_cells_agree(o, x, y) for x in c1[:a + 1] for y in c2[:b + 1]])))
    return o.implies(o.all([_is_ae(v, m1, o), _is_ae(v, m2, o)]), lambda: o.all(out))


def _snapshot_committed(v: V, o: Ops, m: Any) -> Any:
    # An InstallSnapshot carries its sender's snapshot, a committed prefix (§7): its last
    # entry and its values agree with every committed prefix and are in every leader of its
    # term or a later one.
    def server(x: int) -> Any:
        def value(k: int) -> Any:  # (a thunk: a concrete message has only last_index values)
            return o.implies(k <= m.last_index, lambda: v.value_at(x, k) == m.values[k - 1])

        values = [value(k) for k in range(1, v.cap + 1)]
        entry = o.all([_term_is(v, o, x, m.last_index, m.last_term), *values])
        return o.all([
            o.implies(m.last_index <= v.commit_index[x], entry),
            o.implies(o.all([v.role[x] == LEADER, v.term[x] >= m.term]),
                      o.all([m.last_index <= v.last_index[x], entry]))])
    return o.implies(m.kind == IS, lambda: o.all(server(x) for x in range(v.n)))


def _success_reply_term(v: V, o: Ops, m: Any) -> Any:
    # A granted vote or a successful append answers a request of the receiver's own term then;
    # terms only grow (§5.1).
    return o.implies(o.any([o.all([m.kind == AER, m.success]),
                            o.all([m.kind == RVR, m.granted])]), o.all(
        o.implies(m.dst == x, m.term <= v.term[x]) for x in range(v.n)))


def _failed_reply(v: V, o: Ops, m: Any) -> Any:
    return o.implies(o.all([m.kind == AER, o.not_(m.success)]), m.match_index == 0)


def _aer_match(v: V, o: Ops, m: Any) -> Any:
    # A success reply in flight to the leader of its term acknowledges entries the leader has.
    return o.implies(o.all([m.kind == AER, m.success]), lambda: o.all(
        o.implies(o.all([m.dst == x, v.term[x] == m.term, v.role[x] == LEADER]),
                  m.match_index <= v.last_index[x])
        for x in range(v.n)))


def _leader_messages(v: V, o: Ops, m: Any) -> Any:
    # AppendEntries are sent, and success replies addressed, only by a leader; a candidate of
    # the same term was never leader of it (a term has one election per server, §5.2).
    return o.all([
        o.implies(o.all([_is_ae(v, m, o), m.src == x, v.term[x] == m.term]),
                  v.role[x] != CANDIDATE)
        for x in range(v.n)] + [
        o.implies(o.all([m.kind == AER, m.success, m.dst == x, v.term[x] == m.term]),
                  v.role[x] != CANDIDATE)
        for x in range(v.n)])


AUXILIARY: tuple[Invariant, ...] = (
    Invariant("VotedForSelf", "A candidate or leader voted for itself and counts its own vote "
              "(§5.2).", "∀i. role[i] ≠ Follower ⇒ voted_for[i] = i ∧ i ∈ votes_granted[i]",
              "server", _voted_for_self, True, frozenset({"volatile"})),
    Invariant("GrantedVotes", "A vote a candidate or leader counts was given to it in its term: "
              "the voter is in that term and voted for it, or has moved to a later term.",
              "∀i,j. role[i] ≠ Follower ∧ j ∈ votes_granted[i] ⇒ term[j] > term[i] ∨ (term[j] = "
              "term[i] ∧ voted_for[j] = i)", "ordered", _granted_votes, True,
              frozenset({"volatile"})),
    Invariant("DisjointVotes", "Two candidates or leaders of one term never count the same "
              "voter.", "∀i≠k. role[i],role[k] ≠ Follower ∧ term[i] = term[k] ⇒ votes_granted[i] ∩ "
              "votes_granted[k] = ∅", "pair", _disjoint_votes, True, frozenset({"volatile"})),
    Invariant("LeaderVotes", "A leader was elected by a quorum: each voter voted for it in "
              "its term or has moved to a later term, and gave no vote of that term to anybody "
              "else (§5.2).",
              "∀l. role[l] = Leader ⇒ |{j : (term[j] > term[l] ∨ (term[j] = term[l] ∧ voted_for[j] "
              "= l)) ∧ no other candidate of term[l] counts j ∧ no grant j→x≠l of term[l] in "
              "flight}| > n/2", "server", _leader_votes, True, frozenset({"volatile", "network"})),
    Invariant("LeaderBlocksRivals", "While a term has a leader, no other candidate of that term "
              "can still gather a quorum of votes.",
              "∀l,c. role[l] = Leader ∧ role[c] = Candidate ∧ term[c] = term[l] ⇒ |{j : j ∈ "
              "votes_granted[c] ∨ grant j→c in flight ∨ term[j] < term[c] ∨ (term[j] = term[c] ∧ "
              "voted_for[j] ∈ {null, c})}| ≤ n/2", "ordered", _leader_blocks_rivals, True,
              frozenset({"volatile", "network"})),
    Invariant("MessageTermBound", "No message carries a term above its sender's current term "
              "(§5.1: terms only grow).", "∀m ∈ network. m.term ≤ term[m.src]", "message",
              _message_term_bound, True, frozenset({"network"})),
    Invariant("GrantMessage", "A granted vote in flight was given by a voter that voted for the "
              "receiver in that term, or has moved on to a later term.",
              "∀m ∈ network. m granted ⇒ term[m.src] > m.term ∨ voted_for[m.src] = m.dst",
              "message", _grant_message, True, frozenset({"network"})),
    Invariant("GrantMessageExclusive", "A voter whose granted vote is in flight is not counted "
              "by another candidate or leader of that term.",
              "∀m ∈ network, k ≠ m.dst. m granted ∧ role[k] ≠ Follower ∧ term[k] = m.term ⇒ "
              "m.src ∉ votes_granted[k]", "message", _grant_message_exclusive, True,
              frozenset({"network", "volatile"})),
    Invariant("OneGrantPerTerm", "A voter's granted votes in flight of one term all go to the "
              "same candidate.", "∀m1,m2 ∈ network. granted, same src and term ⇒ same dst",
              "messages", _one_grant_per_term, True, frozenset({"network"})),
    Invariant("LogTermsMonotonic", "The terms in a log never decrease.",
              "∀i,k. log[i][k].term ≤ log[i][k+1].term", "server", _log_terms_monotonic, True),
    Invariant("LeaderHasItsEntries", "A leader holds every entry of its term, with all that "
              "precedes it.", "∀l,i,k. role[l] = Leader ∧ log[i][k].term = term[l] ⇒ "
              "log[l][1..k] = log[i][1..k]", "ordered", _leader_has_its_entries, True),
    Invariant("LeaderIndexes", "A leader's next_index and match_index stay within its log.",
              "∀i,j. role[i] = Leader ⇒ next_index[i][j] ≤ last_index[i] + 1 ∧ match_index[i][j] ≤ "
              "last_index[i]", "server", _leader_indexes, True, frozenset({"volatile"})),
    Invariant("AppendEntriesShape", "An AppendEntries in flight carries terms no greater than "
              "its own, in non-decreasing order.", "∀m ∈ AE. m.prev_term ≤ m.entries[0].term ≤ "
              "… ≤ m.term", "message", _ae_shape, True, frozenset({"network"})),
    Invariant("AppendEntriesMatchesSender", "While its sender leads the message's term, an "
              "AppendEntries in flight is a slice of the sender's log and its leader_commit is "
              "at most the sender's.", "∀m ∈ AE. role[m.src] = Leader ∧ term[m.src] = m.term ⇒ "
              "m ⊑ log[m.src] ∧ m.leader_commit ≤ commit_index[m.src]", "message",
              _ae_matches_sender, True, frozenset({"network"})),
    Invariant("AppendEntriesEntriesOfLeader", "An entry in flight of a leader's term is in that "
              "leader's log.", "∀m ∈ AE, l, x ∈ m. role[l] = Leader ∧ m[x].term = term[l] ⇒ "
              "log[l][x] = m[x]", "message", _ae_entries_of_leader, True,
              frozenset({"network"})),
    Invariant("AppendEntriesCommitted", "The entries an AppendEntries says are committed agree "
              "with every committed prefix and are in every leader of a later term.",
              "∀m ∈ AE, i, x ≤ m.leader_commit. (x ≤ commit_index[i] ∨ (role[i] = Leader ∧ "
              "term[i] > m.term)) ⇒ log[i][x] = m[x]", "message", _ae_committed, True,
              frozenset({"network"})),
    Invariant("LeaderMessagesNotFromCandidates", "No candidate has sent, or is owed a reply "
              "to, an AppendEntries of its own term.", "∀m ∈ AE. term[m.src] = m.term ⇒ "
              "role[m.src] ≠ Candidate; ∀m ∈ AER. m.success ∧ term[m.dst] = m.term ⇒ role[m.dst] ≠ "
              "Candidate",
              "message", _leader_messages, True, frozenset({"network"})),
    Invariant("SuccessReplyTermBound", "A granted vote or successful append in flight carries a "
              "term no greater than its receiver's.", "∀m ∈ RVR ∪ AER. m granted/success ⇒ "
              "m.term ≤ term[m.dst]", "message", _success_reply_term, True,
              frozenset({"network"})),
    Invariant("FailedReplyShape", "A failed AppendEntries reply carries match_index 0.",
              "∀m ∈ AER. ¬m.success ⇒ m.match_index = 0", "message", _failed_reply, True,
              frozenset({"network"})),
    Invariant("AppendReplyMatch", "A success reply to the leader of its term acknowledges "
              "only entries the leader has.", "∀m ∈ AER. m.success ∧ role[m.dst] = Leader ∧ "
              "term[m.dst] = m.term ⇒ m.match_index ≤ last_index[m.dst]", "message", _aer_match,
              True, frozenset({"network"})),
)

# Only with snapshots (without, there is no InstallSnapshot to say anything about).
SNAPSHOT_AUXILIARY: tuple[Invariant, ...] = (
    Invariant("InstallSnapshotCommitted", "An InstallSnapshot in flight carries a committed "
              "prefix: its last entry and values agree with every committed prefix and are in "
              "every leader of its term or later (§7).", "∀m ∈ IS, i. (m.last_index ≤ "
              "commit_index[i] ∨ (role[i] = Leader ∧ term[i] ≥ m.term)) ⇒ log[i][m.last_index]."
              "term = m.last_term ∧ values[i][1..m.last_index] = m.values", "message",
              _snapshot_committed, True, frozenset({"network"})),
)

# Only with logs of 2 entries or more (with one, they are vacuous: an AppendEntries then holds
# one cell of index ≥ 1).
LONG_LOG_AUXILIARY: tuple[Invariant, ...] = (
    Invariant("AppendEntriesLogMatching", "Where an AppendEntries in flight and a log hold an "
              "entry of the same index and term, they hold the same entries up to it (§5.3).",
              "∀m ∈ AE, i, x ∈ m. log[i][x].term = m[x].term ⇒ log[i][1..x] = m[..x]",
              "message", _ae_log_matching, True, frozenset({"network"})),
    Invariant("AppendEntriesPairMatching", "Two AppendEntries in flight holding an entry of the "
              "same index and term agree up to it.", "∀m1, m2 ∈ AE, x. m1[x].term = "
              "m2[x].term ⇒ m1[..x] = m2[..x]", "messages", _ae_pair_matching, True,
              frozenset({"network"})),
)

ALL: tuple[Invariant, ...] = SAFETY + AUXILIARY
BY_NAME: dict[str, Invariant] = {inv.name: inv for inv in ALL}
TRACEABLE: tuple[Invariant, ...] = tuple(inv for inv in SAFETY if not inv.needs)

__all__ = [
    "AE",
    "AER",
    "ALL",
    "AUXILIARY",
    "BY_NAME",
    "LEADER_APPEND_ONLY",
    "LONG_LOG_AUXILIARY",
    "SAFETY",
    "SNAPSHOT_AUXILIARY",
    "TRACEABLE",
    "Invariant",
    "TransitionInvariant",
]
