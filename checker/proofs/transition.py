"""The Raft spec's initial condition and transition relation, symbolically, in Z3.

Theory of operation
-------------------
Each action of `spec.raft_next` / `spec.raft_receive` is mirrored here as a function that
takes a symbolic pre-state and concrete parameters (server, peer, network slot, value) and
returns a `SymAction`: its guard and the successor as terms (`SymState.copy()` with the changed
variables rebound). `next_relation(pre, post)` is the disjunction over every action instance of
`guard ∧ post = successor` — the TLA+ reading of the spec's successor function, unrolled over
the bounded parameters, quantifier-free.

The network is a set of at most `max_messages` messages: a message is received from its slot,
and a message sent (or a reply) goes into the first free slot unless it is already in flight
(sending it again changes nothing, as in the spec). A step whose reply does not fit is not
enabled, as in the spec.

Covered: Timeout, Restart, ClientRequest, RequestVote, AppendEntries, Receive of every
message kind, Drop and Duplicate, every bug flag, and with `Config.snapshots` Compact and
InstallSnapshot (§7; logs stay indexed by absolute index, `checker.invariants.symbolic`).
tests/proofs shows that, on states the spec reaches, the successors Z3 allows are exactly the
spec's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import z3

from checker.invariants.symbolic import Bounds, Expr, SymMsg, SymState, empty_msg, ite_msg
from checker.invariants.view import AE, AER, CANDIDATE, FOLLOWER, IS, LEADER, NONE, RV, RVR
from spec.raft_types import Config


@dataclass
class SymAction:
    name: str
    server: int | None
    peer: int | None
    slot: int | None
    value: int | None
    guard: Expr
    post: SymState

    def label(self) -> str:
        if self.slot is not None:
            return f"{self.name}(slot {self.slot})"
        if self.name == "ClientRequest":
            return f"ClientRequest(s{self.server}, v{self.value})"
        if self.peer is not None:
            return f"{self.name}(s{self.server}→s{self.peer})"
        return f"{self.name}(s{self.server})"


def init(s: SymState) -> Expr:
    """Figure 2's first boot: followers in term 0, empty logs, no votes, nothing in flight."""
    b, n = s.bounds, s.n
    cs = [s.restarts == 0]
    for i in range(n):
        cs += [s.term[i] == 0, s.role[i] == FOLLOWER, s.voted_for[i] == NONE,
               s.commit_index[i] == 0, s.last_index[i] == 0]
        cs += [t == 0 for t in s.term_cells[i]] + [v == 0 for v in s.value_cells[i]]
        for j in range(n):
            cs += [z3.Not(s.votes_granted[i][j]), z3.Not(s.votes_responded[i][j]),
                   s.next_index[i][j] == 1, s.match_index[i][j] == 0]
    cs += [z3.Not(m.present) for m in s.network] + [s.domain()]
    del b
    return z3.And(cs)


def _msg(bounds: Bounds, kind: int, src: int, dst: int, term: Expr, **fields: Expr) -> SymMsg:
    """A message to put in flight: its fields by their spec names (`SymMsg.build`)."""
    return SymMsg.build(bounds.max_log, kind, src=src, dst=dst, term=term, **fields)


def _count_present(msgs: list[SymMsg]) -> Expr:
    return z3.Sum([z3.If(m.present, 1, 0) for m in msgs])


def _add(msgs: list[SymMsg], m: SymMsg, capacity: int) -> tuple[list[SymMsg], Expr, Expr]:
    """The network with m added (a set), whether m was already in flight, and whether the
    step fits within `capacity`."""
    already = z3.Or([old.same(m) for old in msgs])
    out = []
    for t, old in enumerate(msgs):
        first_free = z3.And(z3.Not(old.present), *[u.present for u in msgs[:t]])
        out.append(ite_msg(z3.And(z3.Not(already), first_free), m, old))
    return out, already, z3.Or(already, _count_present(msgs) < capacity)


def _max(x: Expr, y: Expr) -> Expr:
    return z3.If(x >= y, x, y)


def _min(x: Expr, y: Expr) -> Expr:
    return z3.If(x <= y, x, y)


# ---------------------------------------------------------------- server-local actions


def timeout(s: SymState, cfg: Config, i: int) -> SymAction:
    p = s.copy()
    p.term[i] = s.term[i] + 1
    p.role[i] = z3.IntVal(CANDIDATE)
    p.voted_for[i] = z3.IntVal(i)
    p.votes_responded[i] = [z3.BoolVal(j == i) for j in range(s.n)]
    p.votes_granted[i] = [z3.BoolVal(j == i) for j in range(s.n)]
    guard = z3.And(s.role[i] != LEADER, s.term[i] < cfg.max_term)
    return SymAction("Timeout", i, None, None, None, guard, p)


