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
        cs += [s.cur_term[i] == 0, s.roles[i] == FOLLOWER, s.voted[i] == NONE,
               s.commits[i] == 0, s.lasts[i] == 0]
        cs += [t == 0 for t in s.lterm[i]] + [v == 0 for v in s.lval[i]]
        for j in range(n):
            cs += [z3.Not(s.grant[i][j]), z3.Not(s.resp[i][j]), s.nxt[i][j] == 1,
                   s.mtc[i][j] == 0]
    cs += [z3.Not(m.present) for m in s.messages] + [s.domain()]
    del b
    return z3.And(cs)


def _msg(bounds: Bounds, kind: int, src: int, dst: int, term: Expr, *, a: Expr = 0,
         b: Expr = 0, flag: Expr = False, c: Expr = 0, n: Expr = 0,
         ent_terms: list[Expr] | None = None, ent_values: list[Expr] | None = None) -> SymMsg:
    zeros = [z3.IntVal(0)] * bounds.max_log
    return SymMsg(
        z3.BoolVal(True),
        {"kind": z3.IntVal(kind), "src": z3.IntVal(src), "dst": z3.IntVal(dst), "term": term,
         "a": _int(a), "b": _int(b), "c": _int(c), "n": _int(n)},
        flag if isinstance(flag, z3.BoolRef) else z3.BoolVal(flag),
        ent_terms or zeros, ent_values or zeros,
    )


def _int(x: Expr) -> Expr:
    return z3.IntVal(x) if isinstance(x, int) else x


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
    p.cur_term[i] = s.cur_term[i] + 1
    p.roles[i] = z3.IntVal(CANDIDATE)
    p.voted[i] = z3.IntVal(i)
    p.resp[i] = [z3.BoolVal(j == i) for j in range(s.n)]
    p.grant[i] = [z3.BoolVal(j == i) for j in range(s.n)]
    guard = z3.And(s.roles[i] != LEADER, s.cur_term[i] < cfg.max_term)
    return SymAction("Timeout", i, None, None, None, guard, p)


def restart(s: SymState, cfg: Config, i: int) -> SymAction:
    p = s.copy()
    p.roles[i] = z3.IntVal(FOLLOWER)
    if cfg.has_bug("unpersisted-vote"):
        p.voted[i] = z3.IntVal(NONE)
    p.commits[i] = s.snaps[i]  # the state machine is rebuilt from the snapshot (§7)
    p.resp[i] = [z3.BoolVal(False)] * s.n
    p.grant[i] = [z3.BoolVal(False)] * s.n
    p.nxt[i] = [z3.IntVal(1)] * s.n
    p.mtc[i] = [z3.IntVal(0)] * s.n
    p.restarts = s.restarts + 1
    guard = s.restarts < cfg.max_restarts
    if not cfg.has_bug("unpersisted-vote"):
        # A follower with nothing volatile to lose does not restart (the spec drops that step:
        # any behaviour through it is the same behaviour without it).
        guard = z3.And(guard, z3.Not(z3.And(s.roles[i] == FOLLOWER,
                                            s.commits[i] == s.snaps[i])))
    return SymAction("Restart", i, None, None, None, guard, p)


def client_request(s: SymState, cfg: Config, i: int, v: int) -> SymAction:
    p = s.copy()
    new = s.lasts[i] + 1
    p.lterm[i] = [z3.If(new == k, s.cur_term[i], s.lterm[i][k - 1]) for k in range(1, s.cap + 1)]
    p.lval[i] = [z3.If(new == k, v, s.lval[i][k - 1]) for k in range(1, s.cap + 1)]
    p.lasts[i] = new
    guard = z3.And(s.roles[i] == LEADER, s.lasts[i] < cfg.max_log)
    return SymAction("ClientRequest", i, None, None, v, guard, p)


def compact(s: SymState, cfg: Config, i: int) -> SymAction:
    """§7: the committed prefix becomes the snapshot; the terms before its last entry are
    forgotten (their values stay, as the snapshot's state machine)."""
    p = s.copy()
    upto = s.commits[i]
    p.snaps[i] = upto
    p.lterm[i] = [z3.If(k < upto, 0, s.lterm[i][k - 1]) for k in range(1, s.cap + 1)]
    # The spec's compact needs commitIndex ≤ lastIndex (CommitIndexInLog, true of reachable
    # states; it fails on others): a state that breaks it has no Compact step here.
    guard = z3.And(upto > s.snaps[i], upto <= s.lasts[i])
    return SymAction("Compact", i, None, None, None, guard, p)


