"""The data of the Raft spec: configuration, state, log entries, messages, actions.

Everything here is immutable and hashable (frozen dataclasses, tuples, frozensets of ints), so
that a model checker can keep states in sets and a Z3 encoding can read every field. The
theory of operation is in `spec/raft.py`; this module only says what the variables *are*.

Servers are the integers `0 .. servers-1`. Log indexes are 1-based as in the paper (index 0 is
"before the first entry", term 0), and they are absolute: after log compaction (§7) a server's
`log` holds only the entries after its snapshot, and the helpers below translate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from spec.bounds import Bound, check_bounds

# The fault flags: classic Raft mistakes the spec can re-create (see `Config.bugs`).
BUGS: dict[str, str] = {
    "figure8-commit": (
        "a leader commits an entry of an earlier term by counting replicas "
        "(the paper's Figure 8; §5.4.2 forbids it)"
    ),
    "vote-without-log-check": (
        "a vote is granted without checking that the candidate's log is at least as "
        "up-to-date as the voter's (§5.4.1)"
    ),
    "unpersisted-vote": (
        "voted_for is not persisted, so a restarted server can vote twice in a term"
    ),
    "stale-append-truncates": (
        "a follower truncates its log to the end of every accepted AppendEntries, even a stale "
        "or duplicated one whose entries it already has (Figure 2, receiver rule 3 says only on "
        "a conflict)"
    ),
    "no-step-down": (
        "a leader that sees a higher term adopts it but stays leader (§5.1: it must step down)"
    ),
}


class Role(enum.IntEnum):
    """A server's role (Figure 2, "Rules for Servers"). An IntEnum so that hashing is stable
    across processes (a str Enum would hash by name, which Python randomises)."""

    FOLLOWER = 0
    CANDIDATE = 1
    LEADER = 2


# Bugs that cannot show without a crash and restart: a model with one of them allows one
# restart unless told otherwise (`default_restarts`).
NEEDS_RESTART = frozenset({"unpersisted-vote"})


# The one declaration of the Raft bounds, for `Config` and for every verb that builds one
# (model-check, prove, the demo): the CLI's options are generated from it. The ranges keep a
# model within what each engine encodes (the packed engine gives a term, an index or a value
# 8 bits and a message count 4 bits; the Z3 encoding grows with each) and within what can be
# explored on one machine.
BOUNDS: dict[str, Bound] = {
    "servers": Bound(3, 1, 5, "Servers, ids 0..N-1."),
    "max_term": Bound(3, 0, 10, "No server times out past this term."),
    "max_log": Bound(1, 0, 10, "A leader accepts a client request only below this log length."),
    "values": Bound(1, 1, 5, "Client requests carry values 1..V."),
    "max_messages": Bound(2, 0, 10, "Distinct messages in flight at once."),
    "max_restarts": Bound(0, 0, 10, "Crash/restarts per behaviour."),
}


def default_restarts(bugs: frozenset[str] | set[str] | tuple[str, ...]) -> int:
    """The restart bound a model gets when none is given: 1 when a bug needs a restart to
    show (without one it is not a bug at all), else 0."""
    return 1 if NEEDS_RESTART & set(bugs) else 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The bounds of one model. Every bound is enforced as a guard on the action that would
    exceed it, so a bounded state space is a sub-space of the real one, never a distortion.
    Built with keywords only, and checked when built: every integer within its `BOUNDS`
    range, every bug a known one (ValueError names the field and the range).

    servers        number of servers (ids 0..servers-1)
    max_term       no server times out past this term (terms start at 0, Figure 2)
    max_log        a leader accepts a client request only while its last index < max_log
    values         client requests carry values 1..values
    max_messages   at most this many distinct messages in flight (the network is a set)
    max_restarts   total number of crash/restarts in a behaviour
    drops          the network may lose a message
    duplicates     the network may deliver a message and keep it (duplication)
    snapshots      servers compact committed prefixes and leaders send InstallSnapshot (§7)
    bugs           names from BUGS to switch on
    """

    servers: int = BOUNDS["servers"].default
    max_term: int = BOUNDS["max_term"].default
    max_log: int = BOUNDS["max_log"].default
    values: int = BOUNDS["values"].default
    max_messages: int = BOUNDS["max_messages"].default
    max_restarts: int = BOUNDS["max_restarts"].default
    drops: bool = False
    duplicates: bool = False
    snapshots: bool = False
    bugs: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        check_bounds(self, BOUNDS, self.bugs, BUGS)

    @property
    def quorum(self) -> int:
        """Smallest majority: any two quorums intersect (§5.2, §5.4)."""
        return self.servers // 2 + 1

    def has_bug(self, name: str) -> bool:
        return name in self.bugs


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """A log entry: the term in which a leader created it, and the client's value."""

    term: int
    value: int

    def __reduce__(self) -> tuple[type[Entry], tuple[int, int]]:
        # Pickled by constructor arguments: the parallel checker ships encodings holding
        # entries between processes, and the slots dataclass's default state protocol is
        # about 3x slower to pickle.
        return Entry, (self.term, self.value)


