"""The states of the Raft core's model (`impl_raft`) as plain values, and their symmetry.

A model state is a tuple of integers, byte strings and tuples of those — nothing else — so
that it hashes fast, compares totally (the canonical member of a symmetry orbit is the least
one) and pickles to the parallel search's workers:

    state   = (servers, network, restarts, requests, heartbeats, elections): the last four
              count crashes, client requests, and heartbeat and election timer firings (the
              timers only where `max_heartbeats`, `max_elections` bound them; 0 otherwise)
    server  = (core, timers, persisted, applied, gap), and with parallel write a sixth,
              pending = (staged, durable index) (impl_raft's `Durable`)
    core    = () for a crashed server, else the packed `CoreImage` (`pack_core`)
    timers  = bit mask of the armed timers (ELECTION_BIT, HEARTBEAT_BIT): which timer events
              are enabled; when one would fire is abstracted away (any armed timer may fire
              next, as any election timeout the driver could draw may elapse first)
    persisted = what the driver last made durable: (term, voted_for + 1, snapshot index,
              snapshot term, ((term, value), ...) after the snapshot, snapshot bytes)
    applied = the service's state machine: ((term, value), ...) by index, as handed over
    gap     = 1 once the service was handed an entry past the one it expected (the lab's
              "apply out of order")
    network = ((message, count), ...) sorted: the bag of messages in flight
    message = (kind, src, dst, term, ...) with the fields of `impl.raft.messages` (`pack_message`)

Packing erases what the core provably never reads again, so that states differing only there
are one state ("dead variables"): a non-leader's per-follower maps (rebuilt by
`_become_leader` before any read), a non-candidate's vote tally (rebuilt by
`_become_candidate`), and `leader_id` (written by the core, read only by a service that
redirects clients; no property reads it). `tests/impl_modelcheck` compares the search with and
without this erasure.

Server ids are interchangeable: `permute` renames them everywhere (positions, votes, message
ends and the ids inside messages), and `canonical` takes the least renaming.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from itertools import pairwise, permutations
from typing import Any

from impl.raft.core import CoreImage, Role
from impl.raft.effects import HardState
from impl.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    InstallSnapshot,
    InstallSnapshotReply,
    Message,
    RequestVote,
    RequestVoteReply,
)

ELECTION_BIT, HEARTBEAT_BIT = 1, 2
ROLE_CODE = {Role.FOLLOWER: 0, Role.CANDIDATE: 1, Role.LEADER: 2}
ROLES = (Role.FOLLOWER, Role.CANDIDATE, Role.LEADER)
RV, RVR, AE, AER, IS, ISR = range(6)

Packed = tuple[Any, ...]
FRESH_PERSISTED: Packed = (0, 0, 0, 0, (), b"")


def _pairs(entries: Sequence[Entry]) -> tuple[tuple[int, int], ...]:
    return tuple((e.term, e.command) for e in entries)


# ---------------------------------------------------------------- cores


def pack_core(image: CoreImage, n: int, reduce: bool = True) -> Packed:
    """A live core as a value: (term, voted_for + 1, role, leader_id + 1, snapshot index,
    snapshot term, entries after the snapshot as (term, value), snapshot bytes, commit
    index, last applied, votes granted, next_index, match_index, in_flight, sent_to), the
    per-follower ones as tuples by server id (0 at the server's own position), then the
    ReadIndex state: read round, the rounds each follower echoed (by id), reads pending
    and waiting)."""
    role = ROLE_CODE[image.role]
    leader = reduce is False or role == 2
    candidate = reduce is False or role == 1
    sentinel = image.log[0]

    def by_id(pairs: tuple[tuple[int, Any], ...]) -> tuple[int, ...]:
        if not leader or not pairs:
            return ()
        values = dict(pairs)
        return tuple(int(values.get(j, 0)) for j in range(n))

    return (
        image.term,
        _id(image.voted_for),
        role,
        0 if reduce else _id(image.leader_id),
        sentinel.index,
        sentinel.term,
        _pairs(image.log[1:]),
        image.snapshot,
        image.commit_index,
        image.last_applied,
        tuple(sorted(image.votes_granted)) if candidate else (),
        by_id(image.next_index),
        by_id(image.match_index),
        by_id(image.in_flight),
        by_id(image.sent_to),
        image.read_round,
        by_id(image.read_acks),
        image.reads,
        image.reads_waiting,
    )


def unpack_core(core: Packed, me: int) -> CoreImage:
    (term, voted, role, leader, snap_index, snap_term, entries, snapshot, commit, applied,
     granted, next_index, match_index, in_flight, sent_to, read_round, read_acks, reads,
     waiting) = core

    def pairs(values: tuple[int, ...], cast: type = int) -> tuple[tuple[int, Any], ...]:
        return tuple((j, cast(v)) for j, v in enumerate(values) if j != me)

    log = (Entry(index=snap_index, term=snap_term, command=None),
           *(Entry(index=snap_index + k + 1, term=t, command=v)
             for k, (t, v) in enumerate(entries)))
    return CoreImage(term=term, voted_for=_unid(voted), role=ROLES[role],
                     leader_id=_unid(leader), log=log, snapshot=snapshot, commit_index=commit,
                     last_applied=applied, votes_granted=frozenset(granted),
                     next_index=pairs(next_index), match_index=pairs(match_index),
                     in_flight=pairs(in_flight, bool), sent_to=pairs(sent_to),
                     read_round=read_round, read_acks=pairs(read_acks), reads=reads,
                     reads_waiting=waiting)


def pack_hard(hard: HardState, snapshot: bytes) -> Packed:
    return (hard.term, _id(hard.voted_for), hard.snapshot_index, hard.snapshot_term,
            _pairs(hard.log), snapshot)


def unpack_hard(persisted: Packed) -> tuple[HardState, bytes]:
    term, voted, snap_index, snap_term, entries, snapshot = persisted
    log = tuple(Entry(index=snap_index + k + 1, term=t, command=v)
                for k, (t, v) in enumerate(entries))
    return HardState(term=term, voted_for=_unid(voted), snapshot_index=snap_index,
                     snapshot_term=snap_term, log=log), snapshot


def _id(server: int | None) -> int:
    return 0 if server is None else server + 1


def _unid(code: int) -> int | None:
    return None if code == 0 else code - 1


# ---------------------------------------------------------------- snapshots of the service


def snapshot_bytes(applied: Sequence[tuple[int, int]]) -> bytes:
    """The service's snapshot of its applied entries: term and value of each, one byte each
    (the bounds keep both below 256)."""
    return bytes(x for pair in applied for x in pair)


def snapshot_pairs(data: bytes) -> tuple[tuple[int, int], ...]:
    return tuple((data[k], data[k + 1]) for k in range(0, len(data) - 1, 2))


# ---------------------------------------------------------------- messages


def pack_message(src: int, dst: int, m: Message) -> Packed:
    match m:
        case RequestVote():
            return (RV, src, dst, m.term, m.candidate, m.last_log_index, m.last_log_term)
        case RequestVoteReply():
            return (RVR, src, dst, m.term, int(m.granted))
        case AppendEntries():
            entries = tuple((e.index, e.term, e.command) for e in m.entries)
            return (AE, src, dst, m.term, m.leader, m.prev_index, m.prev_term, entries,
                    m.leader_commit, m.read_round)
        case AppendEntriesReply():
            conflict = -1 if m.conflict_term is None else m.conflict_term
            return (AER, src, dst, m.term, int(m.success), m.prev_index, m.match_index,
                    conflict, m.conflict_index, m.read_round)
        case InstallSnapshot():
            return (IS, src, dst, m.term, m.leader, m.last_index, m.last_term, m.data)
        case InstallSnapshotReply():
            return (ISR, src, dst, m.term, m.last_index)
    raise AssertionError(f"not a Raft message: {m!r}")  # pragma: no cover


def unpack_message(p: Packed) -> Message:
    kind = p[0]
    if kind == RV:
        return RequestVote(term=p[3], candidate=p[4], last_log_index=p[5], last_log_term=p[6])
    if kind == RVR:
        return RequestVoteReply(term=p[3], granted=bool(p[4]))
    if kind == AE:
        entries = tuple(Entry(index=i, term=t, command=v) for i, t, v in p[7])
        return AppendEntries(term=p[3], leader=p[4], prev_index=p[5], prev_term=p[6],
                             entries=entries, leader_commit=p[8], read_round=p[9])
    if kind == AER:
        return AppendEntriesReply(term=p[3], success=bool(p[4]), prev_index=p[5],
                                  match_index=p[6], conflict_term=None if p[7] < 0 else p[7],
                                  conflict_index=p[8], read_round=p[9])
    if kind == IS:
        return InstallSnapshot(term=p[3], leader=p[4], last_index=p[5], last_term=p[6],
                               data=p[7])
    return InstallSnapshotReply(term=p[3], last_index=p[4])


def describe_packed(p: Packed) -> str:
    """`s0→s1 AppendEntries t1 prev=0/0 [1/1] commit=0`: the core's own rendering."""
    return f"s{p[1]}→s{p[2]} {unpack_message(p).describe()}"


