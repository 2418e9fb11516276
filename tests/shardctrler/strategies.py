"""Hypothesis strategies: valid Join/Leave/Move sequences, drawn step by step against the
configuration they apply to, and a brute-force twin of the minimality bound."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import strategies as st

from spec.shardctrler import NSHARDS, Change, Configuration, Join, Leave, Move, change, initial


@st.composite
def sequences(draw: st.DrawFn, *, nshards: int = NSHARDS, max_gid: int = 12,
              max_steps: int = 8, moves: bool = True) -> list[Change]:
    """A valid sequence from configuration 0 (joins, leaves and, if `moves`, moves)."""
    config = initial(nshards)
    ops: list[Change] = []
    for _ in range(draw(st.integers(1, max_steps))):
        op = draw(next_op(config, max_gid=max_gid, moves=moves))
        if op is None:
            break
        ops.append(op)
        config = change(config, op)
    return ops


@st.composite
def next_op(draw: st.DrawFn, config: Configuration, *, max_gid: int,
            moves: bool = True) -> Change | None:
    present = list(config.gids)
    absent = [g for g in range(1, max_gid + 1) if g not in present]
    kinds = (["join"] if absent else []) + (["leave"] if present else [])
    kinds += ["move"] if present and moves else []
    if not kinds:
        return None
    kind = draw(st.sampled_from(kinds))
    if kind == "join":
        gids = draw(st.lists(st.sampled_from(absent), min_size=1, max_size=3, unique=True))
        return Join.of({g: (f"s{g}",) for g in gids})
    if kind == "leave":
        return Leave.of(draw(st.lists(st.sampled_from(present), min_size=1,
                                      max_size=min(3, len(present)), unique=True)))
    return Move(draw(st.integers(0, len(config.shards) - 1)), draw(st.sampled_from(present)))


def brute_minimum(before: Sequence[int], gids: Sequence[int]) -> int:
    """The least number of moved shards over every balanced assignment, by enumeration."""
    present = sorted(set(gids))
    if not present:
        return sum(1 for g in before if g != 0)
    best = len(before)
    for assignment in itertools.product(present, repeat=len(before)):
        counts = [assignment.count(g) for g in present]
        if max(counts) - min(counts) <= 1:
            best = min(best, sum(1 for a, b in zip(before, assignment, strict=True) if a != b))
    return best
