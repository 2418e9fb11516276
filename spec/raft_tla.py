"""Raft with the semantics of Ongaro's raft.tla, to compare with TLC on the same work.

`spec.raft` handles a message in one atomic step and keeps messages in a set. raft.tla is
finer-grained; this module follows it action for action so that a distinct-state count can be
compared with TLC's:

- terms start at 1; Timeout does not vote for itself — a candidate sends RequestVote to every
  server *including itself* and votes for itself on receipt;
- adopting a higher term (UpdateTerm) is a step of its own, the message is handled by a later
  step; BecomeLeader and AdvanceCommitIndex are steps of their own;
- AppendEntries carries at most one entry, and a conflicting entry is removed one per step;
- the network is a bag (message -> count). raft.tla keeps a message in the bag's domain when its
  count drops to 0; with `network_kind="bag"` this module does the same (the count-0 entries are
  part of the state, as in TLC's fingerprint), with `network_kind="clean-bag"` they are removed. A
  message is received only while its count is positive.

`network_kind="set"` measures an idea of DSLabs's: when the network may duplicate messages anyway
(`config.duplicates`), a bag's counts say nothing a behaviour can use — any message in flight
can be copied again — so the network is a set and receiving a message does not consume it
(delivery and duplication in one); Drop removes it. Without bounds, the set reaches exactly
the server states that the bag with duplication reaches: a bag copies a message before each
receipt to follow a set, and a set keeps more messages than a bag it follows. Only the
in-flight bound differs (it counts distinct messages, as in `spec.raft`). It requires
`duplicates`.

Bounds as TLC's state constraints: term ≤ max_term, Len(log) ≤ max_log, bag
cardinality (sum of counts; in a set, its size) ≤ max_messages, restarts ≤ max_restarts. A step whose target
violates a constraint is not taken (TLC does not store such states). The invariants are those of
`spec.raft`, evaluated on `as_raft_state(s)` — the same definitions, on the same variables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from operator import attrgetter

from spec.raft_types import (
    Action,
    AppendEntries,
    AppendEntriesReply,
    Config,
    Entry,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    Snapshot,
    State,
    tuple_set,
)

Bag = tuple[tuple[Message, int], ...]  # sorted by message


@dataclass(frozen=True, slots=True)
class TlaState:
    """raft.tla's variables (history variables left out, as in the TLC comparison)."""

    term: tuple[int, ...]
    role: tuple[Role, ...]
    voted_for: tuple[int | None, ...]
    log: tuple[tuple[Entry, ...], ...]
    commit_index: tuple[int, ...]
    votes_responded: tuple[frozenset[int], ...]
    votes_granted: tuple[frozenset[int], ...]
    next_index: tuple[tuple[int, ...], ...]
    match_index: tuple[tuple[int, ...], ...]
    network: Bag  # raft.tla's `messages`: the messages in flight, with their counts
    restarts: int = 0

    @property
    def servers(self) -> int:
        return len(self.term)


_FIELDS: tuple[str, ...] = tuple(TlaState.__dataclass_fields__)
_FIELD_INDEX = {name: k for k, name in enumerate(_FIELDS)}
_ALL_FIELDS = attrgetter(*_FIELDS)


def _upd(s: TlaState, **changes: object) -> TlaState:
    """`dataclasses.replace` without its per-call introspection (the successor hot path)."""
    values = list(_ALL_FIELDS(s))
    for name, value in changes.items():
        values[_FIELD_INDEX[name]] = value
    return TlaState(*values)


def initial_states(config: Config) -> list[TlaState]:
    n = config.servers
    return [
        TlaState(
            term=(1,) * n,
            role=(Role.FOLLOWER,) * n,
            voted_for=(None,) * n,
            log=((),) * n,
            commit_index=(0,) * n,
            votes_responded=(frozenset(),) * n,
            votes_granted=(frozenset(),) * n,
            next_index=((1,) * n,) * n,
            match_index=((0,) * n,) * n,
            network=(),
        )
    ]


def as_raft_state(s: TlaState) -> State:
    """The same variables as a `spec.raft.State` (no snapshots; messages with count > 0), so
    that `spec.raft`'s invariants apply unchanged."""
    n = s.servers
    return State(
        term=s.term,
        role=s.role,
        voted_for=s.voted_for,
        log=s.log,
        snapshot=(Snapshot(),) * n,
        commit_index=s.commit_index,
        votes_responded=s.votes_responded,
        votes_granted=s.votes_granted,
        next_index=s.next_index,
        match_index=s.match_index,
        network=frozenset(m for m, c in s.network if c > 0),
        restarts=s.restarts,
    )


# ---- the bag ----


NETWORKS = ("bag", "clean-bag", "set")


def config_error(config: Config, network_kind: str) -> str | None:
    """Why raft.tla's semantics with `network_kind` cannot run `config`, or None: the one statement
    of the rule, checked where a model of these semantics is built."""
    if network_kind not in NETWORKS:
        return f"unknown network {network_kind!r}; known: {', '.join(NETWORKS)}"
    if config.bugs or config.snapshots:
        return "raft.tla's semantics have no bug flags or snapshots (use the raft semantics)"
    if network_kind == "set" and not config.duplicates:
        return "a set network stands for a network that duplicates: it needs duplicates"
    return None