# ---------------------------------------------------------------- symmetry


def permute(state: Packed, perm: Sequence[int]) -> Packed:
    """`state` with server j renamed perm[j] everywhere."""
    servers, network, *counts = state
    renamed: list[Packed] = [()] * len(servers)
    for j, server in enumerate(servers):
        renamed[perm[j]] = _permute_server(server, tuple(perm))
    net = tuple(sorted((_permute_message(m, tuple(perm)), c) for m, c in network))
    return (tuple(renamed), net, *counts)


def canonical(state: Packed) -> Packed:
    """The least member of `state`'s orbit under the renamings that sort the servers by their
    `_colour` (a summary with no server id in it, so every member of the orbit has the same
    colours): the same set of renamings' results for every member, hence one canonical form
    per orbit; and where colours differ — most states — only one renaming is tried."""
    servers = state[0]
    colours = [_colour(server) for server in servers]
    order = sorted(range(len(servers)), key=colours.__getitem__)
    ranked = [colours[j] for j in order]
    if all(a != b for a, b in pairwise(ranked)):
        sorting = [0] * len(order)
        for new, old in enumerate(order):
            sorting[old] = new
        return permute(state, sorting)
    best: Packed | None = None
    for perm in _perms(len(servers)):
        # perm[j] is server j's new id: keep those that sort the colours
        if all(colours[a] <= colours[b] for a, b in _pairs_by_new_id(perm)):
            candidate = permute(state, perm)
            if best is None or candidate < best:
                best = candidate
    assert best is not None
    return best


