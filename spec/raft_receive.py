"""Receiving a message: Figure 2's "Receiver implementation" rules, one atomic step each.

A server handles a delivered message in one step, as etcd/raft's `Step` does: first the term
rule of §5.1 (a higher term makes it adopt the term and step down), then the RPC's own rule,
then its reply is put in flight. Processing a message atomically is a standard coarsening: a
server's handler runs without interleaving with other steps of the same server, and other
servers cannot observe the intermediate state (nothing is sent in between).
"""

from __future__ import annotations

from spec.raft_types import (
    AppendEntries,
    AppendEntriesReply,
    Config,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    Snapshot,
    State,
    last_index,
    last_term,
    term_at,
    tuple_set,
    updated,
)


def receive(state: State, config: Config, m: Message, *, keep: bool) -> State | None:
    """Deliver m to m.dst. With keep=True the message also stays in flight (duplication).
    None if the step is not enabled (its reply would exceed max_messages)."""
    network = state.network if keep else state.network - {m}
    i = m.dst
    s = _adopt_term(updated(state, network=network), config, i, m.term)
    reply: Message | None
    match m:
        case RequestVote():
            s, reply = _handle_request_vote(s, config, m)
        case RequestVoteReply():
            s, reply = _handle_request_vote_reply(s, config, m), None
        case AppendEntries():
            s, reply = _handle_append_entries(s, config, m)
        case AppendEntriesReply():
            s, reply = _handle_append_entries_reply(s, config, m), None
        case InstallSnapshot():
            s, reply = _handle_install_snapshot(s, config, m)
    if reply is not None and reply not in s.network:
        if len(s.network) >= config.max_messages:
            return None
        s = updated(s, network=s.network | {reply})
    return s


def _adopt_term(s: State, config: Config, i: int, term: int) -> State:
    """§5.1: "If RPC request or response contains term T > currentTerm: set currentTerm = T,
    convert to follower." voted_for is per term, so it is cleared."""
    if term <= s.term[i]:
        return s
    s = updated(
        s,
        term=tuple_set(s.term, i, term),
        voted_for=tuple_set(s.voted_for, i, None),
    )
    if s.role[i] == Role.LEADER and config.has_bug("no-step-down"):
        return s
    return become_follower(s, config, i)


def become_follower(s: State, config: Config, i: int) -> State:
    """Server i becomes (or stays) a follower. The candidate and leader variables are reset to
    their initial values: no rule reads them until Timeout or winning an election
    re-initialises them (Figure 2), so states that differ only in them are the same state for
    every behaviour and property; resetting them merges those states."""
    n = config.servers
    return updated(
        s,
        role=tuple_set(s.role, i, Role.FOLLOWER),
        votes_responded=tuple_set(s.votes_responded, i, frozenset()),
        votes_granted=tuple_set(s.votes_granted, i, frozenset()),
        next_index=tuple_set(s.next_index, i, (1,) * n),
        match_index=tuple_set(s.match_index, i, (0,) * n),
    )


def _handle_request_vote(s: State, config: Config, m: RequestVote) -> tuple[State, Message]:
    """§5.2 and §5.4.1: grant at most one vote per term, first come first served, and only to a
    candidate whose log is at least as up-to-date as ours (last term, then last index)."""
    i = m.dst
    log_ok = m.last_log_term > last_term(s, i) or (
        m.last_log_term == last_term(s, i) and m.last_log_index >= last_index(s, i)
    )
    if config.has_bug("vote-without-log-check"):
        log_ok = True
    grant = m.term == s.term[i] and log_ok and s.voted_for[i] in (None, m.src)
    if grant:
        s = updated(s, voted_for=tuple_set(s.voted_for, i, m.src))
    return s, RequestVoteReply(i, m.src, s.term[i], grant)


def _handle_request_vote_reply(s: State, config: Config, m: RequestVoteReply) -> State:
    """§5.2: a candidate that gathers votes from a majority becomes leader, with next_index just
    past its log and match_index 0 for every follower (Figure 2, "Volatile state on leaders").
    Stale responses (an older term) are ignored."""
    i = m.dst
    if m.term != s.term[i] or s.role[i] != Role.CANDIDATE:
        return s
    responded = s.votes_responded[i] | {m.src}
    granted = s.votes_granted[i] | {m.src} if m.granted else s.votes_granted[i]
    s = updated(
        s,
        votes_responded=tuple_set(s.votes_responded, i, responded),
        votes_granted=tuple_set(s.votes_granted, i, granted),
    )
    if len(granted) < config.quorum:
        return s
    n = config.servers
    return updated(
        s,
        role=tuple_set(s.role, i, Role.LEADER),
        votes_responded=tuple_set(s.votes_responded, i, frozenset()),
        votes_granted=tuple_set(s.votes_granted, i, frozenset()),
        next_index=tuple_set(s.next_index, i, (last_index(s, i) + 1,) * n),
        match_index=tuple_set(s.match_index, i, (0,) * n),
    )


