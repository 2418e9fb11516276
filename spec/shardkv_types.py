"""The data of the sharded KV spec: configuration (bounds), state, messages.

Everything is immutable and hashable (frozen dataclasses, tuples, frozensets). The theory of
operation is in `spec/shardkv.py`; this module says what the variables *are*.

Groups are the indexes `0 .. groups-1`; the controller's configurations name them by gid, the
index plus one (gid 0 names no group, as in the lab). Configuration numbers start at 0 (no
groups, every shard on gid 0); `Config.configs[n - 1]` is configuration n. A clerk's calls are
numbered by sequence number 1, 2, ... as the lab's duplicate tables number them; the write id
of clerk c's call with sequence number q is `c * calls + q - 1`, and its shard is fixed by the
configuration (`Config.shard_of`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from spec.bounds import Bound, check_bounds

# The fault flags: classic sharding mistakes the spec can re-create (see `Config.bugs`).
BUGS: dict[str, str] = {
    "serve-after-handoff": (
        "a group keeps serving (accepting writes for) a shard after it starts handing it off, "
        "until the new owner acknowledges it"
    ),
    "dup-table-not-migrated": (
        "a shard moves without its duplicate table: the new owner forgets which calls the old "
        "one applied"
    ),
    "unordered-configs": (
        "a group applies whichever published configuration it polls (skipping some, or going "
        "back to a stale one), not the next one in order"
    ),
    "delete-before-install": (
        "the old owner deletes a shard as soon as it sends it, before the new owner has "
        "installed it"
    ),
    "volatile-dup-table": (
        "the duplicate table is kept in memory only (not in the snapshot): a group that "
        "restarts forgets it"
    ),
}


class Status(enum.IntEnum):
    """What a group holds of one shard (an IntEnum: stable hashes, and ints for Z3)."""

    ABSENT = 0  # not held: not owned in the group's configuration, nothing left to hand off
    SERVING = 1  # held and accepting clerk calls
    WAITING = 2  # owned in the group's configuration, its data not installed yet
    SENDING = 3  # owned in the previous configuration, not in this one: being handed off


BOUNDS: dict[str, Bound] = {
    "groups": Bound(2, 1, 4, "Replica groups (gids 1..N)."),
    "shards": Bound(2, 1, 4, "Shards."),
    "clerks": Bound(2, 1, 3, "Clerks."),
    "calls": Bound(2, 0, 3, "Calls (writes) per clerk, one at a time."),
    "max_messages": Bound(3, 1, 6, "Distinct messages in flight at once."),
}

# The default configurations 1..4 for 2 groups and 2 shards, as the controller's rule makes
# them (spec/shardctrler.py with 2 shards; a test checks it): Join 1 (both shards on group 1),
# Join 2 (shard 1 moves to group 2), Leave 1 (shard 0 moves too), Join 1 (shard 1 moves back).
DEFAULT_CONFIGS: tuple[tuple[int, ...], ...] = ((1, 1), (1, 2), (2, 2), (2, 1))

NONE = -1  # the group index of gid 0 (no group)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The bounds of one model, keyword-only and checked when built (ValueError says what is
    wrong and what is expected). Bounds are guards: a step that would exceed one is not
    enabled, so every bounded behaviour is a behaviour of the unbounded spec.

    groups        replica groups, indexes 0..groups-1 (gids 1..groups)
    shards        shards 0..shards-1
    configs       the controller's configurations 1..K, each a gid per shard (1..groups); the
                  controller publishes them in order (configuration 0 has no groups)
    clerks        clerks 0..clerks-1
    calls         writes per clerk, issued one at a time (the next after the last is acked)
    max_messages  at most this many distinct messages in flight (the network is a set)
    drops         the network may lose a message
    duplicates    the network may deliver a message and keep a copy
    bugs          names from BUGS to switch on
    """

    groups: int = BOUNDS["groups"].default
    shards: int = BOUNDS["shards"].default
    configs: tuple[tuple[int, ...], ...] = DEFAULT_CONFIGS
    clerks: int = BOUNDS["clerks"].default
    calls: int = BOUNDS["calls"].default
    max_messages: int = BOUNDS["max_messages"].default
    drops: bool = True
    duplicates: bool = True
    bugs: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        check_bounds(self, BOUNDS, self.bugs, BUGS)
        if not 1 <= len(self.configs) <= 6:
            raise ValueError(f"{len(self.configs)} configurations; expected 1..6")
        for n, shards in enumerate(self.configs, 1):
            if len(shards) != self.shards:
                raise ValueError(f"configuration {n} assigns {len(shards)} shard(s); expected "
                                 f"one gid per shard ({self.shards})")
            if not all(isinstance(g, int) and 1 <= g <= self.groups for g in shards):
                raise ValueError(f"configuration {n} is {list(shards)}; expected gids "
                                 f"1..{self.groups} (every shard on a group once one exists)")

    @property
    def last(self) -> int:
        """The number of the newest configuration."""
        return len(self.configs)

    @property
    def writes(self) -> int:
        return self.clerks * self.calls

    def owner(self, num: int, shard: int) -> int:
        """The group index owning `shard` in configuration `num` (NONE in configuration 0)."""
        return NONE if num == 0 else self.configs[num - 1][shard] - 1

    def shard_of(self, clerk: int, seq: int) -> int:
        """The shard clerk `clerk`'s call `seq` writes to: its calls take the shards in turn,
        starting one further along for each clerk, so that calls cover every shard."""
        return (clerk + seq - 1) % self.shards

    def write(self, clerk: int, seq: int) -> int:
        return clerk * self.calls + seq - 1

    def call(self, write: int) -> tuple[int, int]:
        """(clerk, seq) of a write id."""
        return divmod(write, self.calls)[0], write % self.calls + 1

    def has_bug(self, name: str) -> bool:
        return name in self.bugs

    def describe(self) -> str:
        configs = " ".join("".join(str(g) for g in c) if self.shards <= 9 else str(list(c))
                           for c in self.configs)
        net = [x for x, on in (("drops", self.drops), ("duplicates", self.duplicates)) if on]
        text = (f"{self.groups} groups, {self.shards} shards, configurations {configs}, "
                f"{self.clerks} clerk(s) × {self.calls} call(s), ≤ {self.max_messages} in "
                f"flight" + (f", {' and '.join(net)}" if net else ""))
        if self.bugs:
            text += ", bugs: " + ", ".join(sorted(self.bugs))
        return text