def _with(bag: Bag, m: Message, network_kind: str = "bag") -> Bag:
    d = dict(bag)
    d[m] = 1 if network_kind == "set" else d.get(m, 0) + 1
    return tuple(sorted(d.items(), key=bag_key))


def _without(bag: Bag, m: Message, network_kind: str) -> Bag:
    d = dict(bag)
    d[m] -= 1
    if d[m] == 0 and network_kind != "bag":
        del d[m]
    return tuple(sorted(d.items(), key=bag_key))


def _received(bag: Bag, m: Message, network_kind: str) -> Bag:
    """The network after `m` is received: consumed from a bag, kept in a set."""
    return bag if network_kind == "set" else _without(bag, m, network_kind)


def bag_key(item: tuple[Message, int]) -> tuple[str, tuple[object, ...]]:
    return _message_key(item[0])


@cache
def _message_key(m: Message) -> tuple[str, tuple[object, ...]]:
    # Memoised: a bounded configuration has few distinct messages, and every bag update
    # re-sorts the bag by this key.
    return type(m).__name__, tuple(getattr(m, f) for f in m.__slots__)


def in_flight(s: TlaState) -> int:
    return sum(c for _, c in s.network)


def _last_term(log: tuple[Entry, ...]) -> int:
    return log[-1].term if log else 0


# ---- Next ----


def successors(
    s: TlaState, config: Config, network_kind: str = "bag"
) -> Iterator[tuple[Action, TlaState]]:
    """raft.tla's Next (without DuplicateMessage/DropMessage unless the config allows them),
    filtered by the state constraints; `network_kind` is one of NETWORKS (module docstring),
    and `config_error(config, network_kind)` is None (the model that runs it checked so when
    built)."""
    for action, t in _next(s, config, network_kind):
        if (
            max(t.term) <= config.max_term
            and all(len(log) <= config.max_log for log in t.log)
            and in_flight(t) <= config.max_messages
            and t.restarts <= config.max_restarts
        ):
            yield action, t


def _next(s: TlaState, config: Config, network_kind: str) -> Iterator[tuple[Action, TlaState]]:
    n = config.servers
    quorum = config.quorum
    for i in range(n):
        if s.role[i] != Role.LEADER:  # Timeout
            yield (
                Action("Timeout", i),
                _upd(
                    s,
                    role=tuple_set(s.role, i, Role.CANDIDATE),
                    term=tuple_set(s.term, i, s.term[i] + 1),
                    voted_for=tuple_set(s.voted_for, i, None),
                    votes_responded=tuple_set(s.votes_responded, i, frozenset()),
                    votes_granted=tuple_set(s.votes_granted, i, frozenset()),
                ),
            )
        if config.max_restarts > 0:
            yield (
                Action("Restart", i),
                _upd(
                    s,
                    role=tuple_set(s.role, i, Role.FOLLOWER),
                    votes_responded=tuple_set(s.votes_responded, i, frozenset()),
                    votes_granted=tuple_set(s.votes_granted, i, frozenset()),
                    next_index=tuple_set(s.next_index, i, (1,) * n),
                    match_index=tuple_set(s.match_index, i, (0,) * n),
                    commit_index=tuple_set(s.commit_index, i, 0),
                    restarts=s.restarts + 1,
                ),
            )
        if s.role[i] == Role.CANDIDATE:
            for j in range(n):
                if j not in s.votes_responded[i]:
                    m = RequestVote(
                        i, j, s.term[i], len(s.log[i]), _last_term(s.log[i])
                    )
                    yield (
                        Action("RequestVote", i, peer=j, message=m),
                        _upd(s, network=_with(s.network, m, network_kind)),
                    )
            if len(s.votes_granted[i]) >= quorum:
                yield (
                    Action("BecomeLeader", i),
                    _upd(
                        s,
                        role=tuple_set(s.role, i, Role.LEADER),
                        next_index=tuple_set(s.next_index, i, (len(s.log[i]) + 1,) * n),
                        match_index=tuple_set(s.match_index, i, (0,) * n),
                    ),
                )
        if s.role[i] == Role.LEADER:
            for v in range(1, config.values + 1):
                entry = Entry(s.term[i], v)
                yield (
                    Action("ClientRequest", i, value=v),
                    _upd(s, log=tuple_set(s.log, i, (*s.log[i], entry))),
                )
            yield Action("AdvanceCommitIndex", i), _advance_commit(s, config, i)
            for j in range(n):
                if j != i:
                    ae = _append_entries(s, i, j)
                    yield (
                        Action("AppendEntries", i, peer=j, message=ae),
                        _upd(s, network=_with(s.network, ae, network_kind)),
                    )
    for msg, count in s.network:
        if count <= 0:
            continue
        for t in _receive(s, config, msg, network_kind):
            yield Action("Receive", msg.dst, peer=msg.src, message=msg), t
        if config.duplicates and network_kind != "set":  # in a set, a copy changes nothing
            yield (
                Action("Duplicate", msg.dst, peer=msg.src, message=msg),
                _upd(s, network=_with(s.network, msg)),
            )
        if config.drops:
            yield (
                Action("Drop", msg.dst, peer=msg.src, message=msg),
                _upd(s, network=_without(s.network, msg, network_kind)),
            )