def restart(s: SymState, cfg: Config, i: int) -> SymAction:
    p = s.copy()
    p.role[i] = z3.IntVal(FOLLOWER)
    if cfg.has_bug("unpersisted-vote"):
        p.voted_for[i] = z3.IntVal(NONE)
    p.commit_index[i] = s.snapshot_index[i]  # the state machine is rebuilt from the snapshot (§7)
    p.votes_responded[i] = [z3.BoolVal(False)] * s.n
    p.votes_granted[i] = [z3.BoolVal(False)] * s.n
    p.next_index[i] = [z3.IntVal(1)] * s.n
    p.match_index[i] = [z3.IntVal(0)] * s.n
    p.restarts = s.restarts + 1
    guard = s.restarts < cfg.max_restarts
    if not cfg.has_bug("unpersisted-vote"):
        # A follower with nothing volatile to lose does not restart (the spec drops that step:
        # any behaviour through it is the same behaviour without it).
        guard = z3.And(guard, z3.Not(z3.And(s.role[i] == FOLLOWER,
                                            s.commit_index[i] == s.snapshot_index[i])))
    return SymAction("Restart", i, None, None, None, guard, p)


def client_request(s: SymState, cfg: Config, i: int, v: int) -> SymAction:
    p = s.copy()
    new = s.last_index[i] + 1
    cells = range(1, s.cap + 1)
    p.term_cells[i] = [z3.If(new == k, s.term[i], s.term_cells[i][k - 1]) for k in cells]
    p.value_cells[i] = [z3.If(new == k, v, s.value_cells[i][k - 1]) for k in cells]
    p.last_index[i] = new
    guard = z3.And(s.role[i] == LEADER, s.last_index[i] < cfg.max_log)
    return SymAction("ClientRequest", i, None, None, v, guard, p)


def compact(s: SymState, cfg: Config, i: int) -> SymAction:
    """§7: the committed prefix becomes the snapshot; the terms before its last entry are
    forgotten (their values stay, as the snapshot's state machine)."""
    p = s.copy()
    upto = s.commit_index[i]
    p.snapshot_index[i] = upto
    p.term_cells[i] = [z3.If(k < upto, 0, s.term_cells[i][k - 1]) for k in range(1, s.cap + 1)]
    # The spec's compact needs commit_index ≤ last_index (CommitIndexInLog, true of reachable
    # states; it fails on others): a state that breaks it has no Compact step here.
    guard = z3.And(upto > s.snapshot_index[i], upto <= s.last_index[i])
    return SymAction("Compact", i, None, None, None, guard, p)


def _send(s: SymState, cfg: Config, name: str, i: int, j: int, guard: Expr,
          m: SymMsg) -> SymAction:
    p = s.copy()
    p.network, already, fits = _add(s.network, m, cfg.max_messages)
    # Sending a message already in flight is not a step (the network is a set).
    return SymAction(name, i, j, None, None, z3.And(guard, z3.Not(already), fits), p)


def request_vote(s: SymState, cfg: Config, i: int, j: int) -> SymAction:
    m = _msg(s.bounds, RV, i, j, s.term[i], last_log_index=s.last_index[i],
             last_log_term=s.last_term(i))
    guard = z3.And(s.role[i] == CANDIDATE, z3.Not(s.votes_responded[i][j]))
    return _send(s, cfg, "RequestVote", i, j, guard, m)


def append_entries(s: SymState, cfg: Config, i: int, j: int) -> SymAction:
    prev = s.next_index[i][j] - 1
    count = s.last_index[i] - prev
    entry_terms = [z3.If(k < count, s.term_at_sym(i, prev + 1 + k), 0) for k in range(s.cap)]
    entry_values = [z3.If(k < count, s.value_at_sym(i, prev + 1 + k), 0) for k in range(s.cap)]
    m = _msg(s.bounds, AE, i, j, s.term[i], prev_index=prev, prev_term=s.term_at_sym(i, prev),
             leader_commit=s.commit_index[i], entry_count=count, entry_terms=entry_terms,
             entry_values=entry_values)
    # The spec asserts next_index ≤ last_index + 1 (it holds on reachable states); here a state
    # that breaks it has no AppendEntries step, so the assertion's failure cannot be hidden in
    # a counterexample (LeaderIndexes is one of the auxiliary invariants).
    guard = z3.And(s.role[i] == LEADER, prev <= s.last_index[i])
    if cfg.snapshots:  # the entry before next_index was compacted: InstallSnapshot instead
        guard = z3.And(guard, s.next_index[i][j] > s.snapshot_index[i])
    return _send(s, cfg, "AppendEntries", i, j, guard, m)


