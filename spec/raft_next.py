"""The Raft spec's initial states and successor function (theory of operation: `spec/raft.py`).

Each action is a function `(state, config, ...) -> State | None` (None: not enabled) so that it
reads like a TLA+ action: guards first, then the new values. `successors` enumerates every
enabled action with its parameters.
"""

from __future__ import annotations

from collections.abc import Iterator

from spec.raft_receive import receive
from spec.raft_types import (
    Action,
    AppendEntries,
    Config,
    Entry,
    InstallSnapshot,
    Message,
    RequestVote,
    Role,
    Snapshot,
    State,
    last_index,
    last_term,
    term_at,
    tuple_set,
    updated,
)


def initial_states(config: Config) -> list[State]:
    """The one initial state: every server a follower in term 0 with an empty log (Figure 2:
    terms and indexes are "initialized to 0 on first boot"), nothing in flight."""
    n = config.servers
    return [
        State(
            term=(0,) * n,
            role=(Role.FOLLOWER,) * n,
            voted_for=(None,) * n,
            log=((),) * n,
            snapshot=(Snapshot(),) * n,
            commit_index=(0,) * n,
            votes_responded=(frozenset(),) * n,
            votes_granted=(frozenset(),) * n,
            next_index=((1,) * n,) * n,
            match_index=((0,) * n,) * n,
            network=frozenset(),
            restarts=0,
        )
    ]


def successors(state: State, config: Config) -> Iterator[tuple[Action, State]]:
    """Every enabled action and the state it leads to. Deterministic order: servers, then
    peers, then messages in sorted order (so that counterexamples are reproducible)."""
    n = config.servers
    for i in range(n):
        nxt = timeout(state, config, i)
        if nxt is not None:
            yield Action("Timeout", i), nxt
        nxt = restart(state, config, i)
        if nxt is not None:
            yield Action("Restart", i), nxt
        for v in range(1, config.values + 1):
            nxt = client_request(state, config, i, v)
            if nxt is not None:
                yield Action("ClientRequest", i, value=v), nxt
        nxt = compact(state, config, i)
        if nxt is not None:
            yield Action("Compact", i), nxt
        for j in range(n):
            if j == i:
                continue
            for name, send in _SENDS:
                sent = send(state, config, i, j)
                if sent is not None:
                    nxt = _send(state, config, sent)
                    if nxt is not None:
                        yield Action(name, i, peer=j, message=sent), nxt
    for m in sorted(state.network, key=_message_order):
        nxt = receive(state, config, m, keep=False)
        if nxt is not None:
            yield Action("Receive", m.dst, peer=m.src, message=m), nxt
        if config.duplicates:
            # Duplication: the message is delivered and stays in the network, so it can be
            # delivered again later (a set-based network loses nothing by this: DSLabs does it).
            nxt = receive(state, config, m, keep=True)
            if nxt is not None:
                yield Action("Duplicate", m.dst, peer=m.src, message=m), nxt
        if config.drops:
            yield (
                Action("Drop", m.dst, peer=m.src, message=m),
                updated(state, network=state.network - {m}),
            )


def _message_order(m: Message) -> tuple[str, tuple[object, ...]]:
    return type(m).__name__, tuple(getattr(m, f) for f in m.__slots__)


def _send(state: State, config: Config, m: Message) -> State | None:
    """Put m in flight, if that stays within max_messages. Sending a message already in flight
    is not a step (the network is a set; re-sending changes nothing)."""
    if m in state.network or len(state.network) >= config.max_messages:
        return None
    return updated(state, network=state.network | {m})


# ---------------------------------------------------------------- server-local actions


def timeout(state: State, config: Config, i: int) -> State | None:
    """§5.2: a follower or candidate whose election timer fires starts an election: new term,
    candidate, votes for itself (Figure 2, "Candidates")."""
    if state.role[i] == Role.LEADER or state.term[i] >= config.max_term:
        return None
    return updated(
        state,
        term=tuple_set(state.term, i, state.term[i] + 1),
        role=tuple_set(state.role, i, Role.CANDIDATE),
        voted_for=tuple_set(state.voted_for, i, i),
        votes_responded=tuple_set(state.votes_responded, i, frozenset({i})),
        votes_granted=tuple_set(state.votes_granted, i, frozenset({i})),
    )


