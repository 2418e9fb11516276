"""The data of the key/value service's spec: calls, the state machine's execution rule, the
configuration (bounds) and the state.

Everything is immutable and hashable (frozen dataclasses, named tuples, tuples, frozensets).
The theory of operation is in `spec/kv.py`; this module says what the variables *are*, and
holds the one definition of what applying a call does (`execute`): the sequential kv model of
`spec.sequential` (per key a string; get, put, append) under exactly-once execution (a call
whose sequence number is not above its clerk's last executed one changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from spec.bounds import Bound
from spec.sequential import KV

GET, PUT, APPEND, NOOP = "get", "put", "append", "noop"
CALL_KINDS = (GET, PUT, APPEND)


class Op(NamedTuple):
    """One log entry of the service: a clerk call, named across its retries by (clerk, seq),
    or the no-op a ReadIndex leader commits to learn its term's commit index (thesis §6.4).
    The same five fields as the implementation's entry and the trace's `command`."""

    kind: str  # get, put, append, or noop
    key: str
    value: str | None  # None for a get and the no-op
    clerk: int
    seq: int

    def describe(self) -> str:
        if self.kind == NOOP:
            return "noop"
        arg = "" if self.value is None else f" {self.value!r}"
        return f"c{self.clerk}.{self.seq} {self.kind} {self.key!r}{arg}"


NOOP_OP = Op(NOOP, "", None, 0, 0)

Store = tuple[tuple[str, str], ...]  # the store: (key, value) pairs sorted by key
Dup = tuple[tuple[int, int], ...]  # the duplicate table: (clerk, last executed seq), sorted


class Outcome(NamedTuple):
    """What applying one entry did: `executed` is False for a duplicate (and the no-op), which
    changes nothing; `output` is what a get read ("" for an absent key), None for the rest."""

    executed: bool
    output: str | None


def value_of(store: Store, key: str) -> str | None:
    """The value of `key` in `store`, None if absent."""
    for k, v in store:
        if k == key:
            return v
    return None


def seq_of(dup: Dup, clerk: int) -> int:
    """The sequence number of `clerk`'s last executed call in `dup` (0: none)."""
    for c, q in dup:
        if c == clerk:
            return q
    return 0


def step_call(value: str | None, last_seq: int, op: Op) -> tuple[str | None, int, Outcome]:
    """Apply `op` to its key's value (None: absent) and its clerk's last executed sequence
    number; the new value, the new last seq, and the outcome. The one definition of a call's
    effect: the model applies with it, and the trace checker replays a recorded log with it."""
    if op.kind == NOOP:
        return value, last_seq, Outcome(False, None)
    fresh = op.seq > last_seq
    seq = op.seq if fresh else last_seq
    if op.kind == GET:  # a get is recorded as executed too: its retry is a duplicate
        return value, seq, Outcome(fresh, value if value is not None else "")
    if not fresh:
        return value, seq, Outcome(False, None)
    new, _ = KV.step("" if value is None else value, (op.kind, op.key, op.value))
    assert isinstance(new, str)
    return new, seq, Outcome(True, None)


def execute(store: Store, dup: Dup, op: Op, *, dedup: bool = True) -> tuple[Store, Dup, Outcome]:
    """`step_call` on a whole store and duplicate table. `dedup=False` is the bug of a server
    that never consults its table (every entry executes)."""
    if op.kind == NOOP:
        return store, dup, Outcome(False, None)
    value = value_of(store, op.key)
    last_seq = seq_of(dup, op.clerk) if dedup else 0
    new, seq, outcome = step_call(value, last_seq, op)
    if new != value:
        assert new is not None
        store = tuple(sorted({**dict(store), op.key: new}.items()))
    if seq != last_seq:
        dup = tuple(sorted({**dict(dup), op.clerk: seq}.items()))
    return store, dup, outcome


def replay(log: tuple[Op, ...], through: int, *, dedup: bool = True) -> tuple[Store, Dup]:
    """The store and duplicate table that entries 1..`through` of `log` make, each executed
    once (the state every replica that applied through that index must hold)."""
    store: Store = ()
    dup: Dup = ()
    for op in log[:through]:
        store, dup, _ = execute(store, dup, op, dedup=dedup)
    return store, dup


# ---- configuration ---------------------------------------------------------------------------

# The fault flags: classic key/value service mistakes the spec can re-create.
BUGS: dict[str, str] = {
    "no-dup-check": "a server applies every entry, never consulting its duplicate table: a "
                    "retried write that reached the log twice executes twice",
    "dup-not-in-snapshot": "the snapshot holds the store but not the duplicate table: a server "
                           "restored from it executes again a call the snapshot covers",
    "stale-read": "a ReadIndex read is served from a server's store without confirming the "
                  "read index (no heartbeat round, no wait for the commit index)",
    "reply-before-apply": "a write is acknowledged as soon as it is in the log, before any "
                          "server applied it",
}

BOUNDS: dict[str, Bound] = {
    "replicas": Bound(2, 1, 3, "Replicas (servers) applying the log."),
    "max_log": Bound(4, 1, 6, "Committed log entries (calls, their retries, no-ops)."),
}

