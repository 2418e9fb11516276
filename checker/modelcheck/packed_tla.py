"""raft.tla's Next, specialised to a packed state: the model checker's fast engine for the
comparison with TLC.

`spec.raft_tla` is the readable definition; this module computes the same successor relation
on a representation chosen for speed, and `tests/modelcheck/test_packed_tla.py` keeps the two
equal: on every state reachable in small configurations, `unpack` of the packed successors is
exactly the set of the spec's successors, and both engines find the same number of distinct
states. Counterexamples are still replayed through the readable spec (`model.py`).

A packed state is a tuple `(servers, bag, restarts)`:

- `servers` holds one tuple per server, `(term, role, votedFor, log, commitIndex,
  votesResponded, votesGranted, nextIndex, matchIndex)`, with `votedFor` -1 for none, the
  vote sets as bitmasks, and each log entry as the int `term << 4 | value`;
- `bag` is raft.tla's message bag as a sorted tuple of ints, one per message in its domain,
  `body << 10 | src << 7 | dst << 4 | count` (see `_message`): the server ids sit in fixed
  bits, so renaming servers is a table lookup, and a message's count rides along.

Only ints and tuples of ints: hashing is deterministic across processes (the parallel search
partitions by hash), pickling is cheap, and a canonical form under symmetry is a plain tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any

from checker.modelcheck.encoding import orders_by
from spec.raft_tla import TlaState, bag_key
from spec.raft_types import (
    AppendEntries,
    AppendEntriesReply,
    Config,
    Entry,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
)

Local = tuple[Any, ...]  # one server's variables, as described above
Packed = tuple[Any, ...]  # (servers, bag, restarts)

FOLLOWER, CANDIDATE, LEADER = int(Role.FOLLOWER), int(Role.CANDIDATE), int(Role.LEADER)
_RV, _RVR, _AE, _AER = range(4)
_ROLES = tuple(Role)
_IDS = 0x3F0  # the bits of a bag item that hold src and dst
_COUNT = 0xF  # the bits that hold the count (counts stay ≤ max_messages + 1 ≤ 11)

# Local's fields by position.
TERM, ROLE, VOTED, LOG, COMMIT, RESPONDED, GRANTED, NEXT, MATCH = range(9)


# ---------------------------------------------------------------- messages


def _message(kind: int, term: int, a: int = 0, b: int = 0, c: int = 0, d: int = 0) -> int:
    """A message body without its ids: the kind, the term, and up to four small fields, 8
    bits each (indexes and terms are bounded far below 256 by the CLI's limits)."""
    return kind | term << 3 | a << 8 | b << 16 | c << 24 | d << 32


def _item(body: int, src: int, dst: int, count: int = 1) -> int:
    return body << 10 | src << 7 | dst << 4 | count


def _add(bag: tuple[int, ...], key: int, network_kind: str) -> tuple[int, ...]:
    """The bag with one more copy of the message `key` (an item without its count); a set
    with the message."""
    for k, item in enumerate(bag):
        if item >> 4 == key:
            return bag if network_kind == "set" else (*bag[:k], item + 1, *bag[k + 1 :])
    return tuple(sorted((*bag, key << 4 | 1)))


def _take(bag: tuple[int, ...], k: int, network_kind: str) -> tuple[int, ...]:
    """The bag with one copy fewer of its k-th message (kept at count 0 in raft.tla's bag)."""
    item = bag[k]
    if item & _COUNT == 1 and network_kind != "bag":
        return (*bag[:k], *bag[k + 1 :])
    return (*bag[:k], item - 1, *bag[k + 1 :])


def _consume(bag: tuple[int, ...], k: int, network_kind: str) -> tuple[int, ...]:
    """The network after its k-th message is received: consumed from a bag, kept in a set."""
    return bag if network_kind == "set" else _take(bag, k, network_kind)


def _in_flight(bag: tuple[int, ...]) -> int:
    return sum(item & _COUNT for item in bag)


# ---------------------------------------------------------------- Next


def successors(state: Packed, config: Config, network_kind: str) -> Iterator[tuple[str, Packed]]:
    """raft.tla's Next on a packed state, filtered by the state constraints (a step is not
    taken if its target breaks one). Yields (action name, state); the readable spec names the
    actions of a counterexample, so only the name is kept here. `network_kind` is one of
    `spec.raft_tla.NETWORKS`."""
    if network_kind == "set":
        if not config.duplicates:
            raise ValueError("a set network stands for a bag with duplication: needs duplicates")
        # Sending a message already in the set, and replying while keeping the request, make
        # the in-flight count hard to track step by step: filter on the result instead.
        limit = config.max_messages
        for action, t in _next(state, config, network_kind, True):
            if len(t[1]) <= limit:
                yield action, t
    else:
        yield from _next(state, config, network_kind, _in_flight(state[1]) < config.max_messages)


def _next(
    state: Packed, config: Config, network_kind: str, room: bool
) -> Iterator[tuple[str, Packed]]:
    """Next, with the term, log and restart bounds applied step by step; `room` says whether
    a bag may take one more message (a step that receives one and sends one keeps its size)."""
    if config.max_term < 1:  # the initial terms (1) already break the constraint
        return
    servers, bag, restarts = state
    n = config.servers
    quorum = config.quorum
    max_term, max_log = config.max_term, config.max_log
    for i in range(n):
        me = servers[i]
        term, role, _, log, commit, _, granted, nxt, match = me
        if role != LEADER and term < max_term:
            yield (
                "Timeout",
                (
                    _put(servers, i, (term + 1, CANDIDATE, -1, log, commit, 0, 0, nxt, match)),
                    bag,
                    restarts,
                ),
            )
        if restarts < config.max_restarts:
            zero = (0,) * n
            yield (
                "Restart",
                (
                    _put(servers, i, (term, FOLLOWER, me[VOTED], log, 0, 0, 0, (1,) * n, zero)),
                    bag,
                    restarts + 1,
                ),
            )
        if role == CANDIDATE:
            if room:
                body = _message(_RV, term, len(log), log[-1] >> 4 if log else 0)
                responded = me[RESPONDED]
                for j in range(n):
                    if not responded >> j & 1:
                        sent = _add(bag, body << 6 | i << 3 | j, network_kind)
                        yield "RequestVote", (servers, sent, restarts)
            if granted.bit_count() >= quorum:
                leader = (term, LEADER, me[VOTED], log, commit, me[RESPONDED], granted)
                yield (
                    "BecomeLeader",
                    (
                        _put(servers, i, (*leader, (len(log) + 1,) * n, (0,) * n)),
                        bag,
                        restarts,
                    ),
                )
        elif role == LEADER:
            if len(log) < max_log:
                for v in range(1, config.values + 1):
                    grown = (*log, term << 4 | v)
                    yield (
                        "ClientRequest",
                        (
                            _put(servers, i, (*me[:LOG], grown, *me[COMMIT:])),
                            bag,
                            restarts,
                        ),
                    )
            yield (
                "AdvanceCommitIndex",
                (
                    _put(servers, i, (*me[:COMMIT], _commit(me, i, n, quorum), *me[RESPONDED:])),
                    bag,
                    restarts,
                ),
            )
            if room:
                for j in range(n):
                    if j != i:
                        sent = _add(bag, _append_entries(me, j) << 6 | i << 3 | j, network_kind)
                        yield "AppendEntries", (servers, sent, restarts)
    for k, item in enumerate(bag):
        if not item & _COUNT:
            continue
        yield from _receive(state, config, k, item, network_kind)
        if config.duplicates and room and network_kind != "set":  # in a set a copy changes nothing
            yield "Duplicate", (servers, (*bag[:k], item + 1, *bag[k + 1 :]), restarts)
        if config.drops:
            yield "Drop", (servers, _take(bag, k, network_kind), restarts)


def _put(servers: tuple[Local, ...], i: int, local: Local) -> tuple[Local, ...]:
    return (*servers[:i], local, *servers[i + 1 :])


def _append_entries(me: Local, j: int) -> int:
    """The body of the AppendEntries that leader `me` sends to j: at most one entry."""
    log = me[LOG]
    nxt = me[NEXT][j]
    prev = nxt - 1
    prev_term = log[prev - 1] >> 4 if prev > 0 else 0
    last_entry = min(len(log), nxt)
    entry = log[nxt - 1] if nxt <= last_entry else 0
    return _message(_AE, me[TERM], prev, prev_term, entry, min(me[COMMIT], last_entry))


def _commit(me: Local, i: int, n: int, quorum: int) -> int:
    """AdvanceCommitIndex: the greatest index held by a quorum, if its entry is of the
    leader's term; else the commit index unchanged."""
    log: tuple[int, ...] = me[LOG]
    match: tuple[int, ...] = me[MATCH]
    commit: int = me[COMMIT]
    for k in range(len(log), 0, -1):
        if 1 + sum(1 for j in range(n) if j != i and match[j] >= k) >= quorum:
            return k if log[k - 1] >> 4 == me[TERM] else commit
    return commit


def _receive(
    state: Packed, config: Config, k: int, item: int, network_kind: str
) -> Iterator[tuple[str, Packed]]:
    servers, bag, restarts = state
    body = item >> 10
    i, j = item >> 4 & 7, item >> 7 & 7
    me = servers[i]
    term = me[TERM]
    m_term = body >> 3 & 0x1F
    if m_term > term:  # UpdateTerm: the message stays for a later step
        if m_term <= config.max_term:
            yield (
                "UpdateTerm",
                (
                    _put(servers, i, (m_term, FOLLOWER, -1, *me[LOG:])),
                    bag,
                    restarts,
                ),
            )
        return
    kind = body & 7
    a, b = body >> 8 & 0xFF, body >> 16 & 0xFF
    if kind == _RV:
        log = me[LOG]
        last_term = log[-1] >> 4 if log else 0
        log_ok = b > last_term or (b == last_term and a >= len(log))
        grant = m_term == term and log_ok and me[VOTED] in (-1, j)
        if grant:
            servers = _put(servers, i, (term, me[ROLE], j, *me[LOG:]))
        reply = _message(_RVR, term, int(grant)) << 6 | i << 3 | j
        yield "HandleRequestVoteRequest", (servers, _reply(bag, k, reply, network_kind), restarts)
    elif kind == _RVR:
        if m_term == term:
            responded, granted = me[RESPONDED] | 1 << j, me[GRANTED] | (a << j)
            servers = _put(servers, i, (*me[:RESPONDED], responded, granted, *me[NEXT:]))
        yield "HandleRequestVoteResponse", (servers, _consume(bag, k, network_kind), restarts)
    elif kind == _AE:
        yield from _handle_append_entries(state, config, k, body, i, j, network_kind)
    else:  # AppendEntriesReply
        if m_term == term:
            row_n, row_m = me[NEXT], me[MATCH]
            if a:  # success: b is the matchIndex
                row_n, row_m = (
                    (*row_n[:j], b + 1, *row_n[j + 1 :]),
                    (*row_m[:j], b, *row_m[j + 1 :]),
                )
            else:
                row_n = (*row_n[:j], max(row_n[j] - 1, 1), *row_n[j + 1 :])
            servers = _put(servers, i, (*me[:NEXT], row_n, row_m))
        yield "HandleAppendEntriesResponse", (servers, _consume(bag, k, network_kind), restarts)


def _handle_append_entries(
    state: Packed, config: Config, k: int, body: int, i: int, j: int, network_kind: str
) -> Iterator[tuple[str, Packed]]:
    servers, bag, restarts = state
    me = servers[i]
    term, role, log = me[TERM], me[ROLE], me[LOG]
    m_term = body >> 3 & 0x1F
    prev, prev_term = body >> 8 & 0xFF, body >> 16 & 0xFF
    entry, leader_commit = body >> 24 & 0xFF, body >> 32 & 0xFF
    log_ok = prev == 0 or (0 < prev <= len(log) and prev_term == log[prev - 1] >> 4)
    if m_term < term or (m_term == term and role == FOLLOWER and not log_ok):
        reply = _message(_AER, term, 0, 0) << 6 | i << 3 | j
        yield "HandleAppendEntriesRequest", (servers, _reply(bag, k, reply, network_kind), restarts)
        return
    if m_term == term and role == CANDIDATE:  # return to follower; the message stays
        yield (
            "HandleAppendEntriesRequest",
            (
                _put(servers, i, (term, FOLLOWER, *me[VOTED:])),
                bag,
                restarts,
            ),
        )
        return
    if not (m_term == term and role == FOLLOWER and log_ok):
        return
    index = prev + 1
    if not entry or (len(log) >= index and log[index - 1] >> 4 == entry >> 4):
        # already done with the request (may lower commitIndex on a stale copy, as raft.tla)
        done = _put(servers, i, (*me[:COMMIT], leader_commit, *me[RESPONDED:]))
        reply = _message(_AER, term, 1, prev + (1 if entry else 0)) << 6 | i << 3 | j
        yield "HandleAppendEntriesRequest", (done, _reply(bag, k, reply, network_kind), restarts)
    elif len(log) >= index:  # conflict: remove one entry
        yield (
            "HandleAppendEntriesRequest",
            (
                _put(servers, i, (*me[:LOG], log[:-1], *me[COMMIT:])),
                bag,
                restarts,
            ),
        )
    elif len(log) == prev and len(log) < config.max_log:  # no conflict: append the entry
        yield (
            "HandleAppendEntriesRequest",
            (
                _put(servers, i, (*me[:LOG], (*log, entry), *me[COMMIT:])),
                bag,
                restarts,
            ),
        )


def _reply(bag: tuple[int, ...], k: int, response: int, network_kind: str) -> tuple[int, ...]:
    """The bag after answering its k-th message with `response`: raft.tla's
    Reply(response, m) = WithoutMessage(m, WithMessage(response, messages))."""
    return _add(_consume(bag, k, network_kind), response, network_kind)


# ---------------------------------------------------------------- symmetry


def canonical(state: Packed, symmetry: bool = True) -> Packed:
    """The least packed form over the renamings of server ids that sort the servers by an
    id-free signature; see `encoding` for why trying only those renamings still gives one
    representative per orbit. Two stages, both renaming-invariant: the servers' own term,
    role, log and commitIndex usually tell them apart; only on a tie is the finer signature
    (`_signatures`: votes as seen from the server, and its messages) computed. The identity
    renaming returns the state itself (its bag is kept sorted)."""
    servers = state[0]
    n = len(servers)
    if not symmetry or n == 1:
        return state
    keys: list[Any] = list(map(_OWN_KEY, servers))
    if len(set(keys)) < n:
        # Refine only the tied servers' keys: being tied is itself renaming-invariant.
        tied = [i for i in range(n) if keys.count(keys[i]) > 1]
        for i, signature in zip(tied, _signatures(state, tied), strict=True):
            keys[i] = (*keys[i], signature)
        if len(set(keys)) < n:
            return min(_renamed(state, order) for order in orders_by(keys))
    order = sorted(range(n), key=keys.__getitem__)
    return state if order == _IDENTITY[n] else _renamed(state, order)


_IDENTITY = [list(range(n)) for n in range(8)]
_OWN_KEY = itemgetter(TERM, ROLE, LOG, COMMIT)


def _signatures(state: Packed, which: list[int]) -> list[tuple[Any, ...]]:
    """For the servers `which`, everything about each that renaming servers cannot change
    beyond its term, role, log and commitIndex: its vote and vote sets relative to itself,
    its nextIndex/matchIndex rows as multisets (its own entry apart), and the id-free bodies
    of the messages it sent and is sent."""
    servers, bag, _ = state
    n = len(servers)
    sent: list[list[int]] = [[] for _ in range(n)]
    received: list[list[int]] = [[] for _ in range(n)]
    for item in bag:
        src, dst = item >> 7 & 7, item >> 4 & 7
        body = item & ~_IDS | (16 if src == dst else 0)  # keep "sent to itself"
        sent[src].append(body)
        received[dst].append(body)
    signatures = []
    for i in which:
        _, _, v, _, _, responded, granted, nxt, match = servers[i]
        others = sorted(
            (nxt[j], match[j], responded >> j & 1, granted >> j & 1) for j in range(n) if j != i
        )
        signatures.append(
            (
                -1 if v < 0 else int(v == i),
                responded.bit_count(),
                responded >> i & 1,
                granted.bit_count(),
                granted >> i & 1,
                nxt[i],
                match[i],
                tuple(others),
                tuple(sorted(sent[i])),
                tuple(sorted(received[i])),
            )
        )
    return signatures


def _renamed(state: Packed, order: Sequence[int]) -> Packed:
    """The state with server `order[new]` renamed to `new`."""
    servers, bag, restarts = state
    table = _renaming(tuple(order))
    locals_ = table.locals
    renamed = []
    for old in order:
        local = servers[old]
        new = locals_.get(local)
        if new is None:
            t, r, v, log, c, responded, granted, nxt, match = local
            masks, row = table.masks, table.row
            new = (
                t,
                r,
                table.new_id[v] if v >= 0 else -1,
                log,
                c,
                masks[responded],
                masks[granted],
                row(nxt),
                row(match),
            )
            locals_[local] = new
        renamed.append(new)
    ids = table.ids
    new_bag = tuple(sorted([item & ~_IDS | ids[(item & _IDS) >> 4] for item in bag]))
    return (tuple(renamed), new_bag, restarts)


class _Renaming:
    """Lookup tables for one renaming of server ids (order[new] = old)."""

    def __init__(self, order: tuple[int, ...]) -> None:
        n = len(order)
        self.new_id = [0] * n
        for new, old in enumerate(order):
            self.new_id[old] = new
        new_id = self.new_id
        # The renamed (src << 3 | dst) bits of a bag item, shifted into place.
        self.ids = [0] * 64
        for src in range(n):
            for dst in range(n):
                self.ids[src << 3 | dst] = (new_id[src] << 3 | new_id[dst]) << 4
        # Every set-of-servers bitmask renamed.
        self.masks = [
            sum(1 << new_id[j] for j in range(n) if mask >> j & 1) for mask in range(1 << n)
        ]
        self.row: Callable[[tuple[int, ...]], tuple[int, ...]] = itemgetter(*order)
        # Servers' variables seen before, renamed (a bounded model has few distinct ones).
        self.locals: dict[Local, Local] = {}


_RENAMINGS: dict[tuple[int, ...], _Renaming] = {}


def _renaming(order: tuple[int, ...]) -> _Renaming:
    table = _RENAMINGS.get(order)
    if table is None:
        table = _RENAMINGS[order] = _Renaming(order)
    return table


# ---------------------------------------------------------------- to and from the spec


def pack(state: TlaState) -> Packed:
    """The packed form of a readable raft.tla state."""
    n = state.servers
    servers = tuple(
        (
            state.term[i],
            int(state.role[i]),
            -1 if state.voted_for[i] is None else state.voted_for[i],
            tuple(e.term << 4 | e.value for e in state.log[i]),
            state.commit_index[i],
            sum(1 << j for j in state.votes_responded[i]),
            sum(1 << j for j in state.votes_granted[i]),
            state.next_index[i],
            state.match_index[i],
        )
        for i in range(n)
    )
    bag = tuple(sorted(_pack_message(m) << 4 | count for m, count in state.network))
    return (servers, bag, state.restarts)


def _pack_message(m: Message) -> int:
    match m:
        case RequestVote():
            body = _message(_RV, m.term, m.last_log_index, m.last_log_term)
        case RequestVoteReply():
            body = _message(_RVR, m.term, int(m.granted))
        case AppendEntries():
            entry = m.entries[0].term << 4 | m.entries[0].value if m.entries else 0
            body = _message(_AE, m.term, m.prev_index, m.prev_term, entry, m.leader_commit)
        case AppendEntriesReply():
            body = _message(_AER, m.term, int(m.success), m.match_index)
        case _:
            raise ValueError(f"raft.tla has no {type(m).__name__}")
    return body << 6 | m.src << 3 | m.dst


def unpack(packed: Packed) -> TlaState:
    """The readable raft.tla state a packed state stands for (inverse of `pack`)."""
    servers, bag, restarts = packed
    term, role, vote, log, commit, responded, granted, nxt, match = zip(
        *map(readable_server, servers), strict=True
    )
    messages = tuple(
        sorted(((unpack_message(item >> 4), item & _COUNT) for item in bag), key=bag_key)
    )
    return TlaState(
        term, role, vote, log, commit, responded, granted, nxt, match, messages, restarts
    )


_READABLE_SERVERS: dict[Local, tuple[Any, ...]] = {}
_MEMBERS = [frozenset(j for j in range(8) if mask >> j & 1) for mask in range(256)]


def readable_server(local: Local) -> tuple[Any, ...]:
    """One server's packed variables in the readable types, in the field order of `TlaState`
    (and of `spec.raft.State` without its snapshot): term, role, votedFor, log, commitIndex,
    votesResponded, votesGranted, nextIndex, matchIndex. Memoised: a bounded model has few
    distinct servers."""
    readable = _READABLE_SERVERS.get(local)
    if readable is None:
        t, r, v, log, c, responded, granted, nxt, match = local
        entries = tuple(Entry(e >> 4, e & 0xF) for e in log)
        vote = None if v < 0 else v
        readable = (
            t,
            _ROLES[r],
            vote,
            entries,
            c,
            _MEMBERS[responded],
            _MEMBERS[granted],
            nxt,
            match,
        )
        _READABLE_SERVERS[local] = readable
    return readable


def unpack_message(key: int) -> Message:
    """The message of a bag item's key (the item without its count)."""
    src, dst, body = key >> 3 & 7, key & 7, key >> 6
    kind, term = body & 7, body >> 3 & 0x1F
    a, b, c, d = body >> 8 & 0xFF, body >> 16 & 0xFF, body >> 24 & 0xFF, body >> 32 & 0xFF
    if kind == _RV:
        return RequestVote(src, dst, term, a, b)
    if kind == _RVR:
        return RequestVoteReply(src, dst, term, bool(a))
    if kind == _AE:
        entries = (Entry(c >> 4, c & 0xF),) if c else ()
        return AppendEntries(src, dst, term, a, b, entries, d)
    return AppendEntriesReply(src, dst, term, bool(a), b)