def _append_entries(s: TlaState, i: int, j: int) -> AppendEntries:
    next_index = s.next_index[i][j]
    prev = next_index - 1
    prev_term = s.log[i][prev - 1].term if prev > 0 else 0
    last_entry = min(len(s.log[i]), next_index)
    entries = s.log[i][next_index - 1 : last_entry]
    return AppendEntries(
        i, j, s.term[i], prev, prev_term, entries, min(s.commit_index[i], last_entry)
    )


def _advance_commit(s: TlaState, config: Config, i: int) -> TlaState:
    n = config.servers
    agree = [
        k
        for k in range(1, len(s.log[i]) + 1)
        if 1 + sum(1 for j in range(n) if j != i and s.match_index[i][j] >= k) >= config.quorum
    ]
    commit = s.commit_index[i]
    if agree and s.log[i][max(agree) - 1].term == s.term[i]:
        commit = max(agree)
    return _upd(s, commit_index=tuple_set(s.commit_index, i, commit))


def _receive(s: TlaState, config: Config, m: Message, network_kind: str) -> Iterator[TlaState]:
    i, j = m.dst, m.src
    term = s.term[i]
    if m.term > term:  # UpdateTerm: the message stays for a later step
        yield _upd(
            s,
            term=tuple_set(s.term, i, m.term),
            role=tuple_set(s.role, i, Role.FOLLOWER),
            voted_for=tuple_set(s.voted_for, i, None),
        )
        return

    def reply(t: TlaState, response: Message) -> TlaState:
        return _upd(t, network=_received(_with(t.network, response, network_kind), m, network_kind))

    def discard(t: TlaState) -> TlaState:
        return _upd(t, network=_received(t.network, m, network_kind))

    if isinstance(m, RequestVote):
        log = s.log[i]
        log_ok = m.last_log_term > _last_term(log) or (
            m.last_log_term == _last_term(log) and m.last_log_index >= len(log)
        )
        grant = m.term == term and log_ok and s.voted_for[i] in (None, j)
        t = _upd(s, voted_for=tuple_set(s.voted_for, i, j)) if grant else s
        yield reply(t, RequestVoteReply(i, j, term, grant))
    elif isinstance(m, RequestVoteReply):
        if m.term < term:
            yield discard(s)
        else:
            granted = s.votes_granted[i] | {j} if m.granted else s.votes_granted[i]
            yield discard(
                _upd(
                    s,
                    votes_responded=tuple_set(s.votes_responded, i, s.votes_responded[i] | {j}),
                    votes_granted=tuple_set(s.votes_granted, i, granted),
                )
            )
    elif isinstance(m, AppendEntries):
        yield from _handle_append_entries(s, m, reply)
    elif isinstance(m, AppendEntriesReply):
        if m.term < term:
            yield discard(s)
        elif m.success:
            yield discard(
                _upd(
                    s,
                    next_index=tuple_set(
                        s.next_index, i, tuple_set(s.next_index[i], j, m.match_index + 1)
                    ),
                    match_index=tuple_set(
                        s.match_index, i, tuple_set(s.match_index[i], j, m.match_index)
                    ),
                )
            )
        else:
            next_index = max(s.next_index[i][j] - 1, 1)
            row = tuple_set(s.next_index[i], j, next_index)
            yield discard(_upd(s, next_index=tuple_set(s.next_index, i, row)))


def _handle_append_entries(
    s: TlaState, m: AppendEntries, reply: object
) -> Iterator[TlaState]:
    assert callable(reply)
    i, j = m.dst, m.src
    term = s.term[i]
    log = s.log[i]
    prev = m.prev_index
    log_ok = prev == 0 or (0 < prev <= len(log) and m.prev_term == log[prev - 1].term)
    if m.term < term or (m.term == term and s.role[i] == Role.FOLLOWER and not log_ok):
        yield reply(s, AppendEntriesReply(i, j, term, False, 0))
        return
    if m.term == term and s.role[i] == Role.CANDIDATE:
        yield _upd(s, role=tuple_set(s.role, i, Role.FOLLOWER))
        return
    if not (m.term == term and s.role[i] == Role.FOLLOWER and log_ok):
        return
    index = prev + 1
    if not m.entries or (len(log) >= index and log[index - 1].term == m.entries[0].term):
        # already done with the request (may lower commit_index on a stale copy, as raft.tla)
        t = _upd(s, commit_index=tuple_set(s.commit_index, i, m.leader_commit))
        yield reply(t, AppendEntriesReply(i, j, term, True, prev + len(m.entries)))
    elif len(log) >= index:  # conflict: remove one entry
        yield _upd(s, log=tuple_set(s.log, i, log[:-1]))
    elif len(log) == prev:  # no conflict: append the entry
        yield _upd(s, log=tuple_set(s.log, i, (*log, m.entries[0])))