@functools.cache
def _pairs_by_new_id(perm: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """(old id of new id k, old id of new id k + 1) for each k."""
    inverse = [0] * len(perm)
    for old, new in enumerate(perm):
        inverse[new] = old
    return tuple(pairwise(inverse))


@functools.lru_cache(maxsize=1 << 18)
def _colour(server: Packed) -> Packed:
    """What a server holds that names no server: its core without votes, leader and
    per-follower maps, its timers, what it persisted but the vote, and its service."""
    core, timers, persisted, applied, gap = server[:5]
    summary = (core[0], core[2], *core[4:10]) if core else ()
    # Parallel write's `pending` (impl_raft): the staged state but its vote, the durable index.
    pending = tuple((p[0][:1] + p[0][2:], p[1]) for p in server[5:])
    return (summary, timers, persisted[0], persisted[2:], applied, gap, *pending)


@functools.cache
def _perms(n: int) -> tuple[tuple[int, ...], ...]:
    return tuple(permutations(range(n)))


# A server's and a message's renamings are memoised: most states share most of them.
@functools.lru_cache(maxsize=1 << 18)
def _permute_server(server: Packed, perm: tuple[int, ...]) -> Packed:
    core, timers, persisted, applied, gap = server[:5]
    pending = tuple((_permute_hard(p[0], perm) if p[0] else (), p[1]) for p in server[5:])
    return (_permute_core(core, perm), timers, _permute_hard(persisted, perm), applied, gap,
            *pending)


def _rename(code: int, perm: Sequence[int]) -> int:
    return 0 if code == 0 else perm[code - 1] + 1


def _by_new_id(values: tuple[int, ...], perm: Sequence[int]) -> tuple[int, ...]:
    if not values:
        return values
    out = [0] * len(values)
    for j, v in enumerate(values):
        out[perm[j]] = v
    return tuple(out)


def _permute_core(core: Packed, perm: Sequence[int]) -> Packed:
    if not core:
        return core
    (term, voted, role, leader, snap_index, snap_term, entries, snapshot, commit, applied,
     granted, next_index, match_index, in_flight, sent_to, read_round, read_acks, reads,
     waiting) = core
    return (term, _rename(voted, perm), role, _rename(leader, perm), snap_index, snap_term,
            entries, snapshot, commit, applied, tuple(sorted(perm[j] for j in granted)),
            _by_new_id(next_index, perm), _by_new_id(match_index, perm),
            _by_new_id(in_flight, perm), _by_new_id(sent_to, perm), read_round,
            _by_new_id(read_acks, perm), reads, waiting)


def _permute_hard(persisted: Packed, perm: Sequence[int]) -> Packed:
    term, voted, *rest = persisted
    return (term, _rename(voted, perm), *rest)


@functools.lru_cache(maxsize=1 << 18)
def _permute_message(p: Packed, perm: tuple[int, ...]) -> Packed:
    kind, src, dst = p[0], perm[p[1]], perm[p[2]]
    if kind == RV:
        return (kind, src, dst, p[3], perm[p[4]], *p[5:])
    if kind in (AE, IS):
        return (kind, src, dst, p[3], perm[p[4]], *p[5:])
    return (kind, src, dst, *p[3:])
