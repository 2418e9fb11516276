"""Hypothesis strategies for arbitrary (not necessarily reachable) spec states.

States are well-shaped (one value per server, ids in range) but their values are drawn from
small ranges so that every invariant is violated often enough to be tested both ways."""

from __future__ import annotations

from hypothesis import strategies as st

from spec.raft_types import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    Snapshot,
    State,
)

TERMS = st.integers(0, 3)


@st.composite
def messages(draw: st.DrawFn, n: int, max_log: int) -> Message:
    src = draw(st.integers(0, n - 1))
    dst = draw(st.integers(0, n - 1).filter(lambda d: d != src))
    term = draw(st.integers(1, 3))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return RequestVote(src, dst, term, draw(st.integers(0, max_log)), draw(TERMS))
    if kind == 1:
        return RequestVoteReply(src, dst, term, draw(st.booleans()))
    if kind == 2:
        prev = draw(st.integers(0, max_log))
        ents = draw(st.lists(st.builds(Entry, st.integers(1, 3), st.integers(1, 2)),
                             max_size=max_log - prev))
        return AppendEntries(src, dst, term, prev, draw(TERMS) if prev else 0,
                                    tuple(ents), draw(st.integers(0, max_log)))
    return AppendEntriesReply(src, dst, term, draw(st.booleans()), draw(st.integers(0, max_log)))


@st.composite
def states(draw: st.DrawFn, *, servers: tuple[int, ...] = (2, 3), max_log: int = 3,
           snapshots: bool = True, max_messages: int = 3) -> State:
    n = draw(st.sampled_from(servers))
    ids = st.integers(0, n - 1)
    terms, roles, voted, logs, snaps, commits = [], [], [], [], [], []
    responded, granted, nexts, matches = [], [], [], []
    for _ in range(n):
        term = draw(TERMS)
        terms.append(term)
        roles.append(draw(st.sampled_from(list(Role))))
        voted.append(draw(st.none() | ids))
        length = draw(st.integers(0, max_log))
        snapshot_index = draw(st.integers(0, length)) if snapshots else 0
        entries = [Entry(draw(st.integers(1, 3)), draw(st.integers(1, 2))) for _ in range(length)]
        if snapshot_index:
            covered = entries[:snapshot_index]
            snaps.append(Snapshot(snapshot_index, covered[-1].term, tuple(e.value for e in covered)))
        else:
            snaps.append(Snapshot())
        logs.append(tuple(entries[snapshot_index:]))
        commits.append(draw(st.integers(0, max_log)))
        r = draw(st.frozensets(ids))
        responded.append(r)
        granted.append(draw(st.sampled_from([r, frozenset(), r | {draw(ids)}])))
        nexts.append(tuple(draw(st.integers(1, max_log + 1)) for _ in range(n)))
        matches.append(tuple(draw(st.integers(0, max_log)) for _ in range(n)))
    network = draw(st.frozensets(messages(n, max_log), max_size=max_messages))
    return State(tuple(terms), tuple(roles), tuple(voted), tuple(logs), tuple(snaps),
                 tuple(commits), tuple(responded), tuple(granted), tuple(nexts),
                 tuple(matches), network, restarts=draw(st.integers(0, 1)))
