"""One replica group of a `shardkv` trace, rebuilt as the group's state machine: its most
advanced replica's state, and the group's committed log replayed beside it.

Theory of operation
-------------------
A group is one replicated state machine (docs/shardkv-spec.md), so its state in the sharded
KV view is that of its most advanced replica (`best`: the highest `applied` shown, the latest
on a tie; a crash does not undo what was applied, which the group's log keeps). What a
state records is the configuration number and, per shard, the status and duplicate table.
What it does not record — which clerk calls a shard's copy holds, and the values of its keys —
the group's committed log gives: the command of the first `apply` of each index, replayed in
index order as the implementation applied it (`executed`, `wrong_group`):

* a clerk call executed on its key's shard adds the call to that shard's copy (a count per
  call: `data`) and changes the key's value;
* a `config` that the group took gives it the shards it gains: empty, whether created (from
  gid 0) or awaited from another group; the shards it hands off freeze as they are, kept
  under (configuration, shard) for the new owner's `install` to copy; a shard that goes to
  no group is dropped;
* an `install` copies the sending group's frozen copy (its calls and values); a `delete`
  drops the copy.

A replica's state line comes before the applies of its step (traces/README.md), so the state
and the replay agree — are *consistent* — once the replay reaches the best state's `applied`:
only then is the group's part of the view refreshed (`consistent`).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from checker.invariants.shardkv_view import ABSENT, SENDING, SERVING, WAITING
from impl.shardkv.messages import key2shard
from spec.errors import BadInput
from spec.kv import Effect
from spec.shardctrler import NSHARDS

STATUSES = {"serving": SERVING, "waiting": WAITING, "sending": SENDING}
CLERK_KINDS = ("get", "put", "append")
Ident = tuple[int, int]  # a clerk call: (clerk, seq)


@dataclass
class Best:
    """The most advanced replica's state: the group's state in the view."""

    applied: int
    num: int
    status: list[int]
    dup: list[dict[int, int]]
    node: str
    line: int
    canonical: str  # the whole `shardkv` object, canonical: equal iff the states are equal


@dataclass
class Entry:
    command: list[Any]
    executed: bool
    wrong_group: bool
    line: int


@dataclass
class Frozen:
    data: dict[Ident, int]
    store: dict[str, str]


@dataclass
class GroupReplay:
    gid: int
    index: int  # the group's position in the header (its index in the view)
    path: str
    best: Best | None = None
    log: dict[int, Entry] = field(default_factory=dict)
    replayed: int = 0
    shards_cfg: tuple[int, ...] = (0,) * NSHARDS  # the configuration the replay is in
    data: list[dict[Ident, int]] = field(default_factory=lambda: [{} for _ in range(NSHARDS)])
    store: list[dict[str, str]] = field(default_factory=lambda: [{} for _ in range(NSHARDS)])
    frozen: dict[tuple[int, int], Frozen] = field(default_factory=dict)
    changes: dict[str, tuple[list[int], list[str | None]]] = field(default_factory=dict)
    effects: dict[Ident, list[Effect]] = field(default_factory=dict)
    effect_lines: dict[Ident, list[int]] = field(default_factory=dict)
    # What changed since the group was last judged: shards whose status changed or whose
    # copy was reset (every call of theirs), and per shard the calls whose copy changed or
    # the clerks whose entry in the shard's duplicate table moved (from, to).
    dirty_all: set[int] = field(default_factory=set)
    dirty_calls: dict[int, set[Ident]] = field(default_factory=dict)
    dirty_dup: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    new_effects: list[Ident] = field(default_factory=list)  # calls that took effect, unjudged
    twice: set[int] = field(default_factory=set)  # shards whose copy took a call again
    max_commit: int = 0
    first: dict[int, tuple[str, str, int]] = field(default_factory=dict)  # applied -> state

    # ---- the view's part of the group, as of the last consistent point

    def consistent(self) -> bool:
        return self.best is not None and self.replayed >= self.best.applied

    def dirty(self) -> bool:
        return bool(self.dirty_all or self.dirty_calls or self.dirty_dup)

    # ---- states

    def state(self, node: str, raw: Any, line: int) -> Best:
        """A replica's `shardkv` object, read (BadInput if malformed); becomes the group's
        state if it applied the most so far."""
        try:
            gid, num, applied, shards = raw["gid"], raw["num"], raw["applied"], raw["shards"]
        except (KeyError, TypeError):
            raise BadInput("state.shardkv: needs gid, num, applied and shards", self.path,
                           line) from None
        if gid != self.gid:
            raise BadInput(f"state.shardkv: gid {gid!r}, but {node} is a server of group "
                           f"{self.gid}", self.path, line)
        if not (_is_int(num) and num >= 0 and _is_int(applied) and applied >= 0
                and isinstance(shards, dict)):
            raise BadInput("state.shardkv: num and applied must be integers ≥ 0, shards an "
                           "object", self.path, line)
        status, dup = [ABSENT] * NSHARDS, [dict[int, int]() for _ in range(NSHARDS)]
        for key, shard in shards.items():
            s = int(key) if key.isdigit() else -1
            if not (0 <= s < NSHARDS and isinstance(shard, dict)
                    and shard.get("status") in STATUSES and isinstance(shard.get("dup"), dict)
                    and all(c.isdigit() and _is_int(q) and q >= 1
                            for c, q in shard["dup"].items())):
                raise BadInput(f"state.shardkv.shards: {key!r} is not a shard 0..{NSHARDS - 1} "
                               "with status (serving|waiting|sending) and dup (clerk → seq ≥ 1)",
                               self.path, line)
            status[s] = STATUSES[shard["status"]]
            dup[s] = {int(c): q for c, q in shard["dup"].items()}
        rec = Best(applied, num, status, dup, node, line, json.dumps(
            {"num": num, "shards": shards}, sort_keys=True, separators=(",", ":")))
        old = self.best
        if old is None or applied >= old.applied:
            for s in range(NSHARDS):
                if old is None or old.status[s] != status[s]:
                    self.dirty_all.add(s)
                elif old.dup[s] != dup[s]:
                    moved = self.dirty_dup.setdefault(s, [])
                    for c in old.dup[s].keys() | dup[s].keys():
                        was, now = old.dup[s].get(c, 0), dup[s].get(c, 0)
                        if was != now:
                            moved.append((c, min(was, now), max(was, now)))
            self.best = rec
        return rec

    # ---- the committed log

    def apply(self, rec: dict[str, Any], line: int,
              frozen_of: Callable[[int, int, int, int], Frozen]) -> tuple[int, Entry] | None:
        """An `apply` of this group (BadInput if malformed); the entry if it is the first
        apply of its index. Replays what became known."""
        index, command, executed = rec.get("index"), rec.get("command"), rec.get("executed")
        if not (_is_int(index) and index >= 1 and isinstance(executed, bool)
                and isinstance(command, list) and command):
            raise BadInput("apply: a group's apply needs index ≥ 1, executed (true/false) and "
                           "a command", self.path, line)
        _check_command(command, self.path, line)
        if index in self.log:
            return None
        entry = Entry(command, executed, rec.get("wrong_group") is True, line)
        self.log[index] = entry
        while self.replayed + 1 in self.log:
            self.replayed += 1
            self._replay(self.replayed, self.log[self.replayed], frozen_of)
        return index, entry

    def _replay(self, index: int, e: Entry, frozen_of: Callable[[int, int, int, int], Frozen]) -> None:
        cmd = e.command
        kind = cmd[0]
        if kind in CLERK_KINDS:
            if e.wrong_group:
                return
            key, value, clerk, seq = cmd[1], cmd[2], cmd[3], cmd[4]
            s = key2shard(key)
            ident = (clerk, seq)
            self.effects.setdefault(ident, []).append(Effect(clerk, seq, index, e.executed))
            self.effect_lines.setdefault(ident, []).append(e.line)
            self.new_effects.append(ident)
            if not e.executed:
                return
            count = self.data[s][ident] = self.data[s].get(ident, 0) + 1
            if count > 1:
                self.twice.add(s)
            self.dirty_calls.setdefault(s, set()).add(ident)
            if kind != "get":
                new = value if kind == "put" else self.store[s].get(key, "") + value
                self.store[s][key] = new
                self._changed(index, key, new)
        elif not e.executed:
            return
        elif kind == "config":
            num, shards = cmd[1], tuple(cmd[2])
            for s in range(NSHARDS):
                before, after = self.shards_cfg[s], shards[s]
                if after == self.gid and before != self.gid:
                    self._reset(index, s)
                elif before == self.gid and after != self.gid:
                    if after == 0:
                        self._reset(index, s)
                    else:
                        self.frozen[(num, s)] = Frozen(dict(self.data[s]), dict(self.store[s]))
            self.shards_cfg = shards
        elif kind == "install":
            num, s, src = cmd[1], cmd[2], cmd[4]
            self._reset(index, s)
            copy = frozen_of(src, num, s, e.line)
            self.data[s] = dict(copy.data)
            self.store[s] = dict(copy.store)
            for key, value in copy.store.items():
                self._changed(index, key, value)
        elif kind == "delete":
            self._reset(index, cmd[2])

    def _reset(self, index: int, s: int) -> None:
        for key in self.store[s]:
            self._changed(index, key, None)
        self.data[s], self.store[s] = {}, {}
        self.dirty_all.add(s)

    def _changed(self, index: int, key: str, value: str | None) -> None:
        indexes, values = self.changes.setdefault(key, ([], []))
        if indexes and indexes[-1] == index:
            values[-1] = value
        else:
            indexes.append(index)
            values.append(value)

    # ---- spec.kv.View, for the key/value properties of this group

    def first_at(self, index: int) -> tuple[str, tuple[()]] | None:
        first = self.first.get(index)
        return None if first is None else (first[0], ())

    def known_through(self) -> int:
        return self.replayed

    def value_at(self, index: int, key: str) -> str | None:
        changes = self.changes.get(key)
        if changes is None:
            return None
        at = bisect.bisect_right(changes[0], index)
        return changes[1][at - 1] if at else None

    def effects_of(self, clerk: int, seq: int) -> list[Effect]:
        return self.effects.get((clerk, seq), [])

    def acked_through(self, clerk: int, index: int) -> int:
        return 0  # NoAckedWriteLost is the sharded one here (see checker.trace_check.shardkv)

    def clerk_ids(self) -> list[int]:
        return []


def _check_command(cmd: list[Any], path: str, line: int) -> None:
    kind = cmd[0]
    ok = False
    if kind in CLERK_KINDS:
        ok = (len(cmd) == 5 and isinstance(cmd[1], str) and _is_int(cmd[3]) and _is_int(cmd[4])
              and (kind == "get" or isinstance(cmd[2], str)))
    elif kind == "config":
        ok = (len(cmd) == 4 and _is_int(cmd[1]) and isinstance(cmd[2], list)
              and len(cmd[2]) == NSHARDS and all(_is_int(g) for g in cmd[2])
              and isinstance(cmd[3], dict))
    elif kind == "install":
        ok = (len(cmd) == 5 and _is_int(cmd[1]) and _is_int(cmd[2]) and 0 <= cmd[2] < NSHARDS
              and isinstance(cmd[3], dict) and _is_int(cmd[4]))
    elif kind == "delete":
        ok = len(cmd) == 3 and _is_int(cmd[1]) and _is_int(cmd[2]) and 0 <= cmd[2] < NSHARDS
    if not ok:
        raise BadInput("apply: a group's command is [get|put|append, key, value, clerk, seq], "
                       "[\"config\", num, [gid × 10], groups], [\"install\", num, shard, data, "
                       "gid] or [\"delete\", num, shard]", path, line)


def _is_int(x: object) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)