def restart(state: State, config: Config, i: int) -> State | None:
    """A crash and restart: Figure 2's persistent state (term, voted_for, log) and the
    snapshot survive; everything volatile is reset. The state machine is rebuilt from the
    snapshot (§7), so commit_index restarts at the snapshot's index."""
    if state.restarts >= config.max_restarts:
        return None
    n = config.servers
    voted_for = state.voted_for
    if config.has_bug("unpersisted-vote"):
        voted_for = tuple_set(voted_for, i, None)  # type: ignore[assignment]
    elif state.role[i] == Role.FOLLOWER and state.commit_index[i] == state.snapshot[i].index:
        # Nothing volatile to lose: the restart would only use up the restart budget, and any
        # behaviour through it is the same behaviour without it, so it is not a step.
        return None
    return updated(
        state,
        role=tuple_set(state.role, i, Role.FOLLOWER),
        voted_for=voted_for,
        commit_index=tuple_set(state.commit_index, i, state.snapshot[i].index),
        votes_responded=tuple_set(state.votes_responded, i, frozenset()),
        votes_granted=tuple_set(state.votes_granted, i, frozenset()),
        next_index=tuple_set(state.next_index, i, (1,) * n),
        match_index=tuple_set(state.match_index, i, (0,) * n),
        restarts=state.restarts + 1,
    )


def client_request(state: State, config: Config, i: int, v: int) -> State | None:
    """§5.3: a leader appends a client's command to its log as a new entry of its term."""
    if state.role[i] != Role.LEADER or last_index(state, i) >= config.max_log:
        return None
    entry = Entry(state.term[i], v)
    return updated(state, log=tuple_set(state.log, i, (*state.log[i], entry)))


def compact(state: State, config: Config, i: int) -> State | None:
    """§7: a server snapshots its committed prefix and discards those log entries."""
    snapshot = state.snapshot[i]
    upto = state.commit_index[i]
    if not config.snapshots or upto <= snapshot.index:
        return None
    cut = upto - snapshot.index
    taken = state.log[i][:cut]
    new_snapshot = Snapshot(upto, taken[-1].term, snapshot.values + tuple(e.value for e in taken))
    return updated(
        state,
        snapshot=tuple_set(state.snapshot, i, new_snapshot),
        log=tuple_set(state.log, i, state.log[i][cut:]),
    )


# ---------------------------------------------------------------- sending requests


def request_vote(state: State, config: Config, i: int, j: int) -> Message | None:
    """§5.2: a candidate asks j for its vote (until j has answered in this term)."""
    if state.role[i] != Role.CANDIDATE or j in state.votes_responded[i]:
        return None
    return RequestVote(
        i, j, state.term[i], last_index(state, i), last_term(state, i)
    )


def append_entries(state: State, config: Config, i: int, j: int) -> Message | None:
    """§5.3: a leader sends j the entries from next_index[j] on (none: a heartbeat), with the
    index and term of the entry before them, and its commit_index."""
    if state.role[i] != Role.LEADER:
        return None
    next_index = state.next_index[i][j]
    snapshot = state.snapshot[i]
    if next_index <= snapshot.index:
        return None  # the entry before next_index was compacted: InstallSnapshot instead
    prev = next_index - 1
    prev_term = term_at(state, i, prev)
    assert prev_term is not None, "next_index beyond the leader's log"
    entries = state.log[i][prev - snapshot.index :]
    return AppendEntries(
        i, j, state.term[i], prev, prev_term, entries, state.commit_index[i]
    )


def install_snapshot(state: State, config: Config, i: int, j: int) -> Message | None:
    """§7: a leader whose log no longer holds the entry before next_index[j] sends its snapshot."""
    snapshot = state.snapshot[i]
    if (state.role[i] != Role.LEADER or snapshot.index == 0
            or state.next_index[i][j] > snapshot.index):
        return None
    return InstallSnapshot(i, j, state.term[i], snapshot.index, snapshot.term, snapshot.values)


_SENDS = (
    ("RequestVote", request_vote),
    ("AppendEntries", append_entries),
    ("InstallSnapshot", install_snapshot),
)