def _send(s: SymState, cfg: Config, name: str, i: int, j: int, guard: Expr,
          m: SymMsg) -> SymAction:
    p = s.copy()
    p.messages, already, fits = _add(s.messages, m, cfg.max_messages)
    # Sending a message already in flight is not a step (the network is a set).
    return SymAction(name, i, j, None, None, z3.And(guard, z3.Not(already), fits), p)


def request_vote(s: SymState, cfg: Config, i: int, j: int) -> SymAction:
    m = _msg(s.bounds, RV, i, j, s.cur_term[i], a=s.lasts[i], b=s.last_term(i))
    guard = z3.And(s.roles[i] == CANDIDATE, z3.Not(s.resp[i][j]))
    return _send(s, cfg, "RequestVote", i, j, guard, m)


def append_entries(s: SymState, cfg: Config, i: int, j: int) -> SymAction:
    prev = s.nxt[i][j] - 1
    count = s.lasts[i] - prev
    ent_terms = [z3.If(k < count, s.term_at_sym(i, prev + 1 + k), 0) for k in range(s.cap)]
    ent_values = [z3.If(k < count, s.value_at_sym(i, prev + 1 + k), 0) for k in range(s.cap)]
    m = _msg(s.bounds, AE, i, j, s.cur_term[i], a=prev, b=s.term_at_sym(i, prev), c=s.commits[i],
             n=count, ent_terms=ent_terms, ent_values=ent_values)
    # The spec asserts nextIndex ≤ lastIndex + 1 (it holds on reachable states); here a state
    # that breaks it has no AppendEntries step, so the assertion's failure cannot be hidden in
    # a counterexample (LeaderNextIndex is one of the auxiliary invariants).
    guard = z3.And(s.roles[i] == LEADER, prev <= s.lasts[i])
    if cfg.snapshots:  # the entry before nextIndex was compacted: InstallSnapshot instead
        guard = z3.And(guard, s.nxt[i][j] > s.snaps[i])
    return _send(s, cfg, "AppendEntries", i, j, guard, m)


def install_snapshot(s: SymState, cfg: Config, i: int, j: int) -> SymAction:
    """§7: a leader whose log no longer holds the entry before nextIndex[j] sends its
    snapshot: its last index and term, and the values of entries 1..index."""
    snap = s.snaps[i]
    values = [z3.If(k < snap, s.lval[i][k], 0) for k in range(s.cap)]
    m = _msg(s.bounds, IS, i, j, s.cur_term[i], a=snap, b=s.term_at_sym(i, snap),
             ent_values=values)
    guard = z3.And(s.roles[i] == LEADER, snap >= 1, s.nxt[i][j] <= snap)
    return _send(s, cfg, "InstallSnapshot", i, j, guard, m)


# ---------------------------------------------------------------- receiving


def _adopt_term(p: SymState, cfg: Config, i: int, term: Expr) -> None:
    """§5.1: a higher term is adopted, the vote cleared, and the server becomes a follower."""
    higher = term > p.cur_term[i]
    stay = p.roles[i] == LEADER if cfg.has_bug("no-step-down") else z3.BoolVal(False)
    p.voted[i] = z3.If(higher, NONE, p.voted[i])
    p.cur_term[i] = z3.If(higher, term, p.cur_term[i])
    _become_follower(p, i, z3.And(higher, z3.Not(stay)))


def _become_follower(p: SymState, i: int, when: Expr) -> None:
    """`spec.raft_receive.become_follower` under a condition: follower, and the candidate and
    leader variables back to their initial values."""
    p.roles[i] = z3.If(when, FOLLOWER, p.roles[i])
    p.resp[i] = [z3.If(when, False, x) for x in p.resp[i]]
    p.grant[i] = [z3.If(when, False, x) for x in p.grant[i]]
    p.nxt[i] = [z3.If(when, 1, x) for x in p.nxt[i]]
    p.mtc[i] = [z3.If(when, 0, x) for x in p.mtc[i]]


