"""Invariants over the spec's variables and the ghost (history) variables of
`checker.proofs.ghost` — the lemmas §5.4.3's argument for Leader Completeness and State Machine
Safety rests on. Each body is written once over a view carrying `.ghost` (a `SymState` with a
symbolic ghost, or a `GhostView`) and an `Ops` backend, like `checker.invariants.raft`.

Why they are sound: they are proved inductive for the *instrumented* system (spec + ghost,
`ghost.update`), whose projection onto the spec's variables is the spec's own transition
relation; every reachable spec state is the projection of a reachable instrumented state, so
any consequence of them over the spec's variables (Leader Completeness, State Machine Safety)
holds in every reachable spec state.
"""

from __future__ import annotations

from typing import Any

from checker.invariants.ops import Ops
from checker.invariants.raft import Invariant, _fragment, _is_ae, _prev_cell, _snapshots, _term_is
from checker.invariants.view import AE, AER, CANDIDATE, FOLLOWER, IS, LEADER, NONE, RV, RVR
from checker.proofs.ghost import pick

V = Any
GHOST = frozenset({"ghost", "network", "volatile"})


def _terms(v: V) -> range:
    return range(1, v.bounds.max_term + 1)


def _idx(v: V) -> range:
    return range(1, v.bounds.max_log + 1)


def _quorum(v: V) -> int:
    return int(v.n) // 2 + 1


def _lex_ge(o: Ops, t1: Any, i1: Any, t2: Any, i2: Any) -> Any:
    """(t1, i1) is at least as up-to-date as (t2, i2) (§5.4.1)."""
    return o.any([t1 > t2, o.all([t1 == t2, i1 >= i2])])


def _vote_of(v: V, o: Ops, j: int, term: Any) -> Any:
    return pick(o, v.ghost.vote[j], term, NONE)


def _by_src(v: V, o: Ops, m: Any, f: Any) -> Any:
    """f(x) for the server x = m.src (m.src may be symbolic)."""
    return o.all(o.implies(m.src == x, f(x, m)) for x in range(v.n))


def _present(m: Any, o: Ops) -> Any:
    return m.present


# ---------------------------------------------------------------- votes


def _ghost_votes(v: V, o: Ops) -> Any:
    g, cs = v.ghost, []
    for j in range(v.n):
        cs.append(o.implies(v.role[j] != FOLLOWER, v.term[j] >= 1))
        # A candidate's log is the one it stood with (it steps down before accepting entries).
        cs.append(o.implies(v.role[j] == CANDIDATE, o.all([
            v.last_term(j) == pick(o, g.voter_last_term[j], v.term[j]),
            v.last_index[j] == pick(o, g.voter_last_index[j], v.term[j])])))
        for t in _terms(v):
            cs.append(o.implies(t > v.term[j], g.vote[j][t] == NONE))
            cs.append(o.implies(v.term[j] == t, g.vote[j][t] == v.voted_for[j]))
            # A vote is for a log of a term no later than the vote's, and for a candidate that
            # voted for itself in that term.
            cs.append(o.implies(g.vote[j][t] != NONE, o.all([
                g.voter_last_term[j][t] <= t,
                (g.voter_last_index[j][t] == 0) == (g.voter_last_term[j][t] == 0),
                *[o.implies(g.vote[j][t] == c, g.vote[c][t] == c) for c in range(v.n)]])))
        for c in range(v.n):
            cs.append(o.implies(o.all([v.role[c] != FOLLOWER, v.votes_granted[c][j]]),
                                _vote_of(v, o, j, v.term[c]) == c))
    for m in v.network:
        cs.append(o.implies(o.all([_present(m, o), m.kind == RV]), _by_src(
            v, o, m, lambda x, m: _vote_of(v, o, x, m.term) == x)))
        cs.append(o.implies(o.all([_present(m, o), m.kind == RVR, m.granted]),
                            _by_src(v, o, m,
                                                lambda x, m: _vote_of(v, o, x, m.term) == m.dst)))
    return o.all(cs)


def _elected(v: V, o: Ops, who: Any, term: Any) -> Any:
    return o.count(_vote_of(v, o, j, term) == who for j in range(v.n)) >= _quorum(v)


def _ghost_leader_quorum(v: V, o: Ops) -> Any:
    cs = [o.implies(v.role[x] == LEADER, _elected(v, o, x, v.term[x]))
          for x in range(v.n)]
    cs += [o.implies(o.all([_present(m, o), _is_ae(v, m, o)]),
                     o.all([_elected(v, o, m.src, m.term), _no_prev_iff_term_0(v, o, m)]))
           for m in v.network]
    return o.all(cs)


