"""The Raft core: one server's protocol logic, sans I/O (Raft paper, Figure 2, §5–§7).

Theory of operation
-------------------
A `RaftCore` is a deterministic state machine. Its driver feeds it inputs — a delivered
message (`step`), a timer that fired (`timeout`), a command from the service (`start`), a
snapshot taken by the service (`snapshot`) — and carries out the `Effects` each returns, in
the order documented in `impl.raft.effects` (persist, then send, then apply, then timers).
The core has no clock, no randomness and no threads: election timeouts are drawn by the
driver from the range in `RaftConfig` (§5.2 "randomized election timeouts").

Rules this module keeps:

* Roles change only in `_become_follower`, `_become_candidate` and `_become_leader`, through
  `_change_role`, which rejects transitions Figure 2 does not allow (a follower never becomes
  leader without an election; a leader never becomes a candidate).
* A message carrying a higher term makes the server a follower of that term *before* the
  message is dispatched on its role (Figure 2, "Rules for Servers, All Servers").
* Persistent state (term, vote, log, snapshot bounds) is marked dirty whenever it changes and
  handed out as one `Persist` at the end of the step, before the messages that depend on it.
* A leader commits only entries of its own term by counting replicas (§5.4.2, Figure 8);
  earlier entries commit indirectly.
* Everything committed is handed to the service at the end of the same step, so after each
  step `last_applied == commit_index`.
* Log compaction (§7): the log keeps a sentinel at `snapshot_index` holding `snapshot_term`;
  a follower too far behind gets `InstallSnapshot`, delivered to its service as an
  `ApplySnapshot` unless it already committed past the snapshot.
* Replication starts at once on `start` (no waiting for the next heartbeat) to every follower
  without an unanswered batch in flight; an answered batch is followed at once by the next
  one; heartbeats retransmit whatever is unanswered. A rejected AppendEntries is retried at once with the next index backed up by a whole term using the
  follower's conflict hints (§5.3, "the leader can decrement nextIndex to bypass all of the
  conflicting entries in that term"). Heartbeats go out every `heartbeat_ms` (≤ 10/s).
* ReadIndex (Raft thesis §6.4), only for a service that asks (`read_index`): a leader
  answers a read request once it has committed an entry of its own term (until then it
  cannot know the latest commit index), has recorded its commit index as the read index,
  and has heard, after that, from a majority in its term — each AppendEntries carries the
  leader's latest confirmation round and each reply echoes it, so a reply sent before the
  read was asked for (a delayed one) never counts. The read is then handed back as a
  `ReadReady` with that index. A core never asked for a read sends every message exactly as
  before (round 0 is left out of them).
* Parallel write (`RaftConfig.parallel_write`, thesis §10.2.1): see `persisted` and
  `_advance_commit` for the rule and its safety argument.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from impl.raft.effects import (
    ApplyCommand,
    ApplySnapshot,
    CancelTimer,
    Effects,
    EffectsBuilder,
    HardState,
    Persist,
    ReadReady,
    Send,
    SetTimer,
)
from impl.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Command,
    Entry,
    InstallSnapshot,
    InstallSnapshotReply,
    Message,
    RequestVote,
    RequestVoteReply,
)

ELECTION = "election"
HEARTBEAT = "heartbeat"


class Role(enum.Enum):
    FOLLOWER = "follower"
    CANDIDATE = "candidate"
    LEADER = "leader"


class IllegalTransition(RuntimeError):
    """A role change Figure 2 does not allow: a bug in the core, never a network event."""


_ALLOWED = {
    (Role.FOLLOWER, Role.FOLLOWER), (Role.FOLLOWER, Role.CANDIDATE),
    (Role.CANDIDATE, Role.CANDIDATE), (Role.CANDIDATE, Role.FOLLOWER),
    (Role.CANDIDATE, Role.LEADER), (Role.LEADER, Role.FOLLOWER),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RaftConfig:
    # The lab asks for timeouts above the paper's 150–300 ms because heartbeats are limited
    # to 10/s; a new leader must still appear within 5 s of a failure.
    election_timeout_ms: tuple[int, int] = (300, 600)
    heartbeat_ms: int = 100
    max_entries_per_message: int = 512  # bounds a message's size on a long catch-up
    # At most one batch outstanding per follower: a success reply to an older batch (one a
    # heartbeat retransmitted, say) neither clears the in-flight mark nor sends the next
    # batch, so heartbeats cannot multiply replication streams under sustained load (the
    # key/value service turns it on; off keeps Raft's suite and traces as they were).
    strict_flow_control: bool = False
    # The leader's disk write in parallel with replication (Raft thesis §10.2.1, as etcd
    # does): a leader's AppendEntries may leave before the step's persist (`Send.early`), and
    # the leader counts itself in a commit majority only for the entries its driver has
    # reported durable (`persisted`). Off keeps every driver's behaviour and traces as they
    # were; `RaftCore._advance_commit` says why it is safe.
    parallel_write: bool = False
    # ReadIndex reads batched (thesis §6.4: "the leader can batch"): while a confirmation
    # round is in flight, reads that arrive wait and start one round together when it is
    # confirmed, instead of one heartbeat broadcast per read. Off keeps every driver's
    # behaviour and traces as they were (the network runtime turns it on).
    batch_reads: bool = False

    def __post_init__(self) -> None:
        low, high = self.election_timeout_ms
        if not 0 < low <= high:
            raise ValueError(f"election timeout range must satisfy 0 < low <= high: {low}, {high}")
        if not 0 < self.heartbeat_ms < low:
            raise ValueError("heartbeat interval must be positive and below the election timeout")
        if self.max_entries_per_message < 1:
            raise ValueError("max_entries_per_message must be at least 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class StartResult:
    """The lab's Start() result: where the command will appear if it is ever committed."""

    index: int
    term: int
    is_leader: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VisibleState:
    """The spec-visible state of one server (the trace's `state` object)."""

    term: int
    voted_for: int | None
    role: Role
    log: tuple[tuple[int, int], ...]
    snapshot_index: int
    snapshot_term: int
    commit_index: int
    last_applied: int

    def to_json(self) -> dict[str, object]:
        return {"term": self.term, "voted_for": self.voted_for, "role": self.role.value,
                "log": [list(pair) for pair in self.log],
                "snapshot_index": self.snapshot_index, "snapshot_term": self.snapshot_term,
                "commit_index": self.commit_index, "last_applied": self.last_applied}