# Two clerks on one key: one appends, the other appends and then reads. Appends make a write
# applied twice visible in the store, the read checks what a reply says about it, and the log
# bound leaves room for one retry.
DEFAULT_CALLS: tuple[tuple[tuple[str, str, str | None], ...], ...] = (
    ((APPEND, "k", "x"),),
    ((APPEND, "k", "y"), (GET, "k", None)),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The bounds of one model, keyword-only and checked when built (ValueError says what is
    wrong and what is expected). Bounds are guards: a step that would exceed one is not
    enabled, so every bounded behaviour is a behaviour of the unbounded spec.

    replicas    servers 0..replicas-1, each applying the committed log in order
    calls       per clerk, its calls in order, each (kind, key, value); clerk ids 0..
    max_log     at most this many committed entries (a retried call may be in the log twice)
    read_index  gets are served by ReadIndex (thesis §6.4), not through the log
    snapshots   servers snapshot, restart from their snapshot, and install each other's
    bugs        names from BUGS to switch on
    """

    replicas: int = BOUNDS["replicas"].default
    calls: tuple[tuple[tuple[str, str, str | None], ...], ...] = DEFAULT_CALLS
    max_log: int = BOUNDS["max_log"].default
    read_index: bool = False
    snapshots: bool = True
    bugs: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.bugs) - set(BUGS))
        if unknown:
            raise ValueError(f"unknown bug flag(s) {unknown}; known: {sorted(BUGS)}")
        for name, bound in BOUNDS.items():
            value = getattr(self, name)
            if not (isinstance(value, int) and bound.low <= value <= bound.high):
                raise ValueError(f"{name} is {value!r}; expected {bound.low}..{bound.high}")
        if not 1 <= len(self.calls) <= 3 or not all(1 <= len(c) <= 3 for c in self.calls):
            raise ValueError("calls: expected 1..3 clerks with 1..3 calls each")
        for clerk in self.calls:
            for kind, key, value in clerk:
                if kind not in CALL_KINDS or (kind == GET) != (value is None):
                    raise ValueError(f"call ({kind!r}, {key!r}, {value!r}): expected a get "
                                     "(value None), put or append (value a string)")
        if "stale-read" in self.bugs and not self.read_index:
            raise ValueError("the stale-read bug is a ReadIndex mistake: it needs read_index")
        if "dup-not-in-snapshot" in self.bugs and not self.snapshots:
            raise ValueError("the dup-not-in-snapshot bug needs snapshots")

    @property
    def clerks(self) -> int:
        return len(self.calls)

    def op(self, clerk: int, seq: int) -> Op:
        """Clerk `clerk`'s call number `seq` (1-based) as a log entry."""
        kind, key, value = self.calls[clerk][seq - 1]
        return Op(kind, key, value, clerk, seq)

    def has_bug(self, name: str) -> bool:
        return name in self.bugs

    def describe(self) -> str:
        calls = "; ".join(f"c{c}: " + ", ".join(self.op(c, q).describe().split(" ", 1)[1]
                                                  for q in range(1, len(calls) + 1))
                          for c, calls in enumerate(self.calls))
        text = (f"{self.replicas} replica(s), log ≤ {self.max_log}, calls {calls}, "
                f"{'ReadIndex reads' if self.read_index else 'reads through the log'}"
                + (", snapshots and restarts" if self.snapshots else ""))
        if self.bugs:
            text += ", bugs: " + ", ".join(sorted(self.bugs))
        return text


# ---- state ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Machine:
    """A replica's state machine: the last index applied, the store and the duplicate table.
    Built from a trace, `store` is the store's digest (traces/README.md): equal iff equal."""

    applied: int
    store: Store | str
    dup: Dup


EMPTY = Machine(0, (), ())


@dataclass(frozen=True, slots=True)
class Clerk:
    seq: int  # its current call (or its last); 0 before the first
    pending: bool
    read_index: int  # ReadIndex: the index confirmed for its pending get; -1 none yet


@dataclass(frozen=True, slots=True, order=True)
class Reply:
    """An answer in flight to clerk `clerk`'s call `seq`, made from the state at `index`."""

    clerk: int
    seq: int
    index: int
    output: str | None


@dataclass(frozen=True, slots=True, order=True)
class Call:
    """A clerk call as its history records it (a history variable): the call, the commit
    index when it was invoked (`fresh`: a call cannot take effect before that), and, once
    the clerk took a reply, its output."""

    op: Op
    fresh: int
    returned: bool = False
    output: str | None = None


@dataclass(frozen=True, slots=True, order=True)
class Effect:
    """Call (clerk, seq) took effect at `index`: applied there (`executed` False for a
    duplicate) or, a ReadIndex read, served from the state at `index` (`read`)."""

    clerk: int
    seq: int
    index: int
    executed: bool
    read: bool = False


@dataclass(frozen=True, slots=True)
class State:
    log: tuple[Op, ...]  # the committed log: entry i is log[i - 1] (Raft agrees on it)
    replicas: tuple[Machine, ...]  # each replica's state machine
    clerks: tuple[Clerk, ...]
    replies: frozenset[Reply]
    # History variables, which the invariants read:
    seen: tuple[tuple[Store | str, Dup], ...]  # entry i - 1: the first store/table through i
    calls: tuple[Call, ...]  # every call invoked, in order
    effects: frozenset[Effect]
