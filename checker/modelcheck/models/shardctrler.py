"""The shard controller's spec (`spec/shardctrler.py`) as a model for the one search: every
sequence of Join, Leave and Move over a few gids, explored exhaustively.

Why a model on top of the Hypothesis tests and the Z3 check: they sample sequences; this
visits every configuration the operations can reach over gids 1..N (62,125 of them at the
defaults, 3 gids and 10 shards, Moves included) and checks the rebalancing properties on every
step out of each one, including the unbalanced configurations that only Moves make.

A state is a `Configuration`; its number only counts operations, so states are stored by their
shards and groups (`canonical`), which is all any successor or property reads. The properties:

- every state: GroupsWellFormed;
- every Join or Leave step (the groups change): Balanced after it, MinimalMovement (the closed
  form `min_moves`, itself checked against Z3 and a brute force by tests/shardctrler),
  JoinsGiveOldGroupsNothing and LeavesKeepSurvivorsShards (from a balanced configuration);
- every Move step: it changes exactly the shard it names.

`rule` picks the rebalancing rule: the spec's ("minimal"), or a deliberately wasteful one
("deal") that deals every shard round-robin afresh — balanced, deterministic, and not minimal,
to show the checker notices (STYLE.md 9).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from checker.modelcheck.model import Encoding, Model
from spec import shardctrler as spec
from spec.shardctrler import Configuration

RULES = ("minimal", "deal")


def deal(shards: Sequence[int], gids: Sequence[int]) -> tuple[int, ...]:
    """The wasteful rule: shard i to the (i mod k)-th group in gid order, whatever it had."""
    present = sorted(set(gids))
    if not present:
        return (0,) * len(shards)
    return tuple(present[i % len(present)] for i in range(len(shards)))


@dataclass(frozen=True, kw_only=True, eq=False)
class ShardCtrlerModel(Model[Configuration]):
    gids: int = 3  # gids 1..gids may join and leave
    shards: int = spec.NSHARDS
    moves: bool = True
    rule: str = "minimal"

    name = "shardctrler"
    index_label = "s"  # a changed shard shows as s3=2

    def __post_init__(self) -> None:
        if not 1 <= self.gids <= 6:
            raise ValueError(f"gids is {self.gids}; expected 1..6")
        if not 1 <= self.shards <= spec.NSHARDS:
            raise ValueError(f"shards is {self.shards}; expected 1..{spec.NSHARDS}")
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}; known: {', '.join(RULES)}")
        # Balance is not a property of every state once Moves exist (a Move need not keep it):
        # it is checked on every rebalancing step instead (BalancedAfterRebalance).
        object.__setattr__(self, "invariants", {
            name: p for name, p in spec.INVARIANTS.items() if name != "Balanced"})
        steps: dict[str, Callable[[Configuration, Configuration], bool]] = {
            "BalancedAfterRebalance": _on_rebalance(lambda b, a: spec.balanced(a)),
            **{name: _on_rebalance(p) for name, p in spec.STEP_PROPERTIES.items()},
            "MoveMovesOneShard": _move_moves_one_shard,
        }
        object.__setattr__(self, "transition_invariants", steps)
        object.__setattr__(self, "sometimes", {
            "EveryGroupPresent": lambda c: len(c.gids) == self.gids,
            "UnbalancedByMoves": lambda c: not spec.balanced(c),
        })

    def initial_states(self) -> list[Configuration]:
        return [spec.initial(self.shards)]

    def successors(self, state: Configuration) -> Iterator[tuple[str, Configuration]]:
        present = set(state.gids)
        for gid in range(1, self.gids + 1):
            op: spec.Change
            op = spec.Leave((gid,)) if gid in present else spec.Join(((gid, (f"s{gid}",)),))
            yield op.describe(), self._change(state, op)
        if self.moves:
            for shard in range(self.shards):
                for gid in sorted(present):
                    if state.shards[shard] != gid:
                        move = spec.Move(shard, gid)
                        yield move.describe(), spec.change(state, move)

    def _change(self, state: Configuration, op: spec.Join | spec.Leave) -> Configuration:
        after = spec.change(state, op)
        if self.rule == "deal":
            after = Configuration(after.num, deal(state.shards, after.gids), after.groups)
        return after

    def canonical(self, state: Configuration) -> Encoding:
        return state.shards, state.groups

    def variables(self, state: Configuration) -> dict[str, Any]:
        return {
            "num": state.num,
            "shards": list(state.shards),
            "groups": [gid for gid, _ in state.groups],
        }

    def describe_initial(self, state: Configuration) -> str:
        return f"Init: configuration 0, every one of the {self.shards} shards on gid 0"

    def bounds_text(self) -> str:
        moves = "with" if self.moves else "without"
        rule = "" if self.rule == "minimal" else f", rule {self.rule}"
        return f"gids 1..{self.gids}, {self.shards} shards, {moves} Moves{rule}"

    def summary(self) -> dict[str, Any]:
        return {"spec": "shardctrler", "config": {"gids": self.gids, "shards": self.shards,
                                                  "moves": self.moves, "rule": self.rule}}


def _on_rebalance(
    prop: Callable[[Configuration, Configuration], bool],
) -> Callable[[Configuration, Configuration], bool]:
    """`prop` on the steps that rebalance (a Join or a Leave: the groups change)."""
    return lambda before, after: before.groups == after.groups or prop(before, after)


def _move_moves_one_shard(before: Configuration, after: Configuration) -> bool:
    return before.groups != after.groups or spec.moved(before.shards, after.shards) == 1