@dataclass(frozen=True, slots=True, order=True)
class Snapshot:
    """A compacted prefix (§7): the last included index and term, and the state machine's
    state at that point. The state machine of this spec appends each applied value to a list,
    so its state is the tuple of the values of entries 1..index."""

    index: int = 0
    term: int = 0
    values: tuple[int, ...] = ()

    def __reduce__(self) -> tuple[type[Snapshot], tuple[int, int, tuple[int, ...]]]:
        return Snapshot, (self.index, self.term, self.values)  # see Entry.__reduce__


# ---- messages (Figure 2's RPCs; `src`/`dst` are server ids, `term` the sender's term) ----


@dataclass(frozen=True, slots=True, order=True)
class RequestVote:
    src: int
    dst: int
    term: int
    last_log_index: int
    last_log_term: int


@dataclass(frozen=True, slots=True, order=True)
class RequestVoteReply:
    src: int
    dst: int
    term: int
    granted: bool


@dataclass(frozen=True, slots=True, order=True)
class AppendEntries:
    src: int
    dst: int
    term: int
    prev_index: int
    prev_term: int
    entries: tuple[Entry, ...]
    leader_commit: int


@dataclass(frozen=True, slots=True, order=True)
class AppendEntriesReply:
    """Also the reply to InstallSnapshot (success, match_index = the snapshot's last index)."""

    src: int
    dst: int
    term: int
    success: bool
    match_index: int


@dataclass(frozen=True, slots=True, order=True)
class InstallSnapshot:
    src: int
    dst: int
    term: int
    last_index: int
    last_term: int
    values: tuple[int, ...]


Message = (
    RequestVote
    | RequestVoteReply
    | AppendEntries
    | AppendEntriesReply
    | InstallSnapshot
)


@dataclass(frozen=True, slots=True)
class State:
    """One global state. Per-server variables are tuples indexed by server id (TLA+ style), so
    a permutation of server ids is a permutation of every tuple (plus the ids inside).

    Persistent on each server (survive Restart, Figure 2): term, voted_for, log,
    snapshot. Volatile: role, commit_index, votes_responded, votes_granted, next_index,
    match_index. Global: network (the set of messages in flight) and restarts (how many
    Restart steps were taken, to bound them).
    """

    term: tuple[int, ...]
    role: tuple[Role, ...]
    voted_for: tuple[int | None, ...]
    log: tuple[tuple[Entry, ...], ...]
    snapshot: tuple[Snapshot, ...]
    commit_index: tuple[int, ...]
    votes_responded: tuple[frozenset[int], ...]
    votes_granted: tuple[frozenset[int], ...]
    next_index: tuple[tuple[int, ...], ...]
    match_index: tuple[tuple[int, ...], ...]
    network: frozenset[Message]
    restarts: int = 0

    @property
    def servers(self) -> int:
        return len(self.term)