def install_snapshot(s: SymState, cfg: Config, i: int, j: int) -> SymAction:
    """§7: a leader whose log no longer holds the entry before next_index[j] sends its
    snapshot: its last index and term, and the values of entries 1..index."""
    snapshot_index = s.snapshot_index[i]
    values = [z3.If(k < snapshot_index, s.value_cells[i][k], 0) for k in range(s.cap)]
    m = _msg(s.bounds, IS, i, j, s.term[i], last_index=snapshot_index,
             last_term=s.term_at_sym(i, snapshot_index), values=values)
    guard = z3.And(s.role[i] == LEADER, snapshot_index >= 1, s.next_index[i][j] <= snapshot_index)
    return _send(s, cfg, "InstallSnapshot", i, j, guard, m)


# ---------------------------------------------------------------- receiving


def _adopt_term(p: SymState, cfg: Config, i: int, term: Expr) -> None:
    """§5.1: a higher term is adopted, the vote cleared, and the server becomes a follower."""
    higher = term > p.term[i]
    stay = p.role[i] == LEADER if cfg.has_bug("no-step-down") else z3.BoolVal(False)
    p.voted_for[i] = z3.If(higher, NONE, p.voted_for[i])
    p.term[i] = z3.If(higher, term, p.term[i])
    _become_follower(p, i, z3.And(higher, z3.Not(stay)))


def _become_follower(p: SymState, i: int, when: Expr) -> None:
    """`spec.raft_receive.become_follower` under a condition: follower, and the candidate and
    leader variables back to their initial values."""
    p.role[i] = z3.If(when, FOLLOWER, p.role[i])
    p.votes_responded[i] = [z3.If(when, False, x) for x in p.votes_responded[i]]
    p.votes_granted[i] = [z3.If(when, False, x) for x in p.votes_granted[i]]
    p.next_index[i] = [z3.If(when, 1, x) for x in p.next_index[i]]
    p.match_index[i] = [z3.If(when, 0, x) for x in p.match_index[i]]


