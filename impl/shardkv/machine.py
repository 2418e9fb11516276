"""A shard group's state machine: its configuration, and per shard a status, the data and the
duplicate table, applied in log order (lab 4B).

Theory of operation
-------------------
Each replica group is one replicated state machine (impl.rsm) whose log holds four kinds of
command, each a plain tuple tagged by its first field:

* a clerk's call, `Op` (get, put, append; impl.kv.machine), executed on its key's shard
  (`key2shard`) only while the group serves that shard; otherwise it changes nothing and its
  outcome is `WRONG_GROUP` (the configuration moved on between the leader's check and the
  entry's commit: the clerk asks elsewhere);
* `Reconfigure(num, shards, groups)`: the next configuration, applied only if it is the next
  one (`num == self.num + 1`) and the group has settled the current one — every shard it
  owns served, every other one gone (the spec's `settled`). A shard it keeps stays served;
  one it gains from no group (gid 0: configuration 1, say) is created empty and served; one
  it gains from a group waits for that group's transfer; one it loses is handed off (no
  longer served; its data and table stay, frozen, until the new owner has them); one that
  goes to no group (a Leave of every group) is dropped, as in the lab;
* `Install(num, shard, data, dup, gid)`: the shard this group was waiting for in
  configuration `num`, with the old owner's duplicate table; served at once (lab 4B's
  challenge 2: "serving each received shard at once"). A second install of it changes
  nothing;
* `Delete(num, shard)`: the new owner acknowledged the shard handed off in configuration
  `num`; the copy is deleted (challenge 1: garbage collection). A stale one changes nothing.

Shards that a reconfiguration does not move are served throughout it (challenge 2).
Statuses are the spec's (spec.shardkv.Status), one name per concept: SERVING, WAITING,
SENDING (handing off), ABSENT.

Exactly-once across migrations: each shard has its own duplicate table (impl.rsm.dedup),
which travels with it, so a call executed by the old owner is a duplicate at the new one.

Fault flags re-create the spec's sharding mistakes in the implementation (`BUGS`, named as
spec.shardkv.BUGS): `serve-after-handoff` keeps serving a shard being handed off;
`dup-table-not-migrated` installs a shard with an empty table; `unordered-configs` applies
whichever configuration arrives, skipping or going back, without settling first;
`delete-before-install` is the server's (it deletes a shard as it first sends it).

The snapshot is msgpack of everything (keys sorted: equal states, equal bytes; nothing is
pickled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import msgpack

from impl.kv.machine import Op, Outcome, execute
from impl.rsm import dedup
from impl.shardkv.messages import DupItems, Items, key2shard
from spec.shardctrler import NSHARDS, Configuration, initial
from spec.shardkv import Status

_MAGIC = "shardkv1"
RECONFIGURE, INSTALL, DELETE = "config", "install", "delete"

# The implementation's fault flags: the spec's names (spec.shardkv.BUGS) for the same mistakes.
BUGS: dict[str, str] = {
    "serve-after-handoff": "a group keeps serving a shard while it hands it off, until the "
                           "new owner acknowledges it",
    "dup-table-not-migrated": "a shard is installed without its duplicate table",
    "unordered-configs": "a group applies the newest configuration it polls, skipping some "
                         "(or going back), without settling the current one first",
    "delete-before-install": "the old owner deletes a shard as soon as it first sends it, "
                             "before the new owner has installed it",
}


class Reconfigure(NamedTuple):
    kind: str  # RECONFIGURE
    num: int
    shards: tuple[int, ...]
    groups: tuple[tuple[int, tuple[str, ...]], ...]

    def configuration(self) -> Configuration:
        return Configuration(self.num, tuple(self.shards),
                             tuple((int(g), tuple(s)) for g, s in self.groups))


class Install(NamedTuple):
    kind: str  # INSTALL
    num: int
    shard: int
    data: Items
    dup: DupItems
    gid: int  # the group it came from


class Delete(NamedTuple):
    kind: str  # DELETE
    num: int
    shard: int


Command = Op | Reconfigure | Install | Delete


def reconfigure(config: Configuration) -> Reconfigure:
    return Reconfigure(RECONFIGURE, config.num, config.shards, config.groups)


def read_command(raw: Any) -> Command:
    """A log entry as the machine reads it (the persister hands back plain tuples)."""
    kind = raw[0]
    if kind == RECONFIGURE:
        return Reconfigure(*raw)
    if kind == INSTALL:
        return Install(*raw)
    if kind == DELETE:
        return Delete(*raw)
    return Op(*raw)


@dataclass(frozen=True, slots=True)
class WrongGroup:
    """A clerk call's outcome when the group did not serve its shard at the call's index."""

    shard: int


@dataclass(frozen=True, slots=True)
class Changed:
    """A Reconfigure, Install or Delete's outcome: whether it took effect (False: stale or a
    duplicate, nothing changed)."""

    done: bool


ShardOutcome = Outcome | WrongGroup | Changed


class Shard:
    """One shard as this group holds it. `version` counts its changes (a cache key for
    digests)."""

    __slots__ = ("data", "dup", "status", "version")

    def __init__(self, status: Status = Status.ABSENT, data: dict[str, str] | None = None,
                 dup: dedup.Table | None = None) -> None:
        self.status = status
        self.data: dict[str, str] = data if data is not None else {}
        self.dup: dedup.Table = dup if dup is not None else {}
        self.version = 0

    def items(self) -> Items:
        return tuple(sorted(self.data.items()))

    def dup_items(self) -> DupItems:
        return tuple(sorted(self.dup.items()))


class CorruptSnapshot(ValueError):
    """Snapshot bytes that are not a shard group snapshot this code wrote."""


class ShardMachine:
    def __init__(self, gid: int, bugs: frozenset[str] = frozenset()) -> None:
        unknown = sorted(set(bugs) - set(BUGS))
        if unknown:
            raise ValueError(f"unknown fault flag(s) {unknown}; known: {sorted(BUGS)}")
        self.gid = gid
        self.bugs = bugs
        self.config: Configuration = initial()
        self.prev: Configuration = initial()
        self.shards = [Shard() for _ in range(NSHARDS)]
        self.applied = 0  # the last log index reflected here

    @property
    def num(self) -> int:
        return self.config.num

    def owns(self, s: int) -> bool:
        return self.config.shards[s] == self.gid

    def settled(self) -> bool:
        """Every shard as the configuration says: served if owned, absent if not."""
        return all(sh.status == (Status.SERVING if self.owns(s) else Status.ABSENT)
                   for s, sh in enumerate(self.shards))

    def handing_off(self, s: int) -> bool:
        """The group holds `s` to hand it to its owner: SENDING, or (serve-after-handoff)
        still serving a shard its configuration gives to another group."""
        st = self.shards[s].status
        return st == Status.SENDING or (st == Status.SERVING and not self.owns(s))

    def serves(self, key: str) -> bool:
        return self.shards[key2shard(key)].status == Status.SERVING

    def executed(self, key: str, clerk: int, seq: int) -> bool:
        """Has (clerk, seq) been executed on `key`'s shard, as this group holds it?"""
        return dedup.executed(self.shards[key2shard(key)].dup, clerk, seq)

    # -- applying ----------------------------------------------------------------------
    def apply(self, index: int, command: Command) -> ShardOutcome:
        if index != self.applied + 1:
            raise ValueError(f"apply of index {index} after {self.applied}: out of order")
        self.applied = index
        if isinstance(command, Reconfigure):
            return Changed(self._reconfigure(command.configuration()))
        if isinstance(command, Install):
            return Changed(self._install(command))
        if isinstance(command, Delete):
            return Changed(self._delete(command.num, command.shard))
        s = key2shard(command.key)
        shard = self.shards[s]
        if shard.status != Status.SERVING:
            return WrongGroup(s)
        outcome = execute(shard.data, shard.dup, command)
        shard.version += 1
        return outcome

    def _reconfigure(self, new: Configuration) -> bool:
        if "unordered-configs" in self.bugs:
            if new.num == self.num:
                return False
        elif new.num != self.num + 1 or not self.settled():
            return False
        for s, shard in enumerate(self.shards):
            before, after = self.config.shards[s], new.shards[s]
            if after == self.gid and before != self.gid:
                shard.status = Status.SERVING if before == 0 else Status.WAITING
                shard.data, shard.dup = {}, {}
            elif after != self.gid and before == self.gid:
                if after == 0:  # no group owns it now: the data goes nowhere (the lab's rule)
                    shard.status, shard.data, shard.dup = Status.ABSENT, {}, {}
                elif "serve-after-handoff" not in self.bugs:
                    shard.status = Status.SENDING
            else:
                continue
            shard.version += 1
        self.prev, self.config = self.config, new
        return True

    def _install(self, m: Install) -> bool:
        shard = self.shards[m.shard]
        if m.num != self.num or shard.status != Status.WAITING:
            return False  # installed before (a duplicate transfer), or stale
        shard.status = Status.SERVING
        shard.data = {str(k): str(v) for k, v in m.data}
        shard.dup = ({} if "dup-table-not-migrated" in self.bugs
                     else {int(c): int(q) for c, q in m.dup})
        shard.version += 1
        return True

    def _delete(self, num: int, s: int) -> bool:
        if num != self.num or not self.handing_off(s):
            return False
        shard = self.shards[s]
        shard.status, shard.data, shard.dup = Status.ABSENT, {}, {}
        shard.version += 1
        return True

    # -- snapshots ---------------------------------------------------------------------
    def encode(self) -> bytes:
        body = [_MAGIC, self.applied, self.gid, _config_list(self.config),
                _config_list(self.prev),
                [[int(sh.status), dict(sorted(sh.data.items())), dedup.encode(sh.dup)]
                 for sh in self.shards]]
        packed: bytes = msgpack.packb(body, use_bin_type=True)
        return packed

    @classmethod
    def decode(cls, blob: bytes, bugs: frozenset[str] = frozenset()) -> ShardMachine:
        try:
            body: Any = msgpack.unpackb(blob, raw=False, strict_map_key=True)
            magic, applied, gid, config, prev, shards = body
            machine = cls(int(gid), bugs)
            machine.applied = int(applied)
            machine.config, machine.prev = _config_of(config), _config_of(prev)
            if len(shards) != NSHARDS:
                raise ValueError(f"{len(shards)} shards")
            for shard, (status, data, table) in zip(machine.shards, shards, strict=True):
                shard.status = Status(status)
                shard.data = {str(k): str(v) for k, v in data.items()}
                shard.dup = dedup.decode(table)
        except (ValueError, TypeError, AttributeError, msgpack.ExtraData) as error:
            raise CorruptSnapshot(f"not a shard group snapshot: {error}") from error
        if magic != _MAGIC:
            raise CorruptSnapshot("not a shard group snapshot (bad header)")
        return machine


def _config_list(c: Configuration) -> list[Any]:
    return [c.num, list(c.shards), [[g, list(s)] for g, s in c.groups]]


def _config_of(body: Any) -> Configuration:
    num, shards, groups = body
    return Configuration(int(num), tuple(int(g) for g in shards),
                         tuple((int(g), tuple(str(s) for s in servers)) for g, servers in groups))
