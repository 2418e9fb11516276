"""The shard controller (lab 4A), as an executable specification: configurations as values,
Join/Leave/Move/Query, and the rebalancing rule.

Theory of operation
-------------------
The controller keeps a history of numbered configurations. A configuration assigns each of
`NSHARDS` shards to a replica group id (gid) and lists each group's servers; configuration 0
has no groups and every shard on gid 0, which names no group. Join, Leave and Move each append
one new configuration; Query reads one (section 5.1 of the scenario catalogue):

- `Join({gid: servers, ...})` adds groups (a gid not present; gids are positive and may be
  re-used after a Leave) and rebalances;
- `Leave(gids)` removes present groups and rebalances;
- `Move(shard, gid)` puts one shard on one present group, and nothing else changes (a later
  Join or Leave may move it back when it rebalances);
- `Query(num)` returns configuration `num`, or the newest for −1 or a number past the newest.

Everything here is a value (frozen dataclasses, tuples): a new configuration never shares
mutable state with an old one, so "configurations must be deep copies" holds by construction.

The rebalancing rule (`rebalance`) takes the previous assignment and the groups now present:

- balanced: over the present groups, counts differ by at most one, and every shard is on a
  present group (when there is one; with none, every shard goes to gid 0);
- minimal: it moves the fewest shards any balanced assignment can. With n shards and k groups
  a balanced assignment gives q = n // k shards to each group and one more to r = n mod k of
  them; a group can keep at most min(count, target) of its shards, so the rule gives the r
  extra places to the groups holding the most shards (ties: the smaller gid) and lets each
  group keep that many of its own — the most that any choice of the r groups keeps
  (`min_moves` is that bound in closed form; checker/proofs/rebalance.py checks it with Z3);
- deterministic: only sorted sequences are iterated (never a dict's or set's order), so the
  same inputs give the same configuration in every server of the controller's Raft group. A
  group keeps its lowest-numbered shards; freed shards go, lowest first, to the groups short
  of their target, smallest gid first.

The properties (`INVARIANTS` of configurations, `STEP_PROPERTIES` of steps) name what the lab's
checks and its two "minimal transfers" tests intend (sections 5.2–5.4): balance; minimal
movement; after joins no group that already existed gains a shard; after leaves every shard of
a surviving group stays put. The last two hold from a balanced configuration (Moves can leave
one unbalanced, and then a Join may have to give an old group shards to balance it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

NSHARDS = 10

Groups = tuple[tuple[int, tuple[str, ...]], ...]  # (gid, servers), sorted by gid


@dataclass(frozen=True, slots=True)
class Configuration:
    """One numbered configuration: shard -> gid, and the groups' servers (sorted by gid)."""

    num: int
    shards: tuple[int, ...]
    groups: Groups

    @property
    def gids(self) -> tuple[int, ...]:
        return tuple(gid for gid, _ in self.groups)

    def servers(self, gid: int) -> tuple[str, ...]:
        return dict(self.groups)[gid]

    def shards_of(self, gid: int) -> tuple[int, ...]:
        return tuple(s for s, g in enumerate(self.shards) if g == gid)

    def describe(self) -> str:
        groups = ", ".join(f"{gid}:{len(servers)}" for gid, servers in self.groups) or "none"
        return f"#{self.num} shards {list(self.shards)} groups {groups}"


def initial(nshards: int = NSHARDS) -> Configuration:
    """Configuration 0: no groups, every shard on gid 0."""
    return Configuration(0, (0,) * nshards, ())


# ---- operations -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Join:
    groups: Groups  # the groups joining, sorted by gid

    @classmethod
    def of(cls, groups: Mapping[int, Iterable[str]]) -> Join:
        """From a mapping in any order: the order of its keys does not matter."""
        return cls(tuple(sorted((gid, tuple(servers)) for gid, servers in groups.items())))

    def describe(self) -> str:
        return "Join " + " ".join(str(gid) for gid, _ in self.groups)


@dataclass(frozen=True, slots=True)
class Leave:
    gids: tuple[int, ...]

    @classmethod
    def of(cls, gids: Iterable[int]) -> Leave:
        return cls(tuple(sorted(gids)))

    def describe(self) -> str:
        return "Leave " + " ".join(str(gid) for gid in self.gids)