# ---- state ----------------------------------------------------------------------------------

Data = tuple[int, ...]  # per write id: how many times that call was applied to this copy (≤ 2)
Dup = tuple[int, ...]  # per clerk: the highest sequence number applied to this shard (0: none)


@dataclass(frozen=True, slots=True)
class Group:
    """One replica group's applied state: what its Raft log has applied, all of it persisted
    (in its snapshot and log) — a group is one replicated state machine here."""

    num: int  # the configuration it has applied
    status: tuple[Status, ...]  # per shard
    data: tuple[Data, ...]  # per shard: the shard's key/value data, as the calls applied to it
    dup: tuple[Dup, ...]  # per shard: its duplicate table (it travels with the shard)


@dataclass(frozen=True, slots=True, order=True)
class Transfer:
    """A shard handed off: its data and duplicate table as of the end of configuration
    num - 1, from its owner then (src) to its owner in configuration num (dst)."""

    shard: int
    num: int
    src: int
    dst: int
    data: Data
    dup: Dup


@dataclass(frozen=True, slots=True, order=True)
class TransferAck:
    """The new owner (src) has installed `shard` for configuration `num`; the old owner (dst)
    may delete its copy."""

    shard: int
    num: int
    src: int
    dst: int


@dataclass(frozen=True, slots=True, order=True)
class Reply:
    """A group's OK to clerk `clerk` for its call `seq`."""

    clerk: int
    seq: int


Message = Transfer | TransferAck | Reply


@dataclass(frozen=True, slots=True)
class State:
    published: int  # the newest configuration the controller has published
    groups: tuple[Group, ...]
    acked: tuple[int, ...]  # per clerk: how many of its calls were acknowledged (in order)
    network: frozenset[Message]


def describe_message(config: Config, m: Message) -> str:
    match m:
        case Transfer(shard, num, src, dst, data, dup):
            calls = describe_data(config, data)
            return (f"Transfer s{shard} #{num} g{src + 1}→g{dst + 1} {{{calls}}} "
                    f"dup {describe_dup(dup)}")
        case TransferAck(shard, num, src, dst):
            return f"TransferAck s{shard} #{num} g{src + 1}→g{dst + 1}"
        case Reply(clerk, seq):
            return f"Reply c{clerk}.{seq}"
    raise AssertionError(m)  # pragma: no cover


def describe_dup(dup: Dup) -> str:
    """A duplicate table: the highest sequence number applied per clerk, `(0,1)`."""
    return "(" + ",".join(str(q) for q in dup) + ")"


def describe_data(config: Config, data: Data) -> str:
    """The calls applied to a copy: `c0.1` (clerk 0's call 1), `c0.1×2` if applied twice."""
    parts = []
    for w, times in enumerate(data):
        if times:
            clerk, seq = config.call(w)
            parts.append(f"c{clerk}.{seq}" + (f"×{times}" if times > 1 else ""))
    return " ".join(parts)
