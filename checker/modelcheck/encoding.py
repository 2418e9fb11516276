"""A compact, canonical encoding of Raft spec states: nested tuples of ints (and the spec's
own frozen log entries and snapshots, which hold no server ids).

The readable spec (`spec.raft`) stays the source of truth; this module only derives from it a
representation the search can store and compare cheaply, and `decode(encode(s)) == s` is
tested. Symmetry reduction (TLC's SYMMETRY over server ids) is done here: `canonical(state)`
is the least encoding over the renamings of server ids, so two states in one orbit get the
same encoding, and hence the same fingerprint.

Only renamings that sort the servers by an id-free signature (term, role, log, snapshot,
commit index) are tried: the sorted signature sequence is the same for every state of an
orbit, so the minimum over those renamings is still an orbit invariant, and in most states the
servers differ and a single renaming is tried instead of n!.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from spec.raft import (
    AppendEntries,
    AppendEntriesReply,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    State,
)
from spec.raft_tla import TlaState, bag_key

Encoding = tuple[object, ...]

_RV, _RVR, _AE, _AER, _IS = range(5)
_ROLES = tuple(Role)


def encode(state: State) -> Encoding:
    """The encoding of `state` with server ids as they are (no symmetry)."""
    return _encode_as(state, list(range(state.servers)))


def canonical(state: State, symmetry: bool = True) -> Encoding:
    """The orbit's representative encoding (or `encode(state)` without symmetry)."""
    if not symmetry:
        return encode(state)
    return min(_encode_as(state, order) for order in _sorting_orders(state))


def _sorting_orders(state: State) -> Iterator[list[int]]:
    """Lists `order` (order[new] = old id) that sort servers by their id-free signature.

    Two stages, both renaming-invariant: the servers' own variables usually tell them apart
    already; only when two tie is the costlier full signature computed."""
    n = state.servers
    quick = [
        (state.term[i], int(state.role[i]), state.log[i], state.commit_index[i])
        for i in range(n)
    ]
    if len(set(quick)) == n:
        return iter([sorted(range(n), key=quick.__getitem__)])
    return orders_by(_signatures(state))


def _signatures(state: State) -> list[tuple[object, ...]]:
    """Per server, everything about it that renaming servers cannot change: its own
    variables, how its vote and vote sets relate to itself, the multisets of its
    next/match indexes, and the id-free contents of the messages it sent and is sent.

    The finer the signature, the fewer ties, and a tie costs a factor of its size! in
    encodings tried; any renaming-equivariant signature gives the same orbit count."""
    bodies = ((m.src, m.dst, _message_body(m)) for m in state.network)
    return _signatures_of(state, bodies, state.snapshot)


def _signatures_of(
    state: State | TlaState,
    bodies: Iterable[tuple[int, int, object]],
    snapshots: Sequence[object] | None,
) -> list[tuple[object, ...]]:
    """The full signatures of `_signatures`, given each message as (src, dst, id-free body):
    one definition for both specs, whose states share these variables (raft.tla has no
    snapshots)."""
    n = state.servers
    sent: list[list[Any]] = [[] for _ in range(n)]
    received: list[list[Any]] = [[] for _ in range(n)]
    for src, dst, body in bodies:
        sent[src].append(body)
        received[dst].append(body)
    return [
        (
            state.term[i],
            int(state.role[i]),
            state.log[i],
            *(() if snapshots is None else (snapshots[i],)),
            state.commit_index[i],
            *_peer_signature(
                i,
                state.voted_for[i],
                state.votes_responded[i],
                state.votes_granted[i],
                state.next_index[i],
                state.match_index[i],
            ),
            tuple(sorted(sent[i])),
            tuple(sorted(received[i])),
        )
        for i in range(n)
    ]


def _peer_signature(
    i: int,
    vote: int | None,
    responded: frozenset[int],
    granted: frozenset[int],
    next_row: tuple[int, ...],
    match_row: tuple[int, ...],
) -> tuple[object, ...]:
    # Only ids relative to i itself survive a renaming: "voted for itself", "responded
    # to itself"; the rest as counts and sorted multisets (self's entries kept apart).
    others = [j for j in range(len(next_row)) if j != i]
    return (
        -1 if vote is None else int(vote != i),
        len(responded),
        i in responded,
        len(granted),
        i in granted,
        next_row[i],
        match_row[i],
        tuple(sorted([(next_row[j], match_row[j], j in granted) for j in others])),
    )