def _on_request_vote(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> SymMsg:
    log_ok = z3.Or(m.last_log_term > p.last_term(i),
                   z3.And(m.last_log_term == p.last_term(i), m.last_log_index >= p.last_index[i]))
    if cfg.has_bug("vote-without-log-check"):
        log_ok = z3.BoolVal(True)
    grant = z3.And(m.term == p.term[i], log_ok,
                   z3.Or(p.voted_for[i] == NONE, p.voted_for[i] == j))
    p.voted_for[i] = z3.If(grant, j, p.voted_for[i])
    return _msg(p.bounds, RVR, i, j, p.term[i], granted=grant)


def _on_request_vote_reply(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> None:
    counts = z3.And(m.term == p.term[i], p.role[i] == CANDIDATE)
    responded, granted = p.votes_responded[i], p.votes_granted[i]
    p.votes_responded[i] = [z3.If(z3.And(counts, x == j), True, responded[x]) for x in range(p.n)]
    p.votes_granted[i] = [z3.If(z3.And(counts, x == j), z3.Or(granted[x], m.granted), granted[x])
                          for x in range(p.n)]
    votes = z3.Sum([z3.If(g, 1, 0) for g in p.votes_granted[i]])
    wins = z3.And(counts, votes >= cfg.quorum)
    p.role[i] = z3.If(wins, LEADER, p.role[i])
    p.votes_responded[i] = [z3.If(wins, False, x) for x in p.votes_responded[i]]
    p.votes_granted[i] = [z3.If(wins, False, x) for x in p.votes_granted[i]]
    p.next_index[i] = [z3.If(wins, p.last_index[i] + 1, x) for x in p.next_index[i]]
    p.match_index[i] = [z3.If(wins, 0, x) for x in p.match_index[i]]


def _on_append_entries(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> SymMsg:
    term, role, last = p.term[i], p.role[i], p.last_index[i]
    current = m.term >= term
    # A candidate that hears from a leader of its term steps down (§5.2); a leader (only with a
    # bug: two leaders in a term) refuses.
    _become_follower(p, i, z3.And(current, role == CANDIDATE))
    prev, count, snapshot_index = m.prev_index, m.entry_count, p.snapshot_index[i]
    # §7: entries up to our snapshot are committed, so they match: a message whose prefix
    # reaches into the snapshot is checked from the snapshot on (all of it inside: nothing to do
    # but acknowledge).
    # (without snapshots these terms are left out, so the relation is the snapshot-free one)
    prev_ok = z3.And(prev <= last, p.term_at_sym(i, prev) == m.prev_term)
    if cfg.snapshots:
        prev_ok = z3.Or(prev < snapshot_index, prev_ok)
    success = z3.And(current, role != LEADER, prev_ok)
    inside = prev + count < snapshot_index if cfg.snapshots else z3.BoolVal(False)

    def entry(x: int, field: list[Expr]) -> Expr:  # the message's entry at absolute index x
        out: Expr = z3.IntVal(0)
        for k in range(p.cap):
            out = z3.If(x - prev - 1 == k, field[k], out)
        return out

    old_t, old_v = p.term_cells[i], p.value_cells[i]
    if cfg.has_bug("stale-append-truncates"):
        replace = [z3.BoolVal(True)] * p.cap  # keep 1..prev, then exactly the entries
        keep_upto = _max(prev, snapshot_index) if cfg.snapshots else prev
        new_last = prev + count
    else:
        # Figure 2, rule 3: only a conflicting entry (same index, other term) and all that
        # follow it are deleted; rule 4: entries not yet in the log are appended.
        conflict = [z3.And(k < count, z3.Or(prev + 1 + k > last,
                                            p.term_at_sym(i, prev + 1 + k) != m.entry_terms[k]))
                    for k in range(p.cap)]
        if cfg.snapshots:  # entries inside our snapshot are committed: they match (§7)
            conflict = [z3.And(c, prev + 1 + k > snapshot_index) for k, c in enumerate(conflict)]
        has_conflict = z3.Or(conflict)
        first: Expr = z3.IntVal(p.cap)
        for k in range(p.cap - 1, -1, -1):
            first = z3.If(conflict[k], k, first)
        replace = [has_conflict] * p.cap
        keep_upto = prev + first
        new_last = z3.If(has_conflict, prev + count, last)
    new_t, new_v = [], []
    for x in range(1, p.cap + 1):
        fresh = z3.And(replace[x - 1], x > keep_upto)
        in_message = x <= prev + count
        new_t.append(z3.If(fresh, z3.If(in_message, entry(x, m.entry_terms), 0), old_t[x - 1]))
        new_v.append(z3.If(fresh, z3.If(in_message, entry(x, m.entry_values), 0), old_v[x - 1]))
    changes = z3.And(success, z3.Not(inside)) if cfg.snapshots else success
    p.term_cells[i] = [z3.If(changes, a, b) for a, b in zip(new_t, old_t, strict=True)]
    p.value_cells[i] = [z3.If(changes, a, b) for a, b in zip(new_v, old_v, strict=True)]
    p.last_index[i] = z3.If(changes, new_last, last)
    last_new = prev + count
    commit = p.commit_index[i]
    raised = z3.If(m.leader_commit > commit,
                   _max(commit, _min(m.leader_commit, last_new)), commit)
    p.commit_index[i] = z3.If(changes, raised, commit)
    return _msg(p.bounds, AER, i, j, term, match_index=z3.If(success, last_new, 0),
                success=success)


def _on_append_entries_reply(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> None:
    counts = z3.And(m.term == p.term[i], p.role[i] == LEADER)
    ok = z3.And(counts, m.success)
    match = _max(p.match_index[i][j], m.match_index)
    p.match_index[i] = [z3.If(z3.And(ok, x == j), match, p.match_index[i][x]) for x in range(p.n)]
    fail_next = _max(p.next_index[i][j] - 1, 1)
    p.next_index[i] = [z3.If(z3.And(counts, x == j), z3.If(m.success, match + 1, fail_next),
                             p.next_index[i][x])
                       for x in range(p.n)]
    # §5.3/§5.4.2: commit the largest index replicated on a majority whose entry is of the
    # leader's term (the figure8-commit bug drops that last condition).
    commit = p.commit_index[i]
    for idx in range(1, p.cap + 1):
        replicas = 1 + z3.Sum([z3.If(p.match_index[i][x] >= idx, 1, 0)
                               for x in range(p.n) if x != i])
        own_term = (z3.BoolVal(True) if cfg.has_bug("figure8-commit")
                    else p.term_cells[i][idx - 1] == p.term[i])
        advance = z3.And(ok, idx <= p.last_index[i], idx > p.commit_index[i],
                         replicas >= cfg.quorum, own_term)
        commit = z3.If(advance, idx, commit)
    p.commit_index[i] = commit


def _on_install_snapshot(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> SymMsg:
    """§7, InstallSnapshot receiver: a snapshot beyond ours replaces the log up to its last
    entry (what follows is kept if the log has that entry, else discarded) and commits it."""
    term, role, last, snapshot_index = p.term[i], p.role[i], p.last_index[i], p.snapshot_index[i]
    current = m.term >= term
    _become_follower(p, i, z3.And(current, role == CANDIDATE))
    ok = z3.And(current, role != LEADER)
    last_index, last_term = m.last_index, m.last_term  # the snapshot's last entry
    install = z3.And(ok, last_index > snapshot_index)
    has_last = z3.And(last_index <= last, p.term_at_sym(i, last_index) == last_term)
    old_t, old_v = p.term_cells[i], p.value_cells[i]
    new_t = [z3.If(x < last_index, 0, z3.If(x == last_index, last_term,
                                           z3.If(has_last, old_t[x - 1], 0)))
             for x in range(1, p.cap + 1)]
    new_v = [z3.If(x <= last_index, m.values[x - 1], z3.If(has_last, old_v[x - 1], 0))
             for x in range(1, p.cap + 1)]
    p.term_cells[i] = [z3.If(install, a, b) for a, b in zip(new_t, old_t, strict=True)]
    p.value_cells[i] = [z3.If(install, a, b) for a, b in zip(new_v, old_v, strict=True)]
    p.snapshot_index[i] = z3.If(install, last_index, snapshot_index)
    p.last_index[i] = z3.If(install, z3.If(has_last, last, last_index), last)
    p.commit_index[i] = z3.If(install, _max(p.commit_index[i], last_index), p.commit_index[i])
    # (the reply is an AppendEntriesReply, as in the spec)
    return _msg(p.bounds, AER, i, j, term, match_index=z3.If(ok, last_index, 0), success=ok)


def receive(s: SymState, cfg: Config, slot: int, kind: int, i: int, j: int, *,
            keep: bool) -> SymAction:
    m = s.network[slot]
    p = s.copy()
    if not keep:
        p.network[slot] = empty_msg(s.cap)
    _adopt_term(p, cfg, i, m.term)
    reply: SymMsg | None = None
    if kind == RV:
        reply = _on_request_vote(p, cfg, m, i, j)
    elif kind == RVR:
        _on_request_vote_reply(p, cfg, m, i, j)
    elif kind == AE:
        reply = _on_append_entries(p, cfg, m, i, j)
    elif kind == IS:
        reply = _on_install_snapshot(p, cfg, m, i, j)
    else:
        _on_append_entries_reply(p, cfg, m, i, j)
    guard = z3.And(m.present, m.kind == kind, m.dst == i, m.src == j)
    if reply is not None:
        p.network, _, fits = _add(p.network, reply, cfg.max_messages)
        guard = z3.And(guard, fits)
    return SymAction("Duplicate" if keep else "Receive", i, j, slot, None, guard, p)


def drop(s: SymState, slot: int) -> SymAction:
    p = s.copy()
    p.network[slot] = empty_msg(s.cap)
    return SymAction("Drop", None, None, slot, None, s.network[slot].present, p)


def actions(s: SymState, cfg: Config) -> Iterator[SymAction]:
    """Every action instance (the spec's `successors`, unrolled over its parameters)."""
    ids = range(s.n)
    kinds = (RV, RVR, AE, AER, IS) if cfg.snapshots else (RV, RVR, AE, AER)
    for i in ids:
        yield timeout(s, cfg, i)
        yield restart(s, cfg, i)
        if cfg.snapshots:
            yield compact(s, cfg, i)
        for v in range(1, cfg.values + 1):
            yield client_request(s, cfg, i, v)
        for j in ids:
            if j != i:
                yield request_vote(s, cfg, i, j)
                yield append_entries(s, cfg, i, j)
                if cfg.snapshots:
                    yield install_snapshot(s, cfg, i, j)
    for slot in range(len(s.network)):
        for kind in kinds:
            for i in ids:
                for j in ids:
                    if i != j:
                        yield receive(s, cfg, slot, kind, i, j, keep=False)
                        if cfg.duplicates:
                            yield receive(s, cfg, slot, kind, i, j, keep=True)
        if cfg.drops:
            yield drop(s, slot)


def next_relation(pre: SymState, post: SymState, cfg: Config) -> tuple[Expr, list[SymAction]]:
    """Next(pre, post) and the action instances it is the disjunction of."""
    acts = list(actions(pre, cfg))
    return z3.Or([z3.And(a.guard, post.equals(a.post)) for a in acts]), acts