def _no_prev_iff_term_0(v: V, o: Ops, m: Any) -> Any:
    prev, prev_term = _prev_cell(v, o, m)
    return (prev == 0) == (prev_term == 0)


def _entry_terms_elected(v: V, o: Ops) -> Any:
    # An entry of term T exists only if a leader was elected in T (it created it, §5.3).
    cs = []
    for j in range(v.n):
        for q in _idx(v):
            cs.append(o.implies(v.known(j, q), _someone_elected(
                v, o, v.term_at(j, q))))
    for m in v.network:
        def cells(m: Any = m) -> Any:
            return o.all(o.implies(o.all([present, idx >= 1]), _someone_elected(v, o, term))
                         for idx, term, _, present in _fragment(v, o, m))

        cs.append(o.implies(o.all([_present(m, o), _is_ae(v, m, o)]), cells))
    return o.all(cs)


def _someone_elected(v: V, o: Ops, term: Any) -> Any:
    # ... and has won: a candidate still counting votes in that term created nothing yet.
    return o.any(o.all([_elected(v, o, c, term),
                        o.not_(o.all([v.role[c] == CANDIDATE, v.term[c] == term]))])
                 for c in range(v.n))


def _last_cell_term(v: V, o: Ops, m: Any) -> tuple[Any, Any]:
    """(term, index) of the last log position an AppendEntries describes."""
    prev, t = _prev_cell(v, o, m)
    i = prev
    for k in v.entry_slots(m):
        t = o.ite(k < m.entry_count, m.entry_term(k), t)
        i = o.ite(k < m.entry_count, prev + 1 + k, i)
    return t, i


def _voter_log_bound(v: V, o: Ops) -> Any:
    # A candidate's own vote records its log at candidacy (what its RequestVotes carry); a
    # vote for it was for a log no more up-to-date than that (§5.4.1); its log as candidate
    # or leader, and the end of each AppendEntries it sends, are at least that up-to-date.
    g, cs = v.ghost, []
    for c in range(v.n):
        for t in _terms(v):
            for j in range(v.n):
                cs.append(o.implies(g.vote[j][t] == c, _lex_ge(
                    o, g.voter_last_term[c][t], g.voter_last_index[c][t],
                    g.voter_last_term[j][t], g.voter_last_index[j][t])))
        cs.append(o.implies(v.role[c] != FOLLOWER, _lex_ge(
            o, v.last_term(c), v.last_index[c], pick(o, g.voter_last_term[c], v.term[c]),
            pick(o, g.voter_last_index[c], v.term[c]))))
    def voter_log(x: int, term: Any) -> tuple[Any, Any]:
        return pick(o, g.voter_last_term[x], term), pick(o, g.voter_last_index[x], term)

    for m in v.network:
        cs.append(o.implies(o.all([_present(m, o), m.kind == RV]), _by_src(
            v, o, m, lambda x, m: o.all([m.last_log_term == voter_log(x, m.term)[0],
                                         m.last_log_index == voter_log(x, m.term)[1]]))))
        lt, li = _last_cell_term(v, o, m)
        cs.append(o.implies(o.all([_present(m, o), _is_ae(v, m, o)]), _by_src(
            v, o, m, lambda x, m, lt=lt, li=li: _lex_ge(o, lt, li, *voter_log(x, m.term)))))
    return o.all(cs)


# ---------------------------------------------------------------- commitment


def _stable(v: V, o: Ops, k: int, t: Any, c: Any) -> Any:
    """What holds of an entry (k, t) that is safe from term c on: an entry of a term after c
    lies at index ≥ k, and a log with an entry of term ≥ c at an index ≥ k holds (k, t) (it
    descends from a leader of term ≥ c, which holds it); every leader of term ≥ c holds it;
    an AppendEntries of term ≥ c agrees with it at k."""
    cs = []
    for j in range(v.n):
        for q in _idx(v):
            cs.append(o.implies(o.all([v.known(j, q), v.term_at(j, q) > c]), q >= k))
            if q >= k:
                cs.append(o.implies(o.all([v.known(j, q), v.term_at(j, q) >= c]),
                                    _has(v, o, j, k, t)))
        cs.append(o.implies(o.all([v.role[j] == LEADER, v.term[j] >= c]), _has(v, o, j, k, t)))
    for m in v.network:
        def cells(m: Any = m) -> Any:
            out = []
            for idx, term, _, present in _fragment(v, o, m):
                out.append(o.implies(o.all([present, term > c]), idx >= k))
                out.append(o.implies(o.all([present, idx == k]), term == t))
            return o.all(out)

        cs.append(o.implies(o.all([_present(m, o), _is_ae(v, m, o), m.term >= c]), cells))
    return o.all(cs)