class CoreImage(NamedTuple):
    """One server's whole state as a value (`RaftCore.image`): persistent and volatile
    variables alike; the per-follower maps as (peer, value) pairs in peer order. The log
    starts with the sentinel entry at the snapshot's index (see "Log compaction" above)."""

    term: int
    voted_for: int | None
    role: Role
    leader_id: int | None
    log: tuple[Entry, ...]
    snapshot: bytes
    commit_index: int
    last_applied: int
    votes_granted: frozenset[int]
    next_index: tuple[tuple[int, int], ...]
    match_index: tuple[tuple[int, int], ...]
    in_flight: tuple[tuple[int, bool], ...]
    sent_to: tuple[tuple[int, int], ...]
    read_round: int
    read_acks: tuple[tuple[int, int], ...]
    reads: tuple[tuple[int, int, int], ...]
    reads_waiting: tuple[int, ...]
    # Parallel write: the current log is durable through this index (when it is above the
    # commit index; see `RaftCore.persisted`). Last, with a default, so that packings that
    # predate it still build images.
    durable_index: int = 0


class RaftCore:
    """One Raft server. Construct it (fresh or from persisted state), call `boot()`, then
    feed it inputs; each input returns the `Effects` the driver must carry out."""

    def __init__(
        self,
        node_id: int,
        peers: Sequence[int],
        config: RaftConfig | None = None,
        restored: HardState | None = None,
        snapshot: bytes = b"",
    ) -> None:
        if node_id not in peers:
            raise ValueError(f"node {node_id} is not among the peers {list(peers)}")
        self.id = node_id
        self.peers = tuple(peers)
        self.others = tuple(p for p in self.peers if p != node_id)
        self.config = config or RaftConfig()
        # Persistent state (Figure 2), restored as a whole or fresh.
        hard = restored or HardState(term=0, voted_for=None, snapshot_index=0,
                                     snapshot_term=0, log=())
        self.term = hard.term
        self.voted_for = hard.voted_for
        self._log: list[Entry] = [Entry(index=hard.snapshot_index, term=hard.snapshot_term,
                                        command=None), *hard.log]
        self._snapshot = snapshot
        # Volatile state: the service already holds the snapshot on restart (§1.3 of the
        # scenarios: the tester reads it back itself), so applying resumes after it.
        self.commit_index = hard.snapshot_index
        self.last_applied = hard.snapshot_index
        self.role = Role.FOLLOWER
        self.leader_id: int | None = None
        self._votes_granted: set[int] = set()
        self._next_index: dict[int, int] = {}
        self._match_index: dict[int, int] = {}
        # Flow control: a follower with entries (or a snapshot) in flight and unanswered gets
        # no more on Start; the next heartbeat retransmits. A follower that is down or cut off
        # then costs one message per heartbeat, not one per command (like etcd's probe state).
        self._in_flight: dict[int, bool] = {}
        self._sent_to: dict[int, int] = {}  # last index of the latest batch sent to a follower
        # ReadIndex (leader only, reset with each term): the latest confirmation round, each
        # peer's latest round echoed back, reads waiting for a round (request, index, round),
        # and reads waiting for an entry of this term to commit.
        self._read_round = 0
        self._read_acks: dict[int, int] = {}
        self._reads: list[tuple[int, int, int]] = []
        self._reads_waiting: list[int] = []
        # Parallel write: what was restored is on disk, so all of it is durable.
        self._durable_index = self._log[-1].index
        # How many times entries left the log other than by compaction at its start (a
        # conflicting suffix cut, a snapshot installed over it), or the log was rebuilt.
        # While it and the snapshot index stay the same, the log only grew at its end: a
        # driver's storage then stages an append without comparing the whole log
        # (RaftStorage.stage's `cuts`), which costs a step time in the log's length. Nothing
        # in the core reads it, so it is not part of `image()` (a state space must not count).
        self.log_cuts = 0
        self._out = EffectsBuilder()

    # ---------------------------------------------------------------- the log, compacted
    @property
    def snapshot_index(self) -> int:
        return self._log[0].index

    @property
    def snapshot_term(self) -> int:
        return self._log[0].term

    @property
    def last_index(self) -> int:
        return self._log[-1].index

    @property
    def last_term(self) -> int:
        return self._log[-1].term

    def _term_at(self, index: int) -> int:
        """Term of the entry at `index`; valid for snapshot_index <= index <= last_index."""
        return self._log[index - self._log[0].index].term

    def _entries_from(self, index: int, limit: int) -> tuple[Entry, ...]:
        start = index - self._log[0].index
        return tuple(self._log[start:start + limit])

    # ---------------------------------------------------------------- the driving surface
    def boot(self) -> Effects:
        """First input after construction (fresh start or restart): arm the election timer."""
        self._reset_election_timer()
        return self._finish()

    def step(self, src: int, message: Message) -> Effects:
        """Deliver one message from peer `src`."""
        if message.term > self.term:
            # Figure 2, all servers: a higher term means we are out of date; follow it.
            self._become_follower(message.term, leader=None)
        match message:
            case RequestVote():
                self._on_request_vote(src, message)
            case RequestVoteReply():
                self._on_request_vote_reply(src, message)
            case AppendEntries():
                self._on_append_entries(src, message)
            case AppendEntriesReply():
                self._on_append_entries_reply(src, message)
            case InstallSnapshot():
                self._on_install_snapshot(src, message)
            case InstallSnapshotReply():
                self._on_install_snapshot_reply(src, message)
        return self._finish()

    def timeout(self, name: str) -> Effects:
        """A timer set by an earlier `SetTimer` fired."""
        if name == ELECTION and self.role is not Role.LEADER:
            self._become_candidate()
        elif name == HEARTBEAT and self.role is Role.LEADER:
            self._broadcast_append()
            self._out.timers[HEARTBEAT] = SetTimer(name=HEARTBEAT, low_ms=self.config.heartbeat_ms,
                                                   high_ms=self.config.heartbeat_ms)
        return self._finish()

    def start(self, command: Command) -> tuple[StartResult, Effects]:
        """The lab's Start(): append `command` if leader and begin replicating it at once."""
        if self.role is not Role.LEADER:
            return StartResult(index=-1, term=self.term, is_leader=False), self._finish()
        index = self.last_index + 1
        self._log.append(Entry(index=index, term=self.term, command=command))
        self._out.persist_needed = True
        for peer in self.others:
            if not self._in_flight[peer]:
                self._send_append(peer)
        if not self.others:
            self._advance_commit()  # a cluster of one commits on its own
        return StartResult(index=index, term=self.term, is_leader=True), self._finish()

    def snapshot(self, index: int, data: bytes) -> Effects:
        """The service's Snapshot(): everything through `index` is in `data`; trim the log."""
        if index <= self.snapshot_index or index > self.last_applied:
            return self._finish()  # stale, or not yet applied: nothing to trim
        keep = self._log[index - self.snapshot_index:]
        self._log = [Entry(index=index, term=keep[0].term, command=None), *keep[1:]]
        self.log_cuts += 1
        self._snapshot = data
        self._out.persist_needed = True
        self._out.snapshot_changed = True
        return self._finish()

    def read_index(self, request: int) -> tuple[bool, Effects]:
        """ReadIndex (thesis §6.4): ask to answer read `request` without the log. False if
        this server does not lead. Otherwise a later bundle — this one, for a cluster of one
        whose term has a committed entry — carries `ReadReady(request, index)` once it is
        confirmed; it never does if this server stops leading first (the service must then
        give up on the read, as it does on its proposals)."""
        if self.role is not Role.LEADER:
            return False, self._finish()
        self._reads_waiting.append(request)
        return True, self._finish()  # _finish starts its round if it can

    def persisted(self, state: HardState) -> Effects:
        """Parallel write: the driver reports that its disk now holds `state` — the latest
        `Persist` it has made durable, reported at once and in the order the persists were
        made, before any later one can be written (a disk that writes them in order; a group
        commit reports the last state its fsync covered). A leader may then commit, and so
        apply.

        What the core keeps is `_durable_index`, D. The invariant: whenever D is above the
        commit index, the current log's entries up to D are held by the state on disk *and*
        by every state staged after it (which a later write may put there instead). Every
        cut of the log lowers D below the cut when it happens, which keeps it. A report
        raises D to the longest prefix the reported state shares with the current log (Log
        Matching: where index and term agree, everything below does) — but only a report of
        a state of the current term: within one term a log is cut at most once, to follow
        that term's leader, so the states staged after the reported one share that prefix
        too; across terms an entry cut away can come back (a later leader may hold it), and
        a report of a state from before the cut would then match the current log while a
        state staged after it, still to be written, does not hold the entry.
        """
        if state.term == self.term:
            base = state.snapshot_index
            j = min(base + len(state.log), self.last_index)
            low = max(base, self.snapshot_index)
            while j > low and state.log[j - base - 1].term != self._term_at(j):
                j -= 1
            if j > self._durable_index:
                self._durable_index = j
                if self.role is Role.LEADER:
                    self._advance_commit()
        return self._finish()

    def get_state(self) -> tuple[int, bool]:
        """The lab's GetState(): (current term, whether this server believes it leads)."""
        return self.term, self.role is Role.LEADER

    def hard_state(self) -> HardState:
        return HardState(term=self.term, voted_for=self.voted_for,
                         snapshot_index=self.snapshot_index, snapshot_term=self.snapshot_term,
                         log=tuple(self._log[1:]))

    @property
    def snapshot_data(self) -> bytes:
        return self._snapshot

    def visible_state(self) -> VisibleState:
        return VisibleState(term=self.term, voted_for=self.voted_for, role=self.role,
                            log=tuple((e.index, e.term) for e in self._log[1:]),
                            snapshot_index=self.snapshot_index, snapshot_term=self.snapshot_term,
                            commit_index=self.commit_index, last_applied=self.last_applied)

    # ---------------------------------------------------------------- the model checker's hook
    def image(self) -> CoreImage:
        """Everything this server holds, as one hashable value (the model checker stores
        states as values and resumes a core from one with `from_image`)."""
        return CoreImage(term=self.term, voted_for=self.voted_for, role=self.role,
                         leader_id=self.leader_id, log=tuple(self._log), snapshot=self._snapshot,
                         commit_index=self.commit_index, last_applied=self.last_applied,
                         votes_granted=frozenset(self._votes_granted),
                         next_index=tuple(sorted(self._next_index.items())),
                         match_index=tuple(sorted(self._match_index.items())),
                         in_flight=tuple(sorted(self._in_flight.items())),
                         sent_to=tuple(sorted(self._sent_to.items())),
                         read_round=self._read_round,
                         read_acks=tuple(sorted(self._read_acks.items())),
                         reads=tuple(self._reads), reads_waiting=tuple(self._reads_waiting),
                         durable_index=self._durable_index)

    @classmethod
    def from_image(cls, image: CoreImage, node_id: int, peers: Sequence[int],
                   config: RaftConfig | None = None) -> RaftCore:
        """The server `image` describes, ready for its next input (no `boot`: it is running)."""
        core = cls(node_id, peers, config)
        core.term, core.voted_for, core.role = image.term, image.voted_for, image.role
        core.leader_id = image.leader_id
        core._log = list(image.log)
        core._snapshot = image.snapshot
        core.commit_index, core.last_applied = image.commit_index, image.last_applied
        core._votes_granted = set(image.votes_granted)
        core._next_index = dict(image.next_index)
        core._match_index = dict(image.match_index)
        core._in_flight = dict(image.in_flight)
        core._sent_to = dict(image.sent_to)
        core._read_round = image.read_round
        core._read_acks = dict(image.read_acks)
        core._reads = list(image.reads)
        core._reads_waiting = list(image.reads_waiting)
        core._durable_index = image.durable_index
        return core

    # ---------------------------------------------------------------- roles (one place)
    def _change_role(self, new: Role) -> None:
        if (self.role, new) not in _ALLOWED:
            raise IllegalTransition(f"server {self.id}: {self.role.value} -> {new.value} "
                                    f"in term {self.term}")
        self.role = new

    def _become_follower(self, term: int, leader: int | None) -> None:
        was_leader = self.role is Role.LEADER
        self._change_role(Role.FOLLOWER)
        if term > self.term:
            self.term = term
            self.voted_for = None
            self._out.persist_needed = True
            self._out.term_or_vote_changed = True
        self.leader_id = leader
        if was_leader:
            self._out.timers[HEARTBEAT] = CancelTimer(name=HEARTBEAT)
            self._reset_election_timer()
            self._reads.clear()  # never confirmed: this server no longer leads
            self._reads_waiting.clear()

    def _become_candidate(self) -> None:
        # §5.2: increment the term, vote for yourself, ask everyone else, restart the timer.
        self._change_role(Role.CANDIDATE)
        self.term += 1
        self.voted_for = self.id
        self.leader_id = None
        self._votes_granted = {self.id}
        self._out.persist_needed = True
        self._out.term_or_vote_changed = True
        self._reset_election_timer()
        if self._has_quorum(len(self._votes_granted)):
            self._become_leader()
            return
        request = RequestVote(term=self.term, candidate=self.id,
                              last_log_index=self.last_index, last_log_term=self.last_term)
        for peer in self.others:
            self._out.messages.append(Send(to=peer, message=request))

    def _become_leader(self) -> None:
        self._change_role(Role.LEADER)
        self.leader_id = self.id
        self._next_index = {p: self.last_index + 1 for p in self.others}
        self._match_index = {p: 0 for p in self.others}
        self._in_flight = {p: False for p in self.others}
        self._sent_to = {p: 0 for p in self.others}
        self._read_round = 0
        self._read_acks = {p: 0 for p in self.others}
        self._out.timers[ELECTION] = CancelTimer(name=ELECTION)
        # §5.2: announce leadership at once with (empty) AppendEntries, then every heartbeat.
        self._broadcast_append()
        self._out.timers[HEARTBEAT] = SetTimer(name=HEARTBEAT, low_ms=self.config.heartbeat_ms,
                                               high_ms=self.config.heartbeat_ms)

    # ---------------------------------------------------------------- elections (§5.2, §5.4.1)
    def _on_request_vote(self, src: int, m: RequestVote) -> None:
        # §5.4.1: one vote per term, and only for a log at least as up to date as ours.
        up_to_date = (m.last_log_term, m.last_log_index) >= (self.last_term, self.last_index)
        granted = (m.term == self.term and self.voted_for in (None, m.candidate)
                   and up_to_date)
        if granted:
            self.voted_for = m.candidate
            self._out.persist_needed = True
            self._out.term_or_vote_changed = True
            # Only a granted vote resets the timer, so a server with a stale log cannot
            # keep a better candidate from timing out (the lab's students' guide).
            self._reset_election_timer()
        self._reply(src, RequestVoteReply(term=self.term, granted=granted))

    def _on_request_vote_reply(self, src: int, m: RequestVoteReply) -> None:
        if self.role is not Role.CANDIDATE or m.term != self.term or not m.granted:
            return
        self._votes_granted.add(src)
        if self._has_quorum(len(self._votes_granted)):
            self._become_leader()

    # ---------------------------------------------------------------- replication (§5.3)
    def _accept_leader(self, src: int) -> None:
        """A current-term AppendEntries/InstallSnapshot: `src` is this term's leader."""
        if self.role is Role.LEADER:
            raise IllegalTransition(f"two leaders in term {self.term}: {self.id} and {src}")
        if self.role is Role.CANDIDATE:
            self._become_follower(self.term, leader=src)
        self.leader_id = src
        self._reset_election_timer()

    def _on_append_entries(self, src: int, m: AppendEntries) -> None:
        if m.term < self.term:
            self._reply(src, AppendEntriesReply(term=self.term, success=False,
                                                prev_index=m.prev_index, match_index=0,
                                                conflict_term=None, conflict_index=0,
                                                read_round=m.read_round))
            return
        self._accept_leader(src)
        prev_index, prev_term, entries = m.prev_index, m.prev_term, m.entries
        last_new = m.prev_index + len(m.entries)
        if prev_index < self.snapshot_index:
            # The start of the request is inside our snapshot: those entries are committed,
            # hence identical to the leader's (Leader Completeness); skip them.
            skip = self.snapshot_index - prev_index
            entries = entries[skip:]
            prev_index, prev_term = self.snapshot_index, self.snapshot_term
            last_new = max(last_new, self.snapshot_index)
        if prev_index > self.last_index:
            self._reject(src, m, conflict_term=None, conflict_index=self.last_index + 1)
            return
        here = self._term_at(prev_index)
        if here != prev_term:
            first = prev_index
            while first - 1 > self.snapshot_index and self._term_at(first - 1) == here:
                first -= 1
            self._reject(src, m, conflict_term=here, conflict_index=first)
            return
        for entry in entries:
            if entry.index <= self.last_index:
                if self._term_at(entry.index) == entry.term:
                    continue  # already there: never truncate on a stale, reordered request
                del self._log[entry.index - self.snapshot_index:]
                self.log_cuts += 1
                self._durable_index = min(self._durable_index, entry.index - 1)
            self._log.append(entry)
            self._out.persist_needed = True
        # Figure 2, AppendEntries 5: commit what the leader committed, but only as far as
        # this request proved our log matches (an older, shorter request proves less).
        self.commit_index = max(self.commit_index, min(m.leader_commit, last_new))
        self._reply(src, AppendEntriesReply(term=self.term, success=True, prev_index=m.prev_index,
                                            match_index=last_new, conflict_term=None,
                                            conflict_index=0, read_round=m.read_round))

    def _reject(self, src: int, m: AppendEntries, *, conflict_term: int | None,
                conflict_index: int) -> None:
        self._reply(src, AppendEntriesReply(term=self.term, success=False, prev_index=m.prev_index,
                                            match_index=0, conflict_term=conflict_term,
                                            conflict_index=conflict_index,
                                            read_round=m.read_round))

    def _on_append_entries_reply(self, src: int, m: AppendEntriesReply) -> None:
        if self.role is not Role.LEADER or m.term != self.term:
            return  # a reply from an older term: its facts may no longer hold
        if m.read_round > self._read_acks[src]:
            # src was a follower of this term after the round started (success or not).
            self._read_acks[src] = m.read_round
            self._confirm_reads()
        if m.success:
            if m.match_index > self._match_index[src]:
                self._match_index[src] = m.match_index
                self._advance_commit()
            self._next_index[src] = max(self._next_index[src], self._match_index[src] + 1)
            if self.config.strict_flow_control and m.match_index < self._sent_to[src]:
                return  # answers an older batch; the latest one is still out
            self._in_flight[src] = False
            if m.match_index >= m.prev_index + 1 and self._next_index[src] <= self.last_index:
                self._send_append(src)  # it took a batch, and more has arrived since
            return
        self._in_flight[src] = False
        if m.prev_index != self._next_index[src] - 1:
            return  # answers a request older than our current guess: ignore it
        if m.conflict_term is None:
            guess = m.conflict_index
        else:
            guess = m.conflict_index
            probe = min(m.prev_index, self.last_index)
            while probe > self.snapshot_index and self._term_at(probe) > m.conflict_term:
                probe -= 1
            if probe > self.snapshot_index and self._term_at(probe) == m.conflict_term:
                guess = probe + 1  # we hold that term too: resume after our last entry of it
        self._next_index[src] = max(self._match_index[src] + 1, min(guess, self.last_index + 1))
        self._send_append(src)

    def _advance_commit(self) -> None:
        # The highest index a majority holds is the majority-th largest match index (the
        # leader's own log counts as matched). §5.4.2: commit it only if it is from our own
        # term; terms never decrease along a log, so no lower index would qualify either.
        #
        # Parallel write: the leader counts itself only through its *durable* index. Why
        # that is safe although its AppendEntries left before its own disk had the entries:
        # a follower's match index comes from its reply, which left only once the
        # follower's own disk held those entries (replies always wait for their persist),
        # so every server counted holds the entry on disk and a crash of any of them keeps
        # it — the majority that commits survives crashes, as Figure 2 needs. A leader that
        # crashes before its own write finishes restarts with a shorter log than it sent;
        # that is harmless: it never counted the lost entries (they were not durable), its
        # term and vote were durable before it was elected (its RequestVotes waited for
        # them, and the step that makes a leader changes neither), so it cannot vote twice
        # or lead twice in that term, and the followers holding entries it lost are ahead
        # of it, which Raft already handles (a later leader overwrites or keeps them as any
        # uncommitted entries).
        own = self._durable_index if self.config.parallel_write else self.last_index
        held = sorted((min(own, self.last_index), *self._match_index.values()), reverse=True)
        n = held[len(self.peers) // 2]
        if n > self.commit_index and self._term_at(n) == self.term:
            self.commit_index = n

    def _broadcast_append(self) -> None:
        for peer in self.others:
            self._send_append(peer)

    def _send_append(self, peer: int) -> None:
        next_index = self._next_index[peer]
        if next_index <= self.snapshot_index:
            # §7: the entries this follower needs are gone; send the snapshot instead.
            self._out.messages.append(Send(to=peer, message=InstallSnapshot(
                term=self.term, leader=self.id, last_index=self.snapshot_index,
                last_term=self.snapshot_term, data=self._snapshot)))
            self._in_flight[peer] = True
            return
        prev = next_index - 1
        batch = self._entries_from(next_index, self.config.max_entries_per_message)
        self._out.messages.append(Send(to=peer, message=AppendEntries(
            term=self.term, leader=self.id, prev_index=prev, prev_term=self._term_at(prev),
            entries=batch, leader_commit=self.commit_index, read_round=self._read_round)))
        if batch:
            self._in_flight[peer] = True
            self._sent_to[peer] = batch[-1].index

    # ---------------------------------------------------------------- snapshots (§7)
    def _on_install_snapshot(self, src: int, m: InstallSnapshot) -> None:
        if m.term < self.term:
            self._reply(src, InstallSnapshotReply(term=self.term, last_index=0))
            return
        self._accept_leader(src)
        if m.last_index > self.commit_index:
            if m.last_index <= self.last_index and self._term_at(m.last_index) == m.last_term:
                tail = self._log[m.last_index - self.snapshot_index + 1:]
            else:
                tail = []  # our log disagrees with, or ends before, the snapshot: drop it
                # Only indexes above the commit index are ever counted, and the snapshot's
                # index is committed: capping here keeps `persisted`'s invariant.
                self._durable_index = min(self._durable_index, m.last_index)
            self._log = [Entry(index=m.last_index, term=m.last_term, command=None), *tail]
            self.log_cuts += 1
            self._snapshot = m.data
            self.commit_index = self.last_applied = m.last_index
            self._out.persist_needed = True
            self._out.snapshot_changed = True
            self._out.applies.append(ApplySnapshot(index=m.last_index, term=m.last_term,
                                                   data=m.data))
        self._reply(src, InstallSnapshotReply(term=self.term, last_index=m.last_index))

    def _on_install_snapshot_reply(self, src: int, m: InstallSnapshotReply) -> None:
        if self.role is not Role.LEADER or m.term != self.term:
            return
        self._in_flight[src] = False
        if m.last_index > self._match_index[src]:
            self._match_index[src] = m.last_index
            self._advance_commit()
        self._next_index[src] = max(self._next_index[src], self._match_index[src] + 1)
        if self._next_index[src] <= self.last_index:
            self._send_append(src)

    # ---------------------------------------------------------------- ReadIndex (thesis §6.4)
    def _start_reads(self) -> None:
        """Reads waiting, and an entry of this term committed: the commit index is the read
        index; a new round of AppendEntries goes out, and the reads are confirmed once a
        majority has echoed it (at once in a cluster of one)."""
        index = self.commit_index
        self._read_round += 1
        self._reads.extend((request, index, self._read_round) for request in self._reads_waiting)
        self._reads_waiting.clear()
        self._broadcast_append()
        self._confirm_reads()

    def _confirm_reads(self) -> None:
        # The round a majority has echoed is the majority-th largest (this server counts,
        # with the latest round).
        echoed = sorted((self._read_round, *self._read_acks.values()), reverse=True)
        confirmed = echoed[len(self.peers) // 2]
        ready = [r for r in self._reads if r[2] <= confirmed]
        if ready:
            self._reads = [r for r in self._reads if r[2] > confirmed]
            self._out.reads.extend(ReadReady(request=request, index=index)
                                   for request, index, _ in ready)

    # ---------------------------------------------------------------- helpers
    def _has_quorum(self, count: int) -> bool:
        return 2 * count > len(self.peers)

    def _reply(self, to: int, message: Message) -> None:
        self._out.messages.append(Send(to=to, message=message))

    def _reset_election_timer(self) -> None:
        low, high = self.config.election_timeout_ms
        self._out.timers[ELECTION] = SetTimer(name=ELECTION, low_ms=low, high_ms=high)

    def _finish(self) -> Effects:
        """Close the step: apply what is newly committed, freeze the effects bundle."""
        if (self._reads_waiting and self.role is Role.LEADER
                and self._term_at(self.commit_index) == self.term
                and not (self.config.batch_reads and self._reads)):
            self._start_reads()
        out = self._out
        if self.commit_index > self.last_applied:
            base = self.snapshot_index
            for index in range(self.last_applied + 1, self.commit_index + 1):
                entry = self._log[index - base]
                out.applies.append(ApplyCommand(index=index, term=entry.term,
                                                command=entry.command))
            self.last_applied = self.commit_index
        persist = None
        if out.persist_needed:
            persist = Persist(state=self.hard_state(),
                              snapshot=self._snapshot if out.snapshot_changed else None)
        messages = tuple(out.messages)
        if (self.config.parallel_write and self.role is Role.LEADER
                and not out.term_or_vote_changed):
            # A leader's AppendEntries (entries and heartbeats alike) may leave before this
            # step's persist: nothing in them depends on its own disk except through the
            # commit rule above; its term and vote are durable (they were before it won).
            messages = tuple(Send(to=s.to, message=s.message, early=True)
                             if isinstance(s.message, AppendEntries) else s for s in messages)
        effects = Effects(persist=persist, messages=messages,
                          applies=tuple(out.applies), timers=tuple(out.timers.values()),
                          reads=tuple(out.reads))
        self._out = EffectsBuilder()
        return effects
