"""The refinement mapping of Raft: implementation state to spec state, written once.

Trace validation (docs/trace-validation.md) compares what the implementation did with what the
spec (`spec.raft`) allows, and both sides must first be put in one vocabulary. This module is
that translation, and the only one: the validator reads a trace's `state` objects through
`view_of_trace`; a live `RaftCore` is read through `view_of_core`, which is `view_of_trace` of
the core's own trace form, so the two cannot drift apart; a crashed server is what it
persisted (`view_of_persisted`). The model checker of the cores
(`checker.modelcheck.models.impl_raft_view`) projects every server of its states through
these same functions; the spec's side is `view_of_spec`.

What is compared (the *spec-visible projection*, `ServerView`): per server the term, role,
vote, the terms of the log after the snapshot, the snapshot's last index and term, and the
commit index. What is not:

* values: the spec models a command as a small integer; a trace records no commands in its
  states (they appear in `apply` events), so entries map to `Entry(term, UNKNOWN_VALUE)` and
  a snapshot to `Snapshot(index, term, ())`, and values are never compared. A caller that
  knows the values (the model checker, whose commands are the spec's integers and whose
  snapshots hold them) passes them to `spec_log`, `spec_snapshot` and `spec_message`;
* `last_applied`: the spec applies what it commits; the validator checks `apply` events
  against the commit index instead;
* a leader's `next_index`, and the vote and match bookkeeping: the spec keeps them, the trace
  does not record them. The validator carries the spec's own values forward (they are
  determined by the messages a server received) and, where the implementation chooses
  differently on purpose (fast back-off picks `next_index`), takes the choice from the
  message the implementation sent (`checker.validation.raft`).

Messages map field by field (`spec_message`), with the sender and receiver from the event; the
core's `InstallSnapshotReply` is the spec's `AppendEntriesReply` to an InstallSnapshot
(success with `match_index` = the snapshot's last index, or a refusal with 0), and the reply
fields the spec has no use for (conflict hints, the answered `prev_index`) are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from spec.raft_types import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    Snapshot,
    State,
    tuple_set,
    updated,
)

if TYPE_CHECKING:
    from impl.raft.core import RaftCore
    from impl.raft.effects import HardState
    from impl.raft.messages import Message as CoreMessage

UNKNOWN_VALUE = 0  # every entry's value: a trace records none (commands are in `apply` events)

ROLE_OF_TRACE: dict[str, Role] = {
    "follower": Role.FOLLOWER, "candidate": Role.CANDIDATE, "leader": Role.LEADER}
TRACE_OF_ROLE: dict[Role, str] = {role: name for name, role in ROLE_OF_TRACE.items()}


@dataclass(frozen=True, slots=True)
class ServerView:
    """The spec-visible projection of one server: what validation compares."""

    term: int
    role: Role
    voted_for: int | None
    log_terms: tuple[int, ...]  # the terms of the entries after the snapshot
    snapshot_index: int
    snapshot_term: int
    commit_index: int

    @property
    def last_index(self) -> int:
        return self.snapshot_index + len(self.log_terms)

    def diff(self, recorded: ServerView) -> list[tuple[str, object, object]]:
        """(field, self's value, recorded's value) for every field that differs."""
        return [(f.name, getattr(self, f.name), getattr(recorded, f.name))
                for f in fields(self) if getattr(self, f.name) != getattr(recorded, f.name)]

    def to_json(self) -> dict[str, object]:
        """In the trace's own form (its `state` object, without `last_applied`)."""
        first = self.snapshot_index + 1
        return {"term": self.term, "voted_for": self.voted_for,
                "role": TRACE_OF_ROLE[self.role],
                "log": [[first + k, t] for k, t in enumerate(self.log_terms)],
                "snapshot_index": self.snapshot_index, "snapshot_term": self.snapshot_term,
                "commit_index": self.commit_index}


RAFT_MESSAGES = frozenset({"RequestVote", "RequestVoteReply", "AppendEntries",
                           "AppendEntriesReply", "InstallSnapshot", "InstallSnapshotReply"})

INITIAL_VIEW = ServerView(term=0, role=Role.FOLLOWER, voted_for=None, log_terms=(),
                          snapshot_index=0, snapshot_term=0, commit_index=0)
"""Figure 2's first boot: the state every server starts in, in the spec and the core."""