def _has(v: V, o: Ops, j: int, k: int, t: Any) -> Any:
    """j's log holds entry (k, t) — read through j's snapshot (§7): a compacted entry's term
    is forgotten, so an entry inside the snapshot counts as held."""
    if not _snapshots(v):
        return o.all([v.known(j, k), v.term_at(j, k) == t])
    return o.all([k <= v.last_index[j], _term_is(v, o, j, k, t)])


def _committed_stable(v: V, o: Ops) -> Any:
    g = v.ghost
    return o.all(o.implies(g.committed_in[k - 1][t] >= 1,
                           o.all([g.committed_in[k - 1][t] >= t,
                                  _stable(v, o, k, t, g.committed_in[k - 1][t])]))
                 for k in _idx(v) for t in _terms(v))


def _holds_since(v: V, o: Ops, j: int, c: Any, k: int) -> Any:
    """j's log is at least as up-to-date as (c, k), and so was every log j had when it voted
    in a term after c."""
    g = v.ghost
    return o.all([_lex_ge(o, v.last_term(j), v.last_index[j], c, k)] + [
        o.implies(o.all([t > c, g.vote[j][t] != NONE]),
                  _lex_ge(o, g.voter_last_term[j][t], g.voter_last_index[j][t], c, k))
        for t in _terms(v)])


def _committed_on_quorum(v: V, o: Ops) -> Any:
    g = v.ghost
    return o.all(o.implies(g.committed_in[k - 1][t] >= 1, o.count(
        _holds_since(v, o, j, g.committed_in[k - 1][t], k) for j in range(v.n)) >= _quorum(v))
        for k in _idx(v) for t in _terms(v))


def _commit_covered(v: V, o: Ops) -> Any:
    g, cs = v.ghost, []
    for i in range(v.n):
        for k in _idx(v):
            def covered(i: int = i, k: int = k) -> Any:
                c = pick(o, g.committed_in[k - 1], v.term_at(i, k))
                return o.all([c >= 1, c <= v.term[i]])
            # (with snapshots: where the term is known; a compacted entry's is not)
            within = (k <= v.commit_index[i] if not _snapshots(v)
                      else o.all([k <= v.commit_index[i], v.known(i, k)]))
            cs.append(o.implies(within, covered))
    for m in v.network:
        def cells(m: Any = m) -> Any:
            out = []
            for idx, term, _, present in _fragment(v, o, m):
                for k in _idx(v):
                    c = pick(o, g.committed_in[k - 1], term)
                    out.append(o.implies(o.all([present, idx == k, k <= m.leader_commit]),
                                         o.all([c >= 1, c <= m.term])))
            return o.all(out)

        cs.append(o.implies(o.all([_present(m, o), m.kind == AE]), cells))
        if _snapshots(v):
            # An InstallSnapshot's last entry was committed, by a leader of its term or earlier.
            def last_cell(m: Any = m) -> Any:
                return o.all(o.implies(m.last_index == k, o.all([
                    pick(o, g.committed_in[k - 1], m.last_term) >= 1,
                    pick(o, g.committed_in[k - 1], m.last_term) <= m.term]))
                    for k in _idx(v))
            cs.append(o.implies(o.all([_present(m, o), m.kind == IS]), last_cell))
    return o.all(cs)


# ---------------------------------------------------------------- acknowledgements


def _acked(v: V, o: Ops, leader: int, x: int, upto: Any) -> Any:
    """Every entry of the leader's term up to `upto` is stable from that term on, and x holds
    it since then."""
    t = v.term[leader]
    return o.all(o.implies(o.all([q <= upto, v.known(leader, q), v.term_at(leader, q) == t]),
                           o.all([_holds_since(v, o, x, t, q),
                                              _stable(v, o, q, t, t)]))
                 for q in _idx(v))


def _match_history(v: V, o: Ops) -> Any:
    cs = []
    for leader in range(v.n):
        for x in range(v.n):
            if x != leader:
                cs.append(o.implies(v.role[leader] == LEADER,
                                    _acked(v, o, leader, x, v.match_index[leader][x])))
        for m in v.network:
            cs.append(o.implies(
                o.all([_present(m, o), m.kind == AER, m.success, m.dst == leader,
                       v.role[leader] == LEADER, m.term == v.term[leader]]),
                _by_src(v, o, m, lambda x, m, ld=leader: _acked(v, o, ld, x, m.match_index))))
    return o.all(cs)


def _committer_elected(v: V, o: Ops) -> Any:
    # Whoever committed an entry had won the election of the term it committed in (§5.3: only
    # a leader advances commit_index by counting replicas). With one-entry logs this follows
    # from EntryTermsElected (the entry is of that term); with longer logs an entry of an older
    # term is committed by a later leader.
    g = v.ghost
    return o.all(o.implies(g.committed_in[k - 1][t] >= 1,
                           _someone_elected(v, o, g.committed_in[k - 1][t]))
                 for k in _idx(v) for t in _terms(v))