def _message_body(m: Message) -> tuple[object, ...]:
    """A message's encoding without its sender and receiver."""
    encoded = _encode_message(m, _IDENTITY)
    return (encoded[0], *encoded[3:])


_IDENTITY = range(64)


def orders_by(sig: Sequence[tuple[Any, ...]]) -> Iterator[list[int]]:
    n = len(sig)
    ordered = sorted(range(n), key=sig.__getitem__)
    groups: list[list[int]] = []
    for i in ordered:
        if groups and sig[groups[-1][0]] == sig[i]:
            groups[-1].append(i)
        else:
            groups.append([i])
    if len(groups) == n:
        yield ordered
        return
    for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
        yield [i for group in choice for i in group]


def _encode_as(state: State, order: Sequence[int]) -> Encoding:
    """Encode with server `order[new]` renamed to `new`. Logs, entries and snapshots are kept
    as the spec's own frozen objects (hashable, ordered, no server ids inside); only what
    names servers is rewritten."""
    n = len(order)
    new_id = [0] * n
    for new, old in enumerate(order):
        new_id[old] = new
    identity = all(old == new for new, old in enumerate(order))
    servers = []
    voted_for = state.voted_for
    for old in order:
        vote = voted_for[old]
        responded = 0
        for j in state.votes_responded[old]:
            responded |= 1 << new_id[j]
        granted = 0
        for j in state.votes_granted[old]:
            granted |= 1 << new_id[j]
        next_index, match_index = state.next_index[old], state.match_index[old]
        if not identity:
            next_index = tuple([next_index[o] for o in order])
            match_index = tuple([match_index[o] for o in order])
        servers.append(
            (
                state.term[old],
                int(state.role[old]),
                -1 if vote is None else new_id[vote],
                state.log[old],
                state.snapshot[old],
                state.commit_index[old],
                responded,
                granted,
                next_index,
                match_index,
            )
        )
    network = tuple(sorted([_encode_message(m, new_id) for m in state.network]))
    return (tuple(servers), network, state.restarts)


def _encode_message(m: Message, new_id: Sequence[int]) -> tuple[object, ...]:
    src, dst = new_id[m.src], new_id[m.dst]
    match m:
        case RequestVote():
            return (_RV, src, dst, m.term, m.last_log_index, m.last_log_term)
        case RequestVoteReply():
            return (_RVR, src, dst, m.term, int(m.granted))
        case AppendEntries():
            return (
                _AE,
                src,
                dst,
                m.term,
                m.prev_index,
                m.prev_term,
                m.entries,
                m.leader_commit,
            )
        case AppendEntriesReply():
            return (_AER, src, dst, m.term, int(m.success), m.match_index)
        case InstallSnapshot():
            return (_IS, src, dst, m.term, m.last_index, m.last_term, m.values)
    raise AssertionError(f"not a message: {m!r}")  # pragma: no cover


def decode(encoding: Encoding) -> State:
    """The state an encoding stands for (inverse of `encode`)."""
    servers, network, restarts = encoding
    assert isinstance(servers, tuple) and isinstance(network, tuple) and isinstance(restarts, int)
    # (each server's tuple holds the spec's per-server variables in State's field order)
    (term, role, voted_for, log, snapshot, commit_index, votes_responded, votes_granted,
     next_index, match_index) = zip(*servers, strict=True)
    members = _members(len(servers))
    return State(
        term=term,
        role=tuple(_ROLES[r] for r in role),
        voted_for=tuple(None if v < 0 else v for v in voted_for),
        log=log,
        snapshot=snapshot,
        commit_index=commit_index,
        votes_responded=tuple(map(members, votes_responded)),
        votes_granted=tuple(map(members, votes_granted)),
        next_index=next_index,
        match_index=match_index,
        network=frozenset(_decode_message(m) for m in network),
        restarts=restarts,
    )