def view_of_trace(state: Mapping[str, Any]) -> ServerView:
    """The mapping: a trace's `state` object (traces/README.md, already type-checked by the
    reader) as the spec sees it. The log is read positionally (entry k is at
    `snapshot_index + k`): a state whose indexes do not run on is a WellFormedState violation
    the invariant pass reports."""
    return ServerView(term=state["term"], role=ROLE_OF_TRACE[state["role"]],
                      voted_for=state["voted_for"],
                      log_terms=tuple(entry[1] for entry in state["log"]),
                      snapshot_index=state["snapshot_index"],
                      snapshot_term=state["snapshot_term"],
                      commit_index=state["commit_index"])


def view_of_core(core: RaftCore) -> ServerView:
    """A live core, through the very state object its trace lines record."""
    return view_of_trace(core.visible_state().to_json())


def view_of_persisted(hard: HardState) -> ServerView:
    """A crashed server, as the trace checker judges one (`reader.crashed_rec`): what it
    persisted — term, vote, log, snapshot — as a follower whose commit index is back at its
    snapshot (§7: a restart applies from the snapshot on)."""
    return ServerView(term=hard.term, role=Role.FOLLOWER, voted_for=hard.voted_for,
                      log_terms=tuple(entry.term for entry in hard.log),
                      snapshot_index=hard.snapshot_index, snapshot_term=hard.snapshot_term,
                      commit_index=hard.snapshot_index)


def view_of_spec(state: State, i: int) -> ServerView:
    """Server i of a spec state, values dropped."""
    snapshot = state.snapshot[i]
    return ServerView(term=state.term[i], role=Role(state.role[i]),
                      voted_for=state.voted_for[i],
                      log_terms=tuple(entry.term for entry in state.log[i]),
                      snapshot_index=snapshot.index, snapshot_term=snapshot.term,
                      commit_index=state.commit_index[i])


def spec_log(log_terms: tuple[int, ...],
             values: tuple[int, ...] | None = None) -> tuple[Entry, ...]:
    """The spec's log of these terms; `values` (one per entry), when the caller knows them."""
    if values is None:
        return tuple(Entry(term, UNKNOWN_VALUE) for term in log_terms)
    return tuple(Entry(term, value) for term, value in zip(log_terms, values, strict=True))


def spec_snapshot(view: ServerView, values: tuple[int, ...] = ()) -> Snapshot:
    """The spec's snapshot of a view; `values` (index order), when the caller knows them."""
    return Snapshot(view.snapshot_index, view.snapshot_term, values)


def spec_message(src: int, dst: int, msg: Mapping[str, Any],
                 values: tuple[int, ...] | None = None) -> Message | None:
    """A trace's `msg` object sent from `src` to `dst` as the spec's message; None when its
    `type` is not a Raft message (another system's, e.g. a clerk's RPC). `values`, when the
    caller knows them: an AppendEntries' commands, or an InstallSnapshot's snapshot values."""
    kind = msg.get("type")
    if kind not in RAFT_MESSAGES:
        return None
    term = msg["term"]
    if kind == "AppendEntries":
        return AppendEntries(src, dst, term, msg["prev_index"], msg["prev_term"],
                             spec_log(tuple(e[1] for e in msg["entries"]), values),
                             msg["leader_commit"])
    if kind == "AppendEntriesReply":
        return AppendEntriesReply(src, dst, term, msg["success"],
                                  msg["match_index"] if msg["success"] else 0)
    if kind == "RequestVote":
        return RequestVote(src, dst, term, msg["last_log_index"], msg["last_log_term"])
    if kind == "RequestVoteReply":
        return RequestVoteReply(src, dst, term, msg["granted"])
    if kind == "InstallSnapshot":
        return InstallSnapshot(src, dst, term, msg["last_index"], msg["last_term"],
                               values or ())
    last = msg["last_index"]  # an InstallSnapshotReply
    return AppendEntriesReply(src, dst, term, last > 0, last)


def spec_message_of_core(src: int, dst: int, message: CoreMessage,
                         values: tuple[int, ...] | None = None) -> Message | None:
    """A core message, through its trace form (`values` as for `spec_message`)."""
    return spec_message(src, dst, message.trace(), values)


def with_server(state: State, i: int, view: ServerView) -> State:
    """`state` with server i's spec-visible variables set to `view` (its bookkeeping kept)."""
    snapshot = spec_snapshot(view)
    return updated(
        state,
        term=tuple_set(state.term, i, view.term),
        role=tuple_set(state.role, i, view.role),
        voted_for=tuple_set(state.voted_for, i, view.voted_for),
        log=tuple_set(state.log, i, spec_log(view.log_terms)),
        snapshot=tuple_set(state.snapshot, i, snapshot),
        commit_index=tuple_set(state.commit_index, i, view.commit_index),
    )