def _inv(name: str, words: str, formula: str, body: Any) -> Invariant:
    return Invariant(name, words, formula, "state", body, True, GHOST)


# Only from max_log 2 on (with one-entry logs it is implied, see `_committer_elected`).
LONG_LOG_GHOST: tuple[Invariant, ...] = (
    Invariant("CommitterElected", "An entry was committed in term c only if some server won "
              "the election of c (§5.3).", "committed_in[k][t] = c ≥ 1 ⇒ ∃l. |{j : vote[j][c] = "
              "l}| > n/2", "state", _committer_elected, True, GHOST),
)

GHOST_INVARIANTS: tuple[Invariant, ...] = (
    _inv("GhostVotes", "The ghost vote record agrees with voted_for in the current term, records "
         "no vote in a later term, and covers every vote a candidate or leader counts or that "
         "is in flight.", "∀j,T. (T > term[j] ⇒ vote[j][T] = null) ∧ (T = term[j] ⇒ vote[j][T] "
         "= voted_for[j]); j ∈ votes_granted[c] ⇒ vote[j][term[c]] = c; grant j→c of T in flight ⇒ "
         "vote[j][T] = c", _ghost_votes),
    _inv("GhostLeaderQuorum", "A leader, and the sender of any AppendEntries, was voted for by "
         "a quorum in its term (§5.2).",
         "∀l. role[l] = Leader ⇒ |{j : vote[j][term[l]] = l}| > n/2; ∀m ∈ AE. |{j : "
         "vote[j][m.term] = m.src}| > n/2", _ghost_leader_quorum),
    _inv("EntryTermsElected", "An entry of term T, in a log or in flight, exists only if some "
         "server won an election in T (the leader of T created it, §5.3).",
         "log[i][k].term = T ∨ T ∈ AE cells ⇒ ∃c. |{j : vote[j][T] = c}| > n/2 ∧ ¬(role[c] = "
         "Candidate ∧ term[c] = T)", _entry_terms_elected),
    _inv("GhostVoterLog", "A candidate's vote for itself records its log at candidacy, which "
         "its RequestVotes carry; each vote for it was for a log no more up-to-date; its log "
         "while candidate or leader, and the end of each AppendEntries it sends, are at least "
         "as up-to-date (§5.4.1).", "vote[j][T] = c ⇒ voter_log[j][T] ≤ voter_log[c][T]; "
         "role[c] ≠ Follower ⇒ (last_term[c], last_index[c]) ≥ voter_log[c][term[c]]; ∀m ∈ RV. "
         "(m.last_log_term, m.last_log_index) = voter_log[m.src][m.term]; ∀m ∈ AE. last(m) ≥ "
         "voter_log[m.src][m.term]", _voter_log_bound),
    _inv("CommittedStable", "An entry committed in term c is in every log that has an entry "
         "of term ≥ c and in every leader of term ≥ c; AppendEntries of term ≥ c agree with it "
         "(§5.4.2).", "committed_in[k][t] = c ≥ 1 ⇒ c ≥ t; ∀j,q. log[j][q].term > c ⇒ q ≥ k; "
         "log[j][q].term ≥ c ∧ q ≥ k ⇒ log[j][k].term = t; role[l] = Leader ∧ term[l] ≥ c ⇒ "
         "log[l][k].term = t",
         _committed_stable),
    _inv("CommittedOnQuorum", "An entry committed in term c is held by a quorum, each member of "
         "which has a log ending in term ≥ c and voted after c only for such logs (§5.4.3).",
         "committed_in[k][t] = c ≥ 1 ⇒ |{j : last_term[j] ≥ c ∧ ∀T > c. vote[j][T] ≠ null ⇒ "
         "voter_log[j][T].term ≥ c}| > n/2", _committed_on_quorum),
    _inv("CommitCovered", "Every entry within a commit_index, or within the leader_commit of an "
         "AppendEntries, was committed by a leader of a term no later than the holder's.",
         "∀i, k ≤ commit_index[i]. 1 ≤ committed_in[k][log[i][k].term] ≤ term[i]",
         _commit_covered),
    _inv("MatchHistory", "An entry of a leader's term that a follower has acknowledged (its "
         "match_index or a success reply in flight) is stable from that term on, and the "
         "follower's log ends in that term or later, as did every log it voted for since.",
         "role[l] = Leader ∧ k ≤ match_index[l][x] ∧ log[l][k].term = term[l] ⇒ "
         "stable(k, term[l]) ∧ last_term[x] ≥ term[l] ∧ ∀T > term[l]. voter_log[x][T].term ≥ "
         "term[l]", _match_history),
)