@dataclass(frozen=True, slots=True)
class Move:
    shard: int
    gid: int

    def describe(self) -> str:
        return f"Move shard {self.shard} to {self.gid}"


@dataclass(frozen=True, slots=True)
class Query:
    num: int

    def describe(self) -> str:
        return f"Query {self.num}"


Change = Join | Leave | Move  # the operations that make a new configuration
Op = Change | Query


def invalid(config: Configuration, op: Op) -> str | None:
    """Why `op` cannot be applied to `config` (the newest configuration), or None."""
    present = set(config.gids)
    match op:
        case Join(groups):
            gids = [gid for gid, _ in groups]
            if not gids:
                return "Join needs at least one group"
            if len(set(gids)) != len(gids):
                return "Join names a group twice"
            if any(gid <= 0 for gid in gids):
                return "a group id must be positive (gid 0 means no group)"
            if present & set(gids):
                return f"group {min(present & set(gids))} has already joined"
            if any(not servers for _, servers in groups):
                return "a joining group needs at least one server"
        case Leave(gids):
            if not gids:
                return "Leave needs at least one group"
            if len(set(gids)) != len(gids):
                return "Leave names a group twice"
            if not set(gids) <= present:
                return f"group {min(set(gids) - present)} is not present"
        case Move(shard, gid):
            if not 0 <= shard < len(config.shards):
                return f"shard {shard} out of range 0..{len(config.shards) - 1}"
            if gid not in present:
                return f"group {gid} is not present"
        case Query(num):
            if num < -1:
                return f"configuration number {num}: expected -1 (the newest) or ≥ 0"
    return None


def apply(history: tuple[Configuration, ...], op: Op) -> tuple[tuple[Configuration, ...],
                                                               Configuration | None]:
    """The controller's state machine: a Join, Leave or Move appends a configuration (the reply
    is None); a Query leaves the history as it is and replies with a configuration. Raises
    ValueError (the reason from `invalid`) for an operation that cannot apply."""
    latest = history[-1]
    problem = invalid(latest, op)
    if problem is not None:
        raise ValueError(problem)
    if isinstance(op, Query):
        return history, query(history, op.num)
    return (*history, change(latest, op)), None


def query(history: Sequence[Configuration], num: int) -> Configuration:
    """Configuration `num`; the newest for −1 or a number past the newest."""
    return history[-1] if num == -1 or num >= len(history) else history[num]


def change(config: Configuration, op: Change) -> Configuration:
    """The configuration that follows `config` under a Join, Leave or Move (valid for it)."""
    match op:
        case Join(groups):
            merged = tuple(sorted(config.groups + groups))
            return Configuration(config.num + 1, rebalance(config.shards, _gids(merged)), merged)
        case Leave(gids):
            kept = tuple((gid, servers) for gid, servers in config.groups if gid not in gids)
            return Configuration(config.num + 1, rebalance(config.shards, _gids(kept)), kept)
        case Move(shard, gid):
            shards = (*config.shards[:shard], gid, *config.shards[shard + 1 :])
            return Configuration(config.num + 1, shards, config.groups)
    raise AssertionError(op)  # pragma: no cover


def run(ops: Iterable[Change], nshards: int = NSHARDS) -> tuple[Configuration, ...]:
    """The history after applying `ops` to configuration 0, in order."""
    history: tuple[Configuration, ...] = (initial(nshards),)
    for op in ops:
        history, _ = apply(history, op)
    return history


# ---- the rebalancing rule ---------------------------------------------------------------------


def targets(shards: Sequence[int], gids: Iterable[int]) -> dict[int, int]:
    """How many shards each present group gets: n // k each, one more for the n mod k groups
    that hold the most shards now (ties: smaller gid first). Empty when no group is present."""
    present = sorted(set(gids))
    if not present:
        return {}
    q, r = divmod(len(shards), len(present))
    counts = {gid: 0 for gid in present}
    for gid in shards:
        if gid in counts:
            counts[gid] += 1
    order = sorted(present, key=lambda gid: (-counts[gid], gid))
    return {gid: q + (1 if rank < r else 0) for rank, gid in enumerate(order)}


