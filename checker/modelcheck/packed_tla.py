"""raft.tla's Next, specialised to a packed state: the model checker's fast engine for the
comparison with TLC.

`spec.raft_tla` is the readable definition; this module computes the same successor relation
on a representation chosen for speed, and `tests/modelcheck/test_packed_tla.py` keeps the two
equal: on every state reachable in small configurations, `unpack` of the packed successors is
exactly the set of the spec's successors, and both engines find the same number of distinct
states. Counterexamples are still replayed through the readable spec (`model.py`).

A packed state is a tuple `(servers, bag, restarts)`:

- `servers` holds one tuple per server (a `Local`), its variables at the positions `TERM`,
  `ROLE`, `VOTED_FOR`, `LOG`, `COMMIT_INDEX`, `VOTES_RESPONDED`, `VOTES_GRANTED`,
  `NEXT_INDEX`, `MATCH_INDEX`, with `voted_for` -1 for none, the vote sets as bitmasks, and
  each log entry an int, `entry(term, value)`;
- `bag` is raft.tla's message bag (`network`) as a sorted tuple of ints, one *item* per
  message in its domain: `item(key, count)`, where a message's *key* is
  `key(body, src, dst)` and its *body* its kind, term and fields (`request_vote_body`, ...).
  The server ids sit in fixed bits, so renaming servers is a table lookup, and a message's
  count rides along.

The layout is named below: a constant for every position, shift and mask, and small
functions that build and read entries, keys and items. The successor function is the engine's
hot path; there the constants are written inline (a call per field would cost more than the
arithmetic it names).

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

Local = tuple[Any, ...]  # one server's variables, at the positions below
Packed = tuple[Any, ...]  # (servers, bag, restarts)

FOLLOWER, CANDIDATE, LEADER = int(Role.FOLLOWER), int(Role.CANDIDATE), int(Role.LEADER)
_ROLES = tuple(Role)

# ---------------------------------------------------------------- the layout

# A server's variables, by position in its `Local`.
(TERM, ROLE, VOTED_FOR, LOG, COMMIT_INDEX, VOTES_RESPONDED, VOTES_GRANTED, NEXT_INDEX,
 MATCH_INDEX) = range(9)

# A log entry: its term above its value (values < 16).
ENTRY_TERM_SHIFT = 4
ENTRY_VALUE_MASK = 0xF

# A bag item: the message's key above its count (counts stay ≤ max_messages + 1 ≤ 11); a key:
# the message's body above its sender's and receiver's ids (ids < 8).
COUNT_BITS = 4
COUNT_MASK = (1 << COUNT_BITS) - 1
ID_BITS = 3
ID_MASK = (1 << ID_BITS) - 1
DST_SHIFT = COUNT_BITS  # the ids' positions in an item
SRC_SHIFT = COUNT_BITS + ID_BITS
BODY_SHIFT = COUNT_BITS + 2 * ID_BITS  # the body's position in an item
KEY_BODY_SHIFT = 2 * ID_BITS  # the body's position in a key
IDS_MASK = ((1 << 2 * ID_BITS) - 1) << COUNT_BITS  # both ids, in an item
SELF_MARK = 1 << DST_SHIFT  # (an id-free item with this bit was sent to its own sender)

# A message body: the kind, the term, and up to four 8-bit fields named per kind (indexes
# and terms are bounded far below 256 by the CLI's limits).
RV, RVR, AE, AER = range(4)  # the kinds, as in checker.invariants.view
KIND_MASK = 0x7
TERM_SHIFT = 3
TERM_MASK = 0x1F
FIELD_MASK = 0xFF
LAST_LOG_INDEX_SHIFT, LAST_LOG_TERM_SHIFT = 8, 16  # RequestVote
GRANTED_SHIFT = 8  # RequestVoteReply
# AppendEntries: ENTRY is its one entry (raft.tla sends at most one), 0 for none
PREV_INDEX_SHIFT, PREV_TERM_SHIFT, ENTRY_SHIFT, LEADER_COMMIT_SHIFT = 8, 16, 24, 32
SUCCESS_SHIFT, MATCH_INDEX_SHIFT = 8, 16  # AppendEntriesReply


def entry(term: int, value: int) -> int:
    return term << ENTRY_TERM_SHIFT | value


def entry_term(e: int) -> int:
    return e >> ENTRY_TERM_SHIFT


def entry_value(e: int) -> int:
    return e & ENTRY_VALUE_MASK


def key(body: int, src: int, dst: int) -> int:
    return body << KEY_BODY_SHIFT | src << ID_BITS | dst


def item(key: int, count: int = 1) -> int:
    return key << COUNT_BITS | count


def item_key(item: int) -> int:
    return item >> COUNT_BITS


def item_count(item: int) -> int:
    return item & COUNT_MASK


def request_vote_body(term: int, last_log_index: int, last_log_term: int) -> int:
    return (RV | term << TERM_SHIFT | last_log_index << LAST_LOG_INDEX_SHIFT
            | last_log_term << LAST_LOG_TERM_SHIFT)


def request_vote_reply_body(term: int, granted: bool) -> int:
    return RVR | term << TERM_SHIFT | granted << GRANTED_SHIFT


def append_entries_body(term: int, prev_index: int, prev_term: int, entry: int,
                        leader_commit: int) -> int:
    return (AE | term << TERM_SHIFT | prev_index << PREV_INDEX_SHIFT
            | prev_term << PREV_TERM_SHIFT | entry << ENTRY_SHIFT
            | leader_commit << LEADER_COMMIT_SHIFT)


def append_entries_reply_body(term: int, success: bool, match_index: int) -> int:
    return AER | term << TERM_SHIFT | success << SUCCESS_SHIFT | match_index << MATCH_INDEX_SHIFT


# ---------------------------------------------------------------- the bag


def _add(bag: tuple[int, ...], key: int, network_kind: str) -> tuple[int, ...]:
    """The bag with one more copy of the message `key`; a set with the message."""
    for k, it in enumerate(bag):
        if it >> COUNT_BITS == key:
            return bag if network_kind == "set" else (*bag[:k], it + 1, *bag[k + 1 :])
    return tuple(sorted((*bag, key << COUNT_BITS | 1)))


def _take(bag: tuple[int, ...], k: int, network_kind: str) -> tuple[int, ...]:
    """The bag with one copy fewer of its k-th message (kept at count 0 in raft.tla's bag)."""
    it = bag[k]
    if it & COUNT_MASK == 1 and network_kind != "bag":
        return (*bag[:k], *bag[k + 1 :])
    return (*bag[:k], it - 1, *bag[k + 1 :])


def _consume(bag: tuple[int, ...], k: int, network_kind: str) -> tuple[int, ...]:
    """The network after its k-th message is received: consumed from a bag, kept in a set."""
    return bag if network_kind == "set" else _take(bag, k, network_kind)


def _in_flight(bag: tuple[int, ...]) -> int:
    return sum([it & COUNT_MASK for it in bag])  # (a list: cheaper than a generator here)


# ---------------------------------------------------------------- Next


def successors(
    state: Packed, config: Config, network_kind: str, memo: StepMemo | None = None
) -> Iterator[tuple[str, Packed]]:
    """raft.tla's Next on a packed state, filtered by the state constraints (a step is not
    taken if its target breaks one). Yields (action name, state); the readable spec names the
    actions of a counterexample, so only the name is kept here. `network_kind` is one of
    `spec.raft_tla.NETWORKS`. With a `memo`, each server's part of a step is looked up
    rather than computed again (the same successors, in the same order)."""
    if network_kind == "set":
        # Sending a message already in the set, and replying while keeping the request, make
        # the in-flight count hard to track step by step: filter on the result instead.
        limit = config.max_messages
        for action, t in _next(state, config, network_kind, True, memo):
            if len(t[1]) <= limit:
                yield action, t
    else:
        room = _in_flight(state[1]) < config.max_messages
        yield from _next(state, config, network_kind, room, memo)


def successor_function(
    config: Config, network_kind: str
) -> Callable[[Packed], Iterator[tuple[str, Packed]]]:
    """`successors` with its configuration bound and a memo of its own, for the search's hot
    loop: for a bag, the generator of `_next` itself (one generator a state, not two)."""
    memo = StepMemo(config.servers)
    if network_kind == "set":
        return lambda state: successors(state, config, network_kind, memo)
    limit = config.max_messages

    def next_states(state: Packed) -> Iterator[tuple[str, Packed]]:
        return _next(state, config, network_kind, _in_flight(state[1]) < limit, memo)

    return next_states


# A step's effect on one server, computed from that server's variables (and the message it
# receives) alone: (action, its new variables or None if unchanged, whether the received
# message is consumed, the key of the message it sends or None, and whether the step needs
# room in the network or a restart left). `_next` applies these to the whole state.
Outcome = tuple[str, Local | None, bool, int | None, int]
ALWAYS, NEEDS_ROOM, NEEDS_RESTART = range(3)

# Servers' variables whose outcomes a `StepMemo` remembers, per server; past this it starts
# afresh (a bounded model has few distinct ones: the message bag multiplies states, not them).
STEP_MEMO_LIMIT = 200_000


class StepMemo:
    """Outcomes of `_server_outcomes` and `_receive_outcomes`, per server id and its
    variables (and the received message's key). They depend on nothing else, so a memo
    belongs to one configuration (`successor_function` makes one per model)."""

    def __init__(self, servers: int) -> None:
        self.own: list[dict[Local, tuple[Outcome, ...]]] = [{} for _ in range(servers)]
        self.received: list[dict[Local, dict[int, tuple[Outcome, ...]]]] = [
            {} for _ in range(servers)
        ]

    def own_outcomes(self, me: Local, i: int, config: Config) -> tuple[Outcome, ...]:
        memo = self.own[i]
        found = memo.get(me)
        if found is None:
            if len(memo) >= STEP_MEMO_LIMIT:
                memo.clear()
            found = memo[me] = _shared_outcomes(_server_outcomes(me, i, config))
        return found

    def receive_outcomes(self, me: Local, i: int, key: int, config: Config
                         ) -> tuple[Outcome, ...]:
        memo = self.received[i]
        by_key = memo.get(me)
        if by_key is None:
            if len(memo) >= STEP_MEMO_LIMIT:
                memo.clear()
            by_key = memo[me] = {}
        found = by_key.get(key)
        if found is None:
            found = by_key[key] = _shared_outcomes(_receive_outcomes(me, i, key, config))
        return found


def _next(
    state: Packed, config: Config, network_kind: str, room: bool, memo: StepMemo | None = None
) -> Iterator[tuple[str, Packed]]:
    """Next, with the term, log and restart bounds applied step by step; `room` says whether
    a bag may take one more message (a step that receives one and sends one keeps its size)."""
    if config.max_term < 1:  # the initial terms (1) already break the constraint
        return
    servers, bag, restarts = state
    restart_left = restarts < config.max_restarts
    for i in range(config.servers):
        me = servers[i]
        outcomes = (_server_outcomes(me, i, config) if memo is None
                    else memo.own_outcomes(me, i, config))
        for action, local, _, sent, needs in outcomes:
            if needs == NEEDS_ROOM:
                if room:
                    yield action, (servers, _add(bag, sent, network_kind), restarts)  # type: ignore[arg-type]
            elif needs == NEEDS_RESTART:
                if restart_left:
                    yield action, (_put(servers, i, local), bag, restarts + 1)  # type: ignore[arg-type]
            else:
                yield action, (servers if local is None else _put(servers, i, local), bag,
                               restarts)
    for k, it in enumerate(bag):
        if not it & COUNT_MASK:
            continue
        i = it >> DST_SHIFT & ID_MASK
        key = it >> COUNT_BITS
        outcomes = (_receive_outcomes(servers[i], i, key, config) if memo is None
                    else memo.receive_outcomes(servers[i], i, key, config))
        for action, local, consumed, sent, _ in outcomes:
            after = _consume(bag, k, network_kind) if consumed else bag
            if sent is not None:
                after = _add(after, sent, network_kind)
            yield action, (servers if local is None else _put(servers, i, local), after,
                           restarts)
        if config.duplicates and room and network_kind != "set":  # a set: copies change nothing
            yield "Duplicate", (servers, (*bag[:k], it + 1, *bag[k + 1 :]), restarts)
        if config.drops:
            yield "Drop", (servers, _take(bag, k, network_kind), restarts)


def _put(servers: tuple[Local, ...], i: int, local: Local) -> tuple[Local, ...]:
    return (*servers[:i], local, *servers[i + 1 :])


def _changed(me: Local, local: Local) -> Local | None:
    """An outcome's new variables: None if they equal the old (the state keeps its tuple)."""
    return None if local == me else local


def _server_outcomes(me: Local, i: int, config: Config) -> tuple[Outcome, ...]:
    """The steps server i takes on its own, in `_next`'s order: Timeout, Restart, then a
    candidate's RequestVotes and BecomeLeader, or a leader's ClientRequests,
    AdvanceCommitIndex and AppendEntries."""
    n, quorum = config.servers, config.quorum
    term, role, _, log, commit_index, _, votes_granted, next_index, match_index = me
    out: list[Outcome] = []
    if role != LEADER and term < config.max_term:
        candidate = (term + 1, CANDIDATE, -1, log, commit_index, 0, 0, next_index, match_index)
        out.append(("Timeout", _changed(me, candidate), False, None, ALWAYS))
    follower = (term, FOLLOWER, me[VOTED_FOR], log, 0, 0, 0, (1,) * n, (0,) * n)
    out.append(("Restart", follower, False, None, NEEDS_RESTART))
    if role == CANDIDATE:
        last_term = log[-1] >> ENTRY_TERM_SHIFT if log else 0
        body = request_vote_body(term, len(log), last_term)
        votes_responded = me[VOTES_RESPONDED]
        for j in range(n):
            if not votes_responded >> j & 1:
                sent = body << KEY_BODY_SHIFT | i << ID_BITS | j
                out.append(("RequestVote", None, False, sent, NEEDS_ROOM))
        if votes_granted.bit_count() >= quorum:
            leader = (*me[:ROLE], LEADER, *me[VOTED_FOR:NEXT_INDEX], (len(log) + 1,) * n,
                      (0,) * n)
            out.append(("BecomeLeader", _changed(me, leader), False, None, ALWAYS))
    elif role == LEADER:
        if len(log) < config.max_log:
            for v in range(1, config.values + 1):
                grown = (*me[:LOG], (*log, term << ENTRY_TERM_SHIFT | v), *me[COMMIT_INDEX:])
                out.append(("ClientRequest", grown, False, None, ALWAYS))
        advanced = (*me[:COMMIT_INDEX], _commit_index(me, i, n, quorum),
                    *me[VOTES_RESPONDED:])
        out.append(("AdvanceCommitIndex", _changed(me, advanced), False, None, ALWAYS))
        for j in range(n):
            if j != i:
                sent = _append_entries_body(me, j) << KEY_BODY_SHIFT | i << ID_BITS | j
                out.append(("AppendEntries", None, False, sent, NEEDS_ROOM))
    return tuple(out)


def _append_entries_body(me: Local, j: int) -> int:
    """The body of the AppendEntries that leader `me` sends to j: at most one entry."""
    log = me[LOG]
    next_index = me[NEXT_INDEX][j]
    prev_index = next_index - 1
    prev_term = log[prev_index - 1] >> ENTRY_TERM_SHIFT if prev_index > 0 else 0
    last_entry = min(len(log), next_index)
    sent = log[next_index - 1] if next_index <= last_entry else 0
    return append_entries_body(me[TERM], prev_index, prev_term, sent,
                               min(me[COMMIT_INDEX], last_entry))


def _commit_index(me: Local, i: int, n: int, quorum: int) -> int:
    """AdvanceCommitIndex: the greatest index held by a quorum, if its entry is of the
    leader's term; else the commit index unchanged."""
    log: tuple[int, ...] = me[LOG]
    match_index: tuple[int, ...] = me[MATCH_INDEX]
    commit_index: int = me[COMMIT_INDEX]
    for k in range(len(log), 0, -1):
        if 1 + sum(1 for j in range(n) if j != i and match_index[j] >= k) >= quorum:
            return k if log[k - 1] >> ENTRY_TERM_SHIFT == me[TERM] else commit_index
    return commit_index


def _receive_outcomes(me: Local, i: int, key: int, config: Config) -> tuple[Outcome, ...]:
    """Server i (`me`) receives the message `key` (its dst is i; its src, `j`, is the
    sender): raft.tla's UpdateTerm, or the handler of its kind."""
    body = key >> KEY_BODY_SHIFT
    j = key >> ID_BITS & ID_MASK
    term = me[TERM]
    m_term = body >> TERM_SHIFT & TERM_MASK
    if m_term > term:  # UpdateTerm: the message stays for a later step
        if m_term <= config.max_term:
            updated = (m_term, FOLLOWER, -1, *me[LOG:])
            return (("UpdateTerm", _changed(me, updated), False, None, ALWAYS),)
        return ()
    kind = body & KIND_MASK
    if kind == RV:
        last_log_index = body >> LAST_LOG_INDEX_SHIFT & FIELD_MASK
        last_log_term = body >> LAST_LOG_TERM_SHIFT & FIELD_MASK
        log = me[LOG]
        last_term = log[-1] >> ENTRY_TERM_SHIFT if log else 0
        log_ok = last_log_term > last_term or (
            last_log_term == last_term and last_log_index >= len(log))
        grant = m_term == term and log_ok and me[VOTED_FOR] in (-1, j)
        voted = _changed(me, (term, me[ROLE], j, *me[LOG:])) if grant else None
        reply = request_vote_reply_body(term, grant) << KEY_BODY_SHIFT | i << ID_BITS | j
        return (("HandleRequestVoteRequest", voted, True, reply, ALWAYS),)
    if kind == RVR:
        counted = None
        if m_term == term:
            granted = body >> GRANTED_SHIFT & FIELD_MASK
            votes = (me[VOTES_RESPONDED] | 1 << j, me[VOTES_GRANTED] | granted << j)
            counted = _changed(me, (*me[:VOTES_RESPONDED], *votes, *me[NEXT_INDEX:]))
        return (("HandleRequestVoteResponse", counted, True, None, ALWAYS),)
    if kind == AE:
        return _append_entries_outcomes(me, i, j, body, config)
    # AppendEntriesReply
    answered = None
    if m_term == term:
        next_index, match_index = me[NEXT_INDEX], me[MATCH_INDEX]
        if body >> SUCCESS_SHIFT & FIELD_MASK:
            matched = body >> MATCH_INDEX_SHIFT & FIELD_MASK
            next_index = (*next_index[:j], matched + 1, *next_index[j + 1 :])
            match_index = (*match_index[:j], matched, *match_index[j + 1 :])
        else:
            next_index = (*next_index[:j], max(next_index[j] - 1, 1), *next_index[j + 1 :])
        answered = _changed(me, (*me[:NEXT_INDEX], next_index, match_index))
    return (("HandleAppendEntriesResponse", answered, True, None, ALWAYS),)


def _append_entries_outcomes(
    me: Local, i: int, j: int, body: int, config: Config
) -> tuple[Outcome, ...]:
    term, role, log = me[TERM], me[ROLE], me[LOG]
    m_term = body >> TERM_SHIFT & TERM_MASK
    prev_index = body >> PREV_INDEX_SHIFT & FIELD_MASK
    prev_term = body >> PREV_TERM_SHIFT & FIELD_MASK
    sent = body >> ENTRY_SHIFT & FIELD_MASK
    leader_commit = body >> LEADER_COMMIT_SHIFT & FIELD_MASK
    log_ok = prev_index == 0 or (
        0 < prev_index <= len(log) and prev_term == log[prev_index - 1] >> ENTRY_TERM_SHIFT)
    name = "HandleAppendEntriesRequest"
    if m_term < term or (m_term == term and role == FOLLOWER and not log_ok):
        reply = append_entries_reply_body(term, False, 0) << KEY_BODY_SHIFT | i << ID_BITS | j
        return ((name, None, True, reply, ALWAYS),)
    if m_term == term and role == CANDIDATE:  # return to follower; the message stays
        return ((name, _changed(me, (term, FOLLOWER, *me[VOTED_FOR:])), False, None, ALWAYS),)
    if not (m_term == term and role == FOLLOWER and log_ok):
        return ()
    index = prev_index + 1
    if not sent or (len(log) >= index
                    and log[index - 1] >> ENTRY_TERM_SHIFT == sent >> ENTRY_TERM_SHIFT):
        # already done with the request (may lower commit_index on a stale copy, as raft.tla)
        done = (*me[:COMMIT_INDEX], leader_commit, *me[VOTES_RESPONDED:])
        matched = prev_index + (1 if sent else 0)
        reply = (append_entries_reply_body(term, True, matched) << KEY_BODY_SHIFT
                 | i << ID_BITS | j)
        return ((name, _changed(me, done), True, reply, ALWAYS),)
    if len(log) >= index:  # conflict: remove one entry
        shorter = (*me[:LOG], log[:-1], *me[COMMIT_INDEX:])
        return ((name, _changed(me, shorter), False, None, ALWAYS),)
    if len(log) == prev_index and len(log) < config.max_log:  # no conflict: append the entry
        longer = (*me[:LOG], (*log, sent), *me[COMMIT_INDEX:])
        return ((name, _changed(me, longer), False, None, ALWAYS),)
    return ()


# ---------------------------------------------------------------- one object per value

# The memos above and below are dicts keyed by servers' variables (a `Local`, or the tuple of
# them), and a dict compares a key found by hash to the one it holds by identity first, field
# by field only when they are different objects. A search makes its `Local`s in memos, once
# per value (the initial states' in `pack`), but states that come from another process (a
# record, stolen frontier states) or a checkpoint bring their own copies, which then cost a
# comparison of every field at each lookup, and memory, for as long as the states holding
# them live. `_LOCALS` holds one object per value; memos register what they make, and
# `intern` swaps the copies in such states for it (measured in docs/model-checking.md, "One
# object per value"). Past the limit it starts afresh.
_LOCALS: dict[Local, Local] = {}
LOCALS_LIMIT = 200_000


def _shared(local: Local) -> Local:
    found = _LOCALS.get(local)
    if found is None:
        if len(_LOCALS) >= LOCALS_LIMIT:
            _LOCALS.clear()
        found = _LOCALS[local] = local
    return found


def _shared_outcomes(outcomes: tuple[Outcome, ...]) -> tuple[Outcome, ...]:
    return tuple((action, None if local is None else _shared(local), consumed, sent, needs)
                 for action, local, consumed, sent, needs in outcomes)


def intern(states: list[Packed]) -> list[Packed]:
    """`Model.intern`: the same states, their servers' variables replaced by this process's
    object for each value. Within one message pickle already keeps one copy of an object
    sent many times, so each copy is looked up once, by its id."""
    by_id: dict[int, Any] = {}  # the states keep every object alive: ids stay unique
    out = []
    for state in states:
        servers = state[0]
        shared = by_id.get(id(servers))
        if shared is None:
            parts = []
            for local in servers:
                one = by_id.get(id(local))
                if one is None:
                    one = by_id[id(local)] = _shared(local)
                parts.append(one)
            shared = by_id[id(servers)] = tuple(parts)
        out.append(state if shared is servers else (shared, state[1], state[2]))
    return out


# ---------------------------------------------------------------- symmetry


def canonical(state: Packed, symmetry: bool = True) -> Packed:
    """The least packed form over the renamings of server ids that sort the servers by an
    id-free signature; see `encoding` for why trying only those renamings still gives one
    representative per orbit. Two stages, both renaming-invariant: the servers' own term,
    role, log and commit_index usually tell them apart; only on a tie is the finer signature
    (`_signatures`: votes as seen from the server, and its messages) computed. The identity
    renaming returns the state itself (its bag is kept sorted)."""
    servers = state[0]
    n = len(servers)
    if not symmetry or n == 1:
        return state
    order, tied, own_keys, parts, _ = _plan_of(servers)
    if tied is None:
        return state if order is None else _renamed(state, order)
    # Refine only the tied servers' keys: being tied is itself renaming-invariant.
    keys: list[Any] = list(own_keys)  # type: ignore[arg-type]  # (a whole plan has them)
    for i, signature in zip(tied, _signatures(state, tied, parts), strict=True):
        keys[i] = (*keys[i], signature)
    if len(set(keys)) < n:
        return min(_renamed(state, order) for order in orders_by(keys))
    order = sorted(range(n), key=keys.__getitem__)
    return state if order == _IDENTITY[n] else _renamed(state, order)


# What `canonical` and `orbit_owner` read from the servers' variables alone, memoised on
# them (a bounded model has few combinations; past the limit the memo starts afresh): (the
# renaming that sorts the servers, None for the identity; the tied servers, None if none;
# the servers' own keys; the servers' part of their signatures, None if none is tied; their
# `orbit_key`). The last plan is also kept by identity: the owner of a successor is asked
# just before its canonical form. A combination only asked its owner has a partial plan, its
# own keys None: in a parallel search that is a successor owned by another process, which
# alone canonicalises it (1.9 M states at <= 2 in flight: 35,000 such combinations a search,
# 14,000 of them tied).
Plan = tuple[
    Sequence[int] | None, list[int] | None, list[Any] | None, list[tuple[Any, ...]] | None, int
]
_PLANS: dict[tuple[Local, ...], Plan] = {}
_LAST_PLAN: list[Any] = [None, None]
PLANS_LIMIT = 1_000_000


def _plan_of(servers: tuple[Local, ...]) -> Plan:
    """The whole plan of `servers`."""
    plan: Plan | None = _LAST_PLAN[1] if servers is _LAST_PLAN[0] else _PLANS.get(servers)
    if plan is None or plan[2] is None:
        plan = _plan(servers, None if plan is None else plan[4])
        _remember(servers, plan)
    _LAST_PLAN[0], _LAST_PLAN[1] = servers, plan
    return plan


def _remember(servers: tuple[Local, ...], plan: Plan) -> None:
    if len(_PLANS) >= PLANS_LIMIT:
        _PLANS.clear()
    _PLANS[servers] = plan


def _plan(servers: tuple[Local, ...], orbit: int | None = None) -> Plan:
    n = len(servers)
    keys: list[Any] = list(map(_OWN_KEY, servers))
    if orbit is None:
        orbit = orbit_key(servers)
    if len(set(keys)) == n:
        order = sorted(range(n), key=keys.__getitem__)
        return (None if order == _IDENTITY[n] else tuple(order)), None, keys, None, orbit
    tied = [i for i in range(n) if keys.count(keys[i]) > 1]
    return None, tied, keys, _server_parts(servers), orbit


_IDENTITY = [list(range(n)) for n in range(8)]


def orbit_owner() -> Callable[[Packed, int], int]:
    """`Model.owner` of packed states with symmetry: `orbit_key` of the servers' variables,
    memoised with the rest of what the canonical form reads from them (`_PLANS`: a successor
    routed to its own partition is canonicalised next, and its servers' tuple is then looked
    up once). A combination not met before gets a partial plan: its orbit key alone."""
    last = _LAST_PLAN

    def owner(state: Packed, fingerprint: int) -> int:
        servers = state[0]
        if servers is last[0]:
            return last[1][4]  # type: ignore[no-any-return]
        plan = _PLANS.get(servers)
        if plan is None:
            plan = (None, None, None, None, orbit_key(servers))
            _remember(servers, plan)
        last[0], last[1] = servers, plan
        return plan[4]

    return owner


def orbit_key(servers: tuple[Local, ...]) -> int:
    """A key of the servers' variables that renaming servers cannot change: the sorted
    per-server term, role, log, commit index, whether it voted for itself, and how many
    servers answered and granted its votes. A parallel search partitions states by it
    (`RaftModel.owner`): every state of an orbit has one owner, known before the canonical
    form, and a step that changes none of these (a message sent, an AppendEntries answered)
    keeps the owner. Coarser keys (the servers' own variables alone: 30 values at ≤ 1 in
    flight) leave the partitions unbalanced (22,468 / 34,553 states with two)."""
    return hash(tuple(sorted([
        (local[TERM], local[ROLE], local[LOG], local[COMMIT_INDEX], local[VOTED_FOR] == i,
         local[VOTES_RESPONDED].bit_count(), local[VOTES_GRANTED].bit_count())
        for i, local in enumerate(servers)
    ])))


_OWN_KEY = itemgetter(TERM, ROLE, LOG, COMMIT_INDEX)


def _signatures(
    state: Packed, which: list[int], parts: list[tuple[Any, ...]] | None = None
) -> list[tuple[Any, ...]]:
    """For the servers `which`, everything about each that renaming servers cannot change
    beyond its term, role, log and commit_index: its vote and vote sets relative to itself,
    its next_index/match_index rows as multisets (its own entry apart), and the id-free bodies
    of the messages it sent and is sent. The part read from the servers' variables alone
    (`_server_parts`) may be given, memoised; the messages' part is computed per state."""
    servers, bag, _ = state
    n = len(servers)
    sent: list[list[int]] = [[] for _ in range(n)]
    received: list[list[int]] = [[] for _ in range(n)]
    for it in bag:
        src, dst = it >> SRC_SHIFT & ID_MASK, it >> DST_SHIFT & ID_MASK
        id_free = it & ~IDS_MASK | (SELF_MARK if src == dst else 0)  # keep "sent to itself"
        sent[src].append(id_free)
        received[dst].append(id_free)
    if parts is None:
        parts = _server_parts(servers)
    return [(*parts[i], tuple(sorted(sent[i])), tuple(sorted(received[i]))) for i in which]


def _server_parts(servers: tuple[Local, ...]) -> list[tuple[Any, ...]]:
    """Per server, the part of its `_signatures` entry read from the servers' variables."""
    n = len(servers)
    parts = []
    for i in range(n):
        _, _, v, _, _, responded, granted, next_index, match_index = servers[i]
        others = sorted(
            (next_index[j], match_index[j], responded >> j & 1, granted >> j & 1)
            for j in range(n) if j != i
        )
        parts.append(
            (
                -1 if v < 0 else int(v == i),
                responded.bit_count(),
                responded >> i & 1,
                granted.bit_count(),
                granted >> i & 1,
                next_index[i],
                match_index[i],
                tuple(others),
            )
        )
    return parts


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
            t, r, v, log, c, responded, granted, next_index, match_index = local
            masks, row = table.masks, table.row
            new = (
                t,
                r,
                table.new_id[v] if v >= 0 else -1,
                log,
                c,
                masks[responded],
                masks[granted],
                row(next_index),
                row(match_index),
            )
            new = locals_[local] = _shared(new)
        renamed.append(new)
    ids = table.ids
    new_bag = tuple(sorted([it & ~IDS_MASK | ids[(it & IDS_MASK) >> DST_SHIFT] for it in bag]))
    return (tuple(renamed), new_bag, restarts)


class _Renaming:
    """Lookup tables for one renaming of server ids (order[new] = old)."""

    def __init__(self, order: tuple[int, ...]) -> None:
        n = len(order)
        self.new_id = [0] * n
        for new, old in enumerate(order):
            self.new_id[old] = new
        new_id = self.new_id
        # The renamed id bits of a bag item (indexed by its (src, dst) bits), in place.
        self.ids = [0] * (1 << 2 * ID_BITS)
        for src in range(n):
            for dst in range(n):
                renamed = new_id[src] << ID_BITS | new_id[dst]
                self.ids[src << ID_BITS | dst] = renamed << DST_SHIFT
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
            tuple(entry(e.term, e.value) for e in state.log[i]),
            state.commit_index[i],
            sum(1 << j for j in state.votes_responded[i]),
            sum(1 << j for j in state.votes_granted[i]),
            state.next_index[i],
            state.match_index[i],
        )
        for i in range(n)
    )
    bag = tuple(sorted(item(_pack_message(m), count) for m, count in state.network))
    return (servers, bag, state.restarts)