def _members(n: int) -> Callable[[int], frozenset[int]]:
    """The set of servers a bitmask over n servers stands for."""
    def members(mask: int) -> frozenset[int]:
        return frozenset(j for j in range(n) if mask >> j & 1)

    return members


def _decode_message(m: tuple[object, ...]) -> Message:
    kind, src, dst, term, *rest = m
    assert isinstance(src, int) and isinstance(dst, int) and isinstance(term, int)
    if kind == _RV:
        return RequestVote(src, dst, term, *rest)  # type: ignore[arg-type]
    if kind == _RVR:
        return RequestVoteReply(src, dst, term, bool(rest[0]))
    if kind == _AE:
        prev_index, prev_term, entries, leader_commit = rest
        assert isinstance(entries, tuple)
        return AppendEntries(src, dst, term, prev_index, prev_term, entries, leader_commit)  # type: ignore[arg-type]
    if kind == _AER:
        return AppendEntriesReply(src, dst, term, bool(rest[0]), rest[1])  # type: ignore[arg-type]
    return InstallSnapshot(src, dst, term, *rest)  # type: ignore[arg-type]


# ---- raft.tla mode (spec.raft_tla.TlaState): the same scheme, with the bag's counts ----


def canonical_tla(state: TlaState, symmetry: bool = True) -> Encoding:
    """Canonical encoding of a raft.tla-mode state (bag counts, count-0 entries included)."""
    n = state.servers
    if not symmetry:
        return _encode_tla_as(state, list(range(n)))
    quick = [
        (state.term[i], int(state.role[i]), state.log[i], state.commit_index[i])
        for i in range(n)
    ]
    if len(set(quick)) == n:
        return _encode_tla_as(state, sorted(range(n), key=quick.__getitem__))
    return min(_encode_tla_as(state, order) for order in orders_by(_tla_signatures(state)))


def _tla_signatures(state: TlaState) -> list[tuple[object, ...]]:
    """As `_signatures`, over the bag (a message's count is part of its body)."""
    bodies = ((m.src, m.dst, (_message_body(m), count)) for m, count in state.network)
    return _signatures_of(state, bodies, None)


def _encode_tla_as(state: TlaState, order: Sequence[int]) -> Encoding:
    n = len(order)
    new_id = [0] * n
    for new, old in enumerate(order):
        new_id[old] = new
    term, role, voted_for, log = state.term, state.role, state.voted_for, state.log
    commit_index, next_index, match_index = state.commit_index, state.next_index, state.match_index
    votes_responded, votes_granted = state.votes_responded, state.votes_granted
    servers = []
    for old in order:
        vote = voted_for[old]
        responded = granted = 0  # the sets are small and mostly empty: no generator
        for j in votes_responded[old]:
            responded |= 1 << new_id[j]
        for j in votes_granted[old]:
            granted |= 1 << new_id[j]
        next_row, match_row = next_index[old], match_index[old]
        servers.append(
            (
                term[old],
                int(role[old]),
                -1 if vote is None else new_id[vote],
                log[old],
                commit_index[old],
                responded,
                granted,
                tuple([next_row[o] for o in order]),
                tuple([match_row[o] for o in order]),
            )
        )
    bag = tuple(sorted([(_encode_message(m, new_id), c) for m, c in state.network]))
    return (tuple(servers), bag, state.restarts)


def decode_tla(encoding: Encoding) -> TlaState:
    servers, bag, restarts = encoding
    assert isinstance(servers, tuple) and isinstance(bag, tuple) and isinstance(restarts, int)
    # (each server's tuple holds TlaState's per-server variables in its field order)
    (term, role, voted_for, log, commit_index, votes_responded, votes_granted, next_index,
     match_index) = zip(*servers, strict=True)
    members = _members(len(servers))
    return TlaState(
        term=term,
        role=tuple(_ROLES[r] for r in role),
        voted_for=tuple(None if v < 0 else v for v in voted_for),
        log=log,
        commit_index=commit_index,
        votes_responded=tuple(map(members, votes_responded)),
        votes_granted=tuple(map(members, votes_granted)),
        next_index=next_index,
        match_index=match_index,
        network=tuple(sorted(((_decode_message(m), c) for m, c in bag), key=bag_key)),
        restarts=restarts,
    )