def rebalance(shards: Sequence[int], gids: Iterable[int]) -> tuple[int, ...]:
    """A balanced assignment of the shards to the groups `gids` moving the fewest shards from
    `shards` (see the module docstring); every shard on gid 0 when no group is present."""
    goal = targets(shards, gids)
    if not goal:
        return (0,) * len(shards)
    result = list(shards)
    held = dict.fromkeys(goal, 0)
    free: list[int] = []
    for shard, gid in enumerate(shards):
        if gid in goal and held[gid] < goal[gid]:
            held[gid] += 1  # a group keeps its lowest-numbered shards, up to its target
        else:
            free.append(shard)
    free.reverse()  # pop() then hands out the lowest-numbered freed shard first
    for gid in sorted(goal):
        while held[gid] < goal[gid]:
            result[free.pop()] = gid
            held[gid] += 1
    assert not free
    return tuple(result)


def moved(before: Sequence[int], after: Sequence[int]) -> int:
    """How many shards changed group."""
    return sum(1 for a, b in zip(before, after, strict=True) if a != b)


def min_moves(shards: Sequence[int], gids: Iterable[int]) -> int:
    """The fewest shards any balanced assignment over `gids` must move away from `shards`: all
    but the most that can stay, Σ min(count, target) with the extra places given to the fullest
    groups (module docstring). With no group, the shards not already on gid 0."""
    goal = targets(shards, gids)
    if not goal:
        return sum(1 for gid in shards if gid != 0)
    stay = sum(min(sum(1 for g in shards if g == gid), goal[gid]) for gid in goal)
    return len(shards) - stay


# ---- properties -------------------------------------------------------------------------------


def balanced(config: Configuration) -> bool:
    """Every shard on a present group (gid 0 when there is none), and over the present groups
    the counts differ by at most one (section 5.2's check)."""
    gids = config.gids
    if not gids:
        return all(gid == 0 for gid in config.shards)
    if any(gid not in gids for gid in config.shards):
        return False
    counts = [sum(1 for g in config.shards if g == gid) for gid in gids]
    return max(counts) - min(counts) <= 1


def groups_kept(config: Configuration) -> bool:
    """The group table is a function of gid, sorted, with servers for every group."""
    gids = config.gids
    return list(gids) == sorted(set(gids)) and all(servers for _, servers in config.groups)


def minimal_movement(before: Configuration, after: Configuration) -> bool:
    """A rebalancing step moved no more shards than any balanced assignment must."""
    return moved(before.shards, after.shards) == min_moves(before.shards, after.gids)


def joins_give_old_groups_nothing(before: Configuration, after: Configuration) -> bool:
    """After joins from a balanced configuration, no group that already existed gains a shard it
    did not own (section 5.3 #5 and 5.4 #3, as intended)."""
    if not (balanced(before) and set(before.gids) <= set(after.gids)):
        return True
    return all(
        set(after.shards_of(gid)) <= set(before.shards_of(gid)) for gid in before.gids
    )


def leaves_keep_survivors_shards(before: Configuration, after: Configuration) -> bool:
    """After leaves from a balanced configuration, every shard of a surviving group stays put
    (section 5.3 #6 and 5.4 #4, as intended)."""
    if not (balanced(before) and set(after.gids) <= set(before.gids)):
        return True
    return all(after.shards[s] == gid for s, gid in enumerate(before.shards)
               if gid in after.gids)


INVARIANTS: dict[str, Callable[[Configuration], bool]] = {
    "Balanced": balanced,
    "GroupsWellFormed": groups_kept,
}
# Properties of one rebalancing step (a Join or a Leave) from `before` to `after`; a Move
# moves the one shard it names and is exempt.
STEP_PROPERTIES: dict[str, Callable[[Configuration, Configuration], bool]] = {
    "MinimalMovement": minimal_movement,
    "JoinsGiveOldGroupsNothing": joins_give_old_groups_nothing,
    "LeavesKeepSurvivorsShards": leaves_keep_survivors_shards,
}


def _gids(groups: Groups) -> tuple[int, ...]:
    return tuple(gid for gid, _ in groups)