def _pack_message(m: Message) -> int:
    """The key of a readable message."""
    match m:
        case RequestVote():
            body = request_vote_body(m.term, m.last_log_index, m.last_log_term)
        case RequestVoteReply():
            body = request_vote_reply_body(m.term, m.granted)
        case AppendEntries():
            sent = entry(m.entries[0].term, m.entries[0].value) if m.entries else 0
            body = append_entries_body(m.term, m.prev_index, m.prev_term, sent, m.leader_commit)
        case AppendEntriesReply():
            body = append_entries_reply_body(m.term, m.success, m.match_index)
        case _:
            raise ValueError(f"raft.tla has no {type(m).__name__}")
    return key(body, m.src, m.dst)


def unpack(packed: Packed) -> TlaState:
    """The readable raft.tla state a packed state stands for (inverse of `pack`)."""
    servers, bag, restarts = packed
    term, role, voted_for, log, commit_index, responded, granted, next_index, match_index = zip(
        *map(readable_server, servers), strict=True
    )
    network = tuple(
        sorted(((unpack_message(item_key(it)), item_count(it)) for it in bag), key=bag_key)
    )
    return TlaState(term, role, voted_for, log, commit_index, responded, granted, next_index,
                    match_index, network, restarts)


_READABLE_SERVERS: dict[Local, tuple[Any, ...]] = {}
_MEMBERS = [frozenset(j for j in range(8) if mask >> j & 1) for mask in range(256)]