def _on_request_vote(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> SymMsg:
    log_ok = z3.Or(m.b > p.last_term(i), z3.And(m.b == p.last_term(i), m.a >= p.lasts[i]))
    if cfg.has_bug("vote-without-log-check"):
        log_ok = z3.BoolVal(True)
    grant = z3.And(m.term == p.cur_term[i], log_ok, z3.Or(p.voted[i] == NONE, p.voted[i] == j))
    p.voted[i] = z3.If(grant, j, p.voted[i])
    return _msg(p.bounds, RVR, i, j, p.cur_term[i], flag=grant)


def _on_vote_response(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> None:
    counts = z3.And(m.term == p.cur_term[i], p.roles[i] == CANDIDATE)
    p.resp[i] = [z3.If(z3.And(counts, x == j), True, p.resp[i][x]) for x in range(p.n)]
    p.grant[i] = [z3.If(z3.And(counts, x == j), z3.Or(p.grant[i][x], m.flag), p.grant[i][x])
                  for x in range(p.n)]
    votes = z3.Sum([z3.If(g, 1, 0) for g in p.grant[i]])
    wins = z3.And(counts, votes >= cfg.quorum)
    p.roles[i] = z3.If(wins, LEADER, p.roles[i])
    p.resp[i] = [z3.If(wins, False, x) for x in p.resp[i]]
    p.grant[i] = [z3.If(wins, False, x) for x in p.grant[i]]
    p.nxt[i] = [z3.If(wins, p.lasts[i] + 1, x) for x in p.nxt[i]]
    p.mtc[i] = [z3.If(wins, 0, x) for x in p.mtc[i]]


def _on_append_entries(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> SymMsg:
    term, role, last = p.cur_term[i], p.roles[i], p.lasts[i]
    current = m.term >= term
    # A candidate that hears from a leader of its term steps down (§5.2); a leader (only with a
    # bug: two leaders in a term) refuses.
    _become_follower(p, i, z3.And(current, role == CANDIDATE))
    prev, count, snap = m.a, m.n, p.snaps[i]
    # §7: entries up to our snapshot are committed, so they match: a message whose prefix
    # reaches into the snapshot is checked from the snapshot on (all of it inside: nothing to do
    # but acknowledge).
    # (without snapshots these terms are left out, so the relation is the snapshot-free one)
    prev_ok = z3.And(prev <= last, p.term_at_sym(i, prev) == m.b)
    if cfg.snapshots:
        prev_ok = z3.Or(prev < snap, prev_ok)
    success = z3.And(current, role != LEADER, prev_ok)
    inside = prev + count < snap if cfg.snapshots else z3.BoolVal(False)

    def entry(x: int, field: list[Expr]) -> Expr:  # the message's entry at absolute index x
        out: Expr = z3.IntVal(0)
        for k in range(p.cap):
            out = z3.If(x - prev - 1 == k, field[k], out)
        return out

    old_t, old_v = p.lterm[i], p.lval[i]
    if cfg.has_bug("stale-append-truncates"):
        replace = [z3.BoolVal(True)] * p.cap  # keep 1..prev, then exactly the entries
        keep_upto = _max(prev, snap) if cfg.snapshots else prev
        new_last = prev + count
    else:
        # Figure 2, rule 3: only a conflicting entry (same index, other term) and all that
        # follow it are deleted; rule 4: entries not yet in the log are appended.
        conflict = [z3.And(k < count, z3.Or(prev + 1 + k > last,
                                            p.term_at_sym(i, prev + 1 + k) != m.ent_terms[k]))
                    for k in range(p.cap)]
        if cfg.snapshots:  # entries inside our snapshot are committed: they match (§7)
            conflict = [z3.And(c, prev + 1 + k > snap) for k, c in enumerate(conflict)]
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
        new_t.append(z3.If(fresh, z3.If(x <= prev + count, entry(x, m.ent_terms), 0), old_t[x - 1]))
        new_v.append(z3.If(fresh, z3.If(x <= prev + count, entry(x, m.ent_values), 0), old_v[x - 1]))
    changes = z3.And(success, z3.Not(inside)) if cfg.snapshots else success
    p.lterm[i] = [z3.If(changes, a, b) for a, b in zip(new_t, old_t, strict=True)]
    p.lval[i] = [z3.If(changes, a, b) for a, b in zip(new_v, old_v, strict=True)]
    p.lasts[i] = z3.If(changes, new_last, last)
    last_new = prev + count
    commit = p.commits[i]
    raised = z3.If(m.c > commit, _max(commit, _min(m.c, last_new)), commit)
    p.commits[i] = z3.If(changes, raised, commit)
    return _msg(p.bounds, AER, i, j, term, a=z3.If(success, last_new, 0), flag=success)


def _on_append_response(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> None:
    counts = z3.And(m.term == p.cur_term[i], p.roles[i] == LEADER)
    ok = z3.And(counts, m.flag)
    match = _max(p.mtc[i][j], m.a)
    p.mtc[i] = [z3.If(z3.And(ok, x == j), match, p.mtc[i][x]) for x in range(p.n)]
    fail_next = _max(p.nxt[i][j] - 1, 1)
    p.nxt[i] = [z3.If(z3.And(counts, x == j), z3.If(m.flag, match + 1, fail_next), p.nxt[i][x])
                for x in range(p.n)]
    # §5.3/§5.4.2: commit the largest index replicated on a majority whose entry is of the
    # leader's term (the figure8-commit bug drops that last condition).
    commit = p.commits[i]
    for idx in range(1, p.cap + 1):
        replicas = 1 + z3.Sum([z3.If(p.mtc[i][x] >= idx, 1, 0) for x in range(p.n) if x != i])
        own_term = (z3.BoolVal(True) if cfg.has_bug("figure8-commit")
                    else p.lterm[i][idx - 1] == p.cur_term[i])
        advance = z3.And(ok, idx <= p.lasts[i], idx > p.commits[i], replicas >= cfg.quorum,
                         own_term)
        commit = z3.If(advance, idx, commit)
    p.commits[i] = commit


def _on_install_snapshot(p: SymState, cfg: Config, m: SymMsg, i: int, j: int) -> SymMsg:
    """§7, InstallSnapshot receiver: a snapshot beyond ours replaces the log up to its last
    entry (what follows is kept if the log has that entry, else discarded) and commits it."""
    term, role, last, snap = p.cur_term[i], p.roles[i], p.lasts[i], p.snaps[i]
    current = m.term >= term
    _become_follower(p, i, z3.And(current, role == CANDIDATE))
    ok = z3.And(current, role != LEADER)
    install = z3.And(ok, m.a > snap)
    has_last = z3.And(m.a <= last, p.term_at_sym(i, m.a) == m.b)
    old_t, old_v = p.lterm[i], p.lval[i]
    new_t = [z3.If(x < m.a, 0, z3.If(x == m.a, m.b, z3.If(has_last, old_t[x - 1], 0)))
             for x in range(1, p.cap + 1)]
    new_v = [z3.If(x <= m.a, m.ent_values[x - 1], z3.If(has_last, old_v[x - 1], 0))
             for x in range(1, p.cap + 1)]
    p.lterm[i] = [z3.If(install, a, b) for a, b in zip(new_t, old_t, strict=True)]
    p.lval[i] = [z3.If(install, a, b) for a, b in zip(new_v, old_v, strict=True)]
    p.snaps[i] = z3.If(install, m.a, snap)
    p.lasts[i] = z3.If(install, z3.If(has_last, last, m.a), last)
    p.commits[i] = z3.If(install, _max(p.commits[i], m.a), p.commits[i])
    return _msg(p.bounds, AER, i, j, term, a=z3.If(ok, m.a, 0), flag=ok)


def receive(s: SymState, cfg: Config, slot: int, kind: int, i: int, j: int, *,
            keep: bool) -> SymAction:
    m = s.messages[slot]
    p = s.copy()
    if not keep:
        p.messages[slot] = empty_msg(s.cap)
    _adopt_term(p, cfg, i, m.term)
    reply: SymMsg | None = None
    if kind == RV:
        reply = _on_request_vote(p, cfg, m, i, j)
    elif kind == RVR:
        _on_vote_response(p, cfg, m, i, j)
    elif kind == AE:
        reply = _on_append_entries(p, cfg, m, i, j)
    elif kind == IS:
        reply = _on_install_snapshot(p, cfg, m, i, j)
    else:
        _on_append_response(p, cfg, m, i, j)
    guard = z3.And(m.present, m.kind == kind, m.dst == i, m.src == j)
    if reply is not None:
        p.messages, _, fits = _add(p.messages, reply, cfg.max_messages)
        guard = z3.And(guard, fits)
    return SymAction("Duplicate" if keep else "Receive", i, j, slot, None, guard, p)


def drop(s: SymState, slot: int) -> SymAction:
    p = s.copy()
    p.messages[slot] = empty_msg(s.cap)
    return SymAction("Drop", None, None, slot, None, s.messages[slot].present, p)


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
    for slot in range(len(s.messages)):
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
