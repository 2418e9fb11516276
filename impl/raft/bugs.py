"""Fault flags of the Raft core: classic Raft mistakes, re-created on purpose, off by default.

This table (`BUGS`) is the one place a bug flag of the implementation is declared. Each entry
is data: a name, what the mistake is, whether the spec has the same mistake under the same
name (`spec.raft.BUGS`: a model checker of the implementation can compare the two), the
`RaftConfig` fields the mistake needs in order to show at all, and a mixin class whose
methods replace `RaftCore`'s. `core_class(names)` builds the core with those mixins;
with no names it is `RaftCore` itself, so a flag that is off costs nothing: the correct
core's code has no flag to test, and no hook was added to it for the bugs' sake.

What each mistake looks like, and what catches it, is measured by
`bench/trace_validate_bugs.py` (docs/trace-validation.md has the table): trace validation
(`dscheck check-trace`) catches every one on the lab's scenarios; invariant checking alone
catches some; the lab's own checks catch others.

Each mixin wraps or replaces one method of the core and names it;
`tests/validation/test_fault_flags.py` checks, for every flag, that trace validation catches
the core it builds on a lab scenario under a default seed, while the correct core's traces of
every scenario validate (`test_scenario_traces.py`), so that a rename in the core cannot turn
a flag into a silent no-op.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from impl.raft.core import HEARTBEAT, RaftConfig, RaftCore, Role
from impl.raft.effects import ApplyCommand, Effects, HardState, Send
from impl.raft.messages import AppendEntries, AppendEntriesReply, RequestVote


class _Figure8Commit(RaftCore):
    """figure8-commit: `_advance_commit` without §5.4.2's term check."""

    def _advance_commit(self) -> None:
        held = sorted((self.last_index, *self._match_index.values()), reverse=True)
        n = held[len(self.peers) // 2]
        if n > self.commit_index:  # the bug: no `self._term_at(n) == self.term`
            self.commit_index = n


class _VoteWithoutLogCheck(RaftCore):
    """vote-without-log-check: the candidate's log is judged as if it were exactly as
    up-to-date as the voter's, so only the term and the earlier vote decide."""

    def _on_request_vote(self, src: int, m: RequestVote) -> None:
        as_good = dataclasses.replace(m, last_log_index=self.last_index,
                                      last_log_term=self.last_term)
        super()._on_request_vote(src, as_good)


class _UnpersistedVote(RaftCore):
    """unpersisted-vote: what is persisted never holds the vote; a restart forgets it."""

    def hard_state(self) -> HardState:
        return dataclasses.replace(super().hard_state(), voted_for=None)


class _StaleAppendTruncates(RaftCore):
    """stale-append-truncates: an accepted AppendEntries cuts the log at its last entry,
    even when it is a stale or repeated request whose entries the log already holds."""

    def _on_append_entries(self, src: int, m: AppendEntries) -> None:
        super()._on_append_entries(src, m)
        reply = _reply_just_sent(self)
        if reply.success and self.last_index > reply.match_index >= self.snapshot_index:
            del self._log[reply.match_index - self.snapshot_index + 1:]
            self.log_cuts += 1
            self._out.persist_needed = True


class _NoStepDown(RaftCore):
    """no-step-down: a leader that sees a higher term adopts it and stays leader."""

    def _become_follower(self, term: int, leader: int | None) -> None:
        if self.role is Role.LEADER and term > self.term:
            self.term = term
            self.voted_for = None
            self._out.persist_needed = True
            return
        super()._become_follower(term, leader)


class _ApplyBeforeCommit(RaftCore):
    """apply-before-commit: entries go to the service as soon as the server holds them, not
    once they are committed (last_applied runs ahead of commit_index)."""

    def _finish(self) -> Effects:
        if self.last_index > self.last_applied and self.last_index > self.commit_index:
            base = self.snapshot_index
            for index in range(max(self.last_applied, base) + 1, self.last_index + 1):
                entry = self._log[index - base]
                self._out.applies.append(ApplyCommand(index=index, term=entry.term,
                                                      command=entry.command))
            self.last_applied = self.last_index
        return super()._finish()


class _FollowerCommit(RaftCore):
    """Shared by the two follower-commit mistakes: after an accepted AppendEntries, the
    follower recomputes its commit index with `_commit_bound` in place of the last new
    entry's index (Figure 2, AppendEntries receiver rule 5)."""

    def _on_append_entries(self, src: int, m: AppendEntries) -> None:
        super()._on_append_entries(src, m)
        reply = _reply_just_sent(self)
        if reply.success and m.leader_commit > self.commit_index:
            self.commit_index = max(self.commit_index, self._commit_bound(m))

    def _commit_bound(self, m: AppendEntries) -> int:
        raise NotImplementedError

    def _finish(self) -> Effects:
        # The applier hands over only the entries the server holds (a student's applier
        # loop stops at the end of the log), so the mistake shows in the state, not as a crash.
        committed = self.commit_index
        if committed > self.last_index:
            self.commit_index = max(self.last_index, self.last_applied)
            try:
                return super()._finish()
            finally:
                self.commit_index = committed
        return super()._finish()


class _CommitPastHeld(_FollowerCommit):
    """commit-past-held: the follower takes the leader's commit index whole."""

    def _commit_bound(self, m: AppendEntries) -> int:
        return m.leader_commit


class _CommitToLastIndex(_FollowerCommit):
    """commit-to-last-index: min(leader_commit, the follower's last index).

    The student code this form comes from sends heartbeats without entries, and so does a
    leader with this flag (an empty AppendEntries to each follower before the usual ones):
    our own batches start at a follower's first unmatched entry and cut a stale tail at
    once, so without an empty heartbeat the mistake has no message to show on."""

    def _commit_bound(self, m: AppendEntries) -> int:
        return min(m.leader_commit, self.last_index)

    def timeout(self, name: str) -> Effects:
        if name == HEARTBEAT and self.role is Role.LEADER:
            for peer in self.others:
                prev = self._next_index[peer] - 1
                if prev >= self.snapshot_index:
                    self._out.messages.append(Send(to=peer, message=AppendEntries(
                        term=self.term, leader=self.id, prev_index=prev,
                        prev_term=self._term_at(prev), entries=(),
                        leader_commit=self.commit_index)))
        return super().timeout(name)


class _SnapshotOffByOne(RaftCore):
    """snapshot-off-by-one: the service's Snapshot(index) trims one entry too many: the
    snapshot's last index and term become entry index + 1's (when that entry is applied)."""

    def snapshot(self, index: int, data: bytes) -> Effects:
        if index + 1 <= self.last_applied:
            index += 1
        return super().snapshot(index, data)


class _GrantBeforePersist(RaftCore):
    """grant-before-persist: granting a vote does not ask for the vote to be persisted
    (it reaches storage only with the step's other changes, or a later step's)."""

    def _on_request_vote(self, src: int, m: RequestVote) -> None:
        before = self._out.persist_needed
        super()._on_request_vote(src, m)
        self._out.persist_needed = before


def _reply_just_sent(core: RaftCore) -> AppendEntriesReply:
    """The AppendEntriesReply the handler just queued: every path of `_on_append_entries`
    ends by queueing its reply."""
    reply = core._out.messages[-1].message
    assert isinstance(reply, AppendEntriesReply), "the handler queued no reply"
    return reply


@dataclass(frozen=True, slots=True)
class Bug:
    """One fault flag. `mixin` subclasses `RaftCore` and overrides the methods the mistake
    lives in; `config` lists `RaftConfig` fields the mistake needs in order to be observable
    at all (a tester running the flag applies them); `spec_bug` says the spec re-creates
    the same mistake under the same name (`spec.raft.BUGS`)."""

    name: str
    description: str
    mixin: type[RaftCore]
    spec_bug: bool = False
    config: tuple[tuple[str, Any], ...] = ()


# Our leader always sends every entry from next_index to the end of its log, so an
# AppendEntries' last entry is never below the commit index it carries, and a follower's
# commit rule cannot tell min(leader_commit, last new entry) from the two mistakes below.
# They show once a leader's batches stop short of its log's end: their runs cap a batch at
# one entry, as a student's heartbeat without entries would.
_SHORT_BATCHES = (("max_entries_per_message", 1),)

BUGS: dict[str, Bug] = {bug.name: bug for bug in (
    Bug("figure8-commit",
        "a leader commits an entry of an earlier term by counting replicas (the paper's "
        "Figure 8; §5.4.2 forbids it)", _Figure8Commit, spec_bug=True),
    Bug("vote-without-log-check",
        "a vote is granted without checking that the candidate's log is at least as "
        "up-to-date as the voter's (§5.4.1)", _VoteWithoutLogCheck, spec_bug=True),
    Bug("unpersisted-vote",
        "voted_for is never persisted, so a restarted server can vote twice in a term",
        _UnpersistedVote, spec_bug=True),
    Bug("stale-append-truncates",
        "a follower cuts its log at the end of every accepted AppendEntries, even a stale "
        "or repeated one whose entries it already holds (Figure 2, receiver rule 3: only on "
        "a conflict)", _StaleAppendTruncates, spec_bug=True),
    Bug("no-step-down",
        "a leader that sees a higher term adopts it but stays leader (§5.1: it must step "
        "down)", _NoStepDown, spec_bug=True),
    Bug("apply-before-commit",
        "a server hands entries to its service as soon as it holds them, before they are "
        "committed", _ApplyBeforeCommit),
    Bug("commit-past-held",
        "a follower sets its commit index to the leader's, past the entries it holds "
        "(Figure 2, receiver rule 5 takes the min with the last new entry)", _CommitPastHeld,
        config=_SHORT_BATCHES),
    Bug("snapshot-off-by-one",
        "Snapshot(index) trims one entry too many: the snapshot ends at index + 1",
        _SnapshotOffByOne),
    Bug("grant-before-persist",
        "a vote is granted (and its reply sent) without asking for the vote to be persisted "
        "first", _GrantBeforePersist),
    Bug("commit-to-last-index",
        "a follower commits min(leader_commit, its last index) instead of the last new "
        "entry's index, so it can commit stale entries the request did not vouch for",
        _CommitToLastIndex, config=_SHORT_BATCHES),
)}


def check_bugs(names: Iterable[str]) -> frozenset[str]:
    """`names` as a set, or ValueError naming the first unknown flag and the known ones."""
    chosen = frozenset(names)
    unknown = sorted(chosen - set(BUGS))
    if unknown:
        raise ValueError(f"unknown bug flag(s) {unknown}; known: {sorted(BUGS)}")
    return chosen


@functools.cache
def _built(names: frozenset[str]) -> type[RaftCore]:
    mixins = tuple(BUGS[name].mixin for name in sorted(names))
    return type("RaftCore+" + "+".join(sorted(names)), mixins, {})


def core_class(names: Iterable[str] = ()) -> type[RaftCore]:
    """The Raft core with the named fault flags on: `RaftCore` itself when there are none."""
    chosen = check_bugs(names)
    return _built(chosen) if chosen else RaftCore


def bug_config(names: Iterable[str], config: RaftConfig | None = None) -> RaftConfig:
    """`config` (default: `RaftConfig()`) with the fields the named flags need applied."""
    base = config or RaftConfig()
    changes = dict(field for name in sorted(check_bugs(names)) for field in BUGS[name].config)
    return dataclasses.replace(base, **changes) if changes else base