def readable_server(local: Local) -> tuple[Any, ...]:
    """One server's packed variables in the readable types, in the field order of `TlaState`
    (and of `spec.raft.State` without its snapshot): term, role, voted_for, log, commit_index,
    votes_responded, votes_granted, next_index, match_index. Memoised: a bounded model has few
    distinct servers."""
    readable = _READABLE_SERVERS.get(local)
    if readable is None:
        t, r, v, log, c, responded, granted, next_index, match_index = local
        readable = (
            t,
            _ROLES[r],
            None if v < 0 else v,
            tuple(Entry(entry_term(e), entry_value(e)) for e in log),
            c,
            _MEMBERS[responded],
            _MEMBERS[granted],
            next_index,
            match_index,
        )
        _READABLE_SERVERS[local] = readable
    return readable


def unpack_message(key: int) -> Message:
    """The readable message of a key (a bag item without its count)."""
    src, dst, body = key >> ID_BITS & ID_MASK, key & ID_MASK, key >> KEY_BODY_SHIFT
    kind, term = body & KIND_MASK, body >> TERM_SHIFT & TERM_MASK

    def field(shift: int) -> int:
        return body >> shift & FIELD_MASK

    if kind == RV:
        return RequestVote(src, dst, term, field(LAST_LOG_INDEX_SHIFT),
                           field(LAST_LOG_TERM_SHIFT))
    if kind == RVR:
        return RequestVoteReply(src, dst, term, bool(field(GRANTED_SHIFT)))
    if kind == AE:
        sent = field(ENTRY_SHIFT)
        entries = (Entry(entry_term(sent), entry_value(sent)),) if sent else ()
        return AppendEntries(src, dst, term, field(PREV_INDEX_SHIFT), field(PREV_TERM_SHIFT),
                             entries, field(LEADER_COMMIT_SHIFT))
    return AppendEntriesReply(src, dst, term, bool(field(SUCCESS_SHIFT)),
                              field(MATCH_INDEX_SHIFT))