@dataclass(frozen=True, slots=True)
class Action:
    """A named step: `name` is the spec action (Timeout, Restart, RequestVote, AppendEntries,
    InstallSnapshot, ClientRequest, Compact, Receive, Drop, Duplicate), `server` the server
    that takes it (for network actions the message's destination), `peer` the other server
    when there is one, `value` a client request's value, `message` the message sent,
    received, dropped or duplicated."""

    name: str
    server: int
    peer: int | None = None
    value: int | None = None
    message: Message | None = None

    def __str__(self) -> str:
        if self.message is not None and self.name in ("Receive", "Drop", "Duplicate"):
            return f"{self.name}({describe_message(self.message)})"
        if self.name == "ClientRequest":
            return f"ClientRequest(s{self.server}, v{self.value})"
        if self.peer is not None:
            return f"{self.name}(s{self.server}→s{self.peer})"
        return f"{self.name}(s{self.server})"


def describe_message(m: Message) -> str:
    """A short human rendering, e.g. `AppendEntries s0→s1 t2 prev=(1,t1) [2:t2 v1] commit=1`."""
    head = f"s{m.src}→s{m.dst} t{m.term}"
    match m:
        case RequestVote():
            return f"RequestVote {head} last=({m.last_log_index},t{m.last_log_term})"
        case RequestVoteReply():
            return f"RequestVoteReply {head} {'granted' if m.granted else 'refused'}"
        case AppendEntries():
            entries = " ".join(
                f"{m.prev_index + k + 1}:t{e.term} v{e.value}" for k, e in enumerate(m.entries)
            )
            return (
                f"AppendEntries {head} prev=({m.prev_index},t{m.prev_term}) "
                f"[{entries}] commit={m.leader_commit}"
            )
        case AppendEntriesReply():
            verdict = "ok" if m.success else "fail"
            return f"AppendEntriesReply {head} {verdict} match={m.match_index}"
        case InstallSnapshot():
            return f"InstallSnapshot {head} last=({m.last_index},t{m.last_term})"
    raise AssertionError(f"not a message: {m!r}")  # pragma: no cover


# ---- log helpers: absolute indexes over (snapshot, log) ----


def last_index(state: State, i: int) -> int:
    """Index of server i's last entry (0 for an empty log), counting the snapshot."""
    return state.snapshot[i].index + len(state.log[i])


def last_term(state: State, i: int) -> int:
    """Term of server i's last entry, 0 if it has none (§5.4.1's "up-to-date" uses it)."""
    if state.log[i]:
        return state.log[i][-1].term
    return state.snapshot[i].term


def term_at(state: State, i: int, index: int) -> int | None:
    """The term of server i's entry at `index`; None when unknown (compacted away or beyond
    the end). Index 0 has term 0 by convention, as does an empty snapshot's last index."""
    snapshot = state.snapshot[i]
    if index == snapshot.index:
        return snapshot.term
    if snapshot.index < index <= snapshot.index + len(state.log[i]):
        return state.log[i][index - snapshot.index - 1].term
    return None


def value_at(state: State, i: int, index: int) -> int | None:
    """The value at `index` in server i's log or snapshot; None beyond the end or at 0."""
    snapshot = state.snapshot[i]
    if 1 <= index <= snapshot.index:
        return snapshot.values[index - 1]
    if snapshot.index < index <= snapshot.index + len(state.log[i]):
        return state.log[i][index - snapshot.index - 1].value
    return None


# ---- building new states (the successor function's hot path) ----


def updated(state: State, **changes: object) -> State:
    """`dataclasses.replace` without its per-call introspection."""
    return State(*[changes[f] if f in changes else getattr(state, f) for f in _STATE_FIELDS])  # type: ignore[arg-type]


def tuple_set(t: tuple[object, ...], i: int, v: object) -> tuple[object, ...]:
    """t with position i replaced by v (TLA+'s [t EXCEPT ![i] = v])."""
    return (*t[:i], v, *t[i + 1 :])


_STATE_FIELDS: tuple[str, ...] = tuple(State.__dataclass_fields__)