def _handle_append_entries(
    s: State, config: Config, m: AppendEntries
) -> tuple[State, Message]:
    """Figure 2, AppendEntries receiver: reply false if the term is stale (1) or the log has no
    entry at prev_index with prev_term (2); delete a conflicting entry and all that follow
    it (3); append new entries (4); advance commit_index to min(leader_commit, last new) (5)."""
    i = m.dst
    term = s.term[i]
    fail = AppendEntriesReply(i, m.src, term, False, 0)
    if m.term < term:
        return s, fail
    if s.role[i] == Role.CANDIDATE:
        # §5.2: a candidate that hears from a leader of its term steps down.
        s = become_follower(s, config, i)
    elif s.role[i] == Role.LEADER:
        # Only reachable with a bug (two leaders in a term): a leader does not take orders.
        return s, fail
    snapshot = s.snapshot[i]
    prev, prev_term, entries = m.prev_index, m.prev_term, m.entries
    if prev < snapshot.index:
        # Entries up to our snapshot are committed, so they match (Log Matching): skip them.
        skip = min(snapshot.index - prev, len(entries))
        if prev + skip < snapshot.index:
            return s, AppendEntriesReply(i, m.src, term, True, prev + len(entries))
        prev, prev_term, entries = snapshot.index, snapshot.term, entries[skip:]
    if term_at(s, i, prev) != prev_term:
        return s, fail
    kept = s.log[i][: prev - snapshot.index]  # our entries 1..prev (after the snapshot)
    tail = s.log[i][prev - snapshot.index :]  # our entries after prev
    if config.has_bug("stale-append-truncates"):
        new_log = kept + entries
    else:
        conflict = next(
            (k for k, e in enumerate(entries) if k >= len(tail) or tail[k].term != e.term),
            None,
        )
        new_log = s.log[i] if conflict is None else kept + tail[:conflict] + entries[conflict:]
    last_new = prev + len(entries)
    commit = s.commit_index[i]
    if m.leader_commit > commit:
        commit = max(commit, min(m.leader_commit, last_new))
    s = updated(
        s,
        log=tuple_set(s.log, i, new_log),
        commit_index=tuple_set(s.commit_index, i, commit),
    )
    return s, AppendEntriesReply(i, m.src, term, True, last_new)


def _handle_append_entries_reply(s: State, config: Config, m: AppendEntriesReply) -> State:
    """Figure 2, "Leaders": on success update match_index/next_index, on failure decrement
    next_index and retry; then commit the largest N replicated on a majority whose entry is of
    the current term (§5.3, and §5.4.2: never by counting replicas of an older term's entry).
    Stale responses are ignored."""
    i, j = m.dst, m.src
    if m.term != s.term[i] or s.role[i] != Role.LEADER:
        return s
    if m.success:
        match = max(s.match_index[i][j], m.match_index)
        s = updated(
            s,
            match_index=tuple_set(s.match_index, i, tuple_set(s.match_index[i], j, match)),
            next_index=tuple_set(s.next_index, i, tuple_set(s.next_index[i], j, match + 1)),
        )
        return _advance_commit_index(s, config, i)
    next_index = max(s.next_index[i][j] - 1, 1)
    row = tuple_set(s.next_index[i], j, next_index)
    return updated(s, next_index=tuple_set(s.next_index, i, row))


def _advance_commit_index(s: State, config: Config, i: int) -> State:
    term = s.term[i]
    for index in range(last_index(s, i), s.commit_index[i], -1):
        replicas = 1 + sum(
            1 for j in range(config.servers) if j != i and s.match_index[i][j] >= index
        )
        if replicas < config.quorum:
            continue
        if term_at(s, i, index) == term or config.has_bug("figure8-commit"):
            return updated(s, commit_index=tuple_set(s.commit_index, i, index))
    return s


def _handle_install_snapshot(
    s: State, config: Config, m: InstallSnapshot
) -> tuple[State, Message]:
    """§7, InstallSnapshot receiver: reply immediately if the term is stale; if our log has the
    snapshot's last entry, keep what follows it, otherwise discard the whole log; the state
    machine is reset to the snapshot."""
    i = m.dst
    term = s.term[i]
    if m.term < term:
        return s, AppendEntriesReply(i, m.src, term, False, 0)
    if s.role[i] == Role.CANDIDATE:
        s = become_follower(s, config, i)
    elif s.role[i] == Role.LEADER:
        return s, AppendEntriesReply(i, m.src, term, False, 0)
    snapshot = s.snapshot[i]
    if m.last_index > snapshot.index:
        if term_at(s, i, m.last_index) == m.last_term:
            rest = s.log[i][m.last_index - snapshot.index :]
        else:
            rest = ()
        s = updated(
            s,
            snapshot=tuple_set(s.snapshot, i, Snapshot(m.last_index, m.last_term, m.values)),
            log=tuple_set(s.log, i, rest),
            commit_index=tuple_set(s.commit_index, i, max(s.commit_index[i], m.last_index)),
        )
    return s, AppendEntriesReply(i, m.src, term, True, m.last_index)
