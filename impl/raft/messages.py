"""Raft's messages (Raft paper, Figure 2 and §7): typed, frozen, one line each.

One dataclass per message kind, all keyword-only and immutable. Each has three renderings:
`wire()` — the msgpack-ready list the network sizes and a real transport would send,
`trace()` — the JSON object of the trace format (traces/README.md; entries as [index, term],
commands left out), and `describe()` — one line for logs and golden files, in etcd's style:
`1->2 AppendEntries t3 prev=4/2 [5/3 6/3] commit=4`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

Command = Any  # a service's command: any msgpack- and JSON-representable value


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    index: int
    term: int
    command: Command


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestVote:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    term: int
    candidate: int
    last_log_index: int
    last_log_term: int

    def wire(self) -> Any:
        return ["RV", self.term, self.candidate, self.last_log_index, self.last_log_term]

    def trace(self) -> dict[str, Any]:
        return {"type": "RequestVote", "term": self.term, "candidate": self.candidate,
                "last_log_index": self.last_log_index, "last_log_term": self.last_log_term}

    def describe(self) -> str:
        return f"RequestVote t{self.term} last={self.last_log_index}/{self.last_log_term}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestVoteReply:
    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    term: int
    granted: bool

    def wire(self) -> Any:
        return ["RVR", self.term, self.granted]

    def trace(self) -> dict[str, Any]:
        return {"type": "RequestVoteReply", "term": self.term, "granted": self.granted}

    def describe(self) -> str:
        return f"RequestVoteReply t{self.term} {'granted' if self.granted else 'rejected'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendEntries:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    term: int
    leader: int
    prev_index: int
    prev_term: int
    entries: tuple[Entry, ...]
    leader_commit: int
    # ReadIndex (thesis §6.4): the leader's latest confirmation round, echoed in the reply.
    # 0 when no read was ever asked of this leader: then the message is exactly as it was
    # before ReadIndex existed (wire, trace and description leave it out).
    read_round: int = 0

    def wire(self) -> Any:
        wire = ["AE", self.term, self.leader, self.prev_index, self.prev_term,
                [[e.index, e.term, e.command] for e in self.entries], self.leader_commit]
        return [*wire, self.read_round] if self.read_round else wire

    def trace(self) -> dict[str, Any]:
        out = {"type": "AppendEntries", "term": self.term, "leader": self.leader,
               "prev_index": self.prev_index, "prev_term": self.prev_term,
               "entries": [[e.index, e.term] for e in self.entries],
               "leader_commit": self.leader_commit}
        if self.read_round:
            out["read_round"] = self.read_round
        return out

    def describe(self) -> str:
        shown = " ".join(f"{e.index}/{e.term}" for e in self.entries[:4])
        more = f" +{len(self.entries) - 4}" if len(self.entries) > 4 else ""
        read = f" read={self.read_round}" if self.read_round else ""
        return (f"AppendEntries t{self.term} prev={self.prev_index}/{self.prev_term} "
                f"[{shown}{more}] commit={self.leader_commit}{read}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppendEntriesReply:
    """`match_index` is the last index known to match on success; on a rejection the
    conflict hints (§5.3, the lab's XTerm/XIndex/XLen) let the leader back up by a term:
    `conflict_term` is the follower's term at `prev_index` (None if its log is too short) and
    `conflict_index` the first index it holds with that term (or its log length + 1)."""

    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    term: int
    success: bool
    prev_index: int
    match_index: int
    conflict_term: int | None
    conflict_index: int
    read_round: int = 0  # the request's read_round, echoed (0: left out, as in AppendEntries)

    def wire(self) -> Any:
        wire = ["AER", self.term, self.success, self.prev_index, self.match_index,
                self.conflict_term, self.conflict_index]
        return [*wire, self.read_round] if self.read_round else wire

    def trace(self) -> dict[str, Any]:
        out = {"type": "AppendEntriesReply", "term": self.term, "success": self.success,
               "prev_index": self.prev_index, "match_index": self.match_index,
               "conflict_term": self.conflict_term, "conflict_index": self.conflict_index}
        if self.read_round:
            out["read_round"] = self.read_round
        return out

    def describe(self) -> str:
        read = f" read={self.read_round}" if self.read_round else ""
        if self.success:
            return f"AppendEntriesReply t{self.term} ok match={self.match_index}{read}"
        return (f"AppendEntriesReply t{self.term} reject prev={self.prev_index} "
                f"conflict={self.conflict_index}/{self.conflict_term}{read}")


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallSnapshot:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    term: int
    leader: int
    last_index: int
    last_term: int
    data: bytes

    def wire(self) -> Any:
        return ["IS", self.term, self.leader, self.last_index, self.last_term, self.data]

    def trace(self) -> dict[str, Any]:
        return {"type": "InstallSnapshot", "term": self.term, "leader": self.leader,
                "last_index": self.last_index, "last_term": self.last_term,
                "data_bytes": len(self.data)}

    def describe(self) -> str:
        return (f"InstallSnapshot t{self.term} last={self.last_index}/{self.last_term} "
                f"{len(self.data)}B")


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallSnapshotReply:
    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    term: int
    last_index: int

    def wire(self) -> Any:
        return ["ISR", self.term, self.last_index]

    def trace(self) -> dict[str, Any]:
        return {"type": "InstallSnapshotReply", "term": self.term, "last_index": self.last_index}

    def describe(self) -> str:
        return f"InstallSnapshotReply t{self.term} last={self.last_index}"


Message = (RequestVote | RequestVoteReply | AppendEntries | AppendEntriesReply
           | InstallSnapshot | InstallSnapshotReply)
