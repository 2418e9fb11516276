"""Bounds of a model's configuration, declared once per spec and checked where a configuration
is built.

A spec declares its integer bounds as a table of `Bound`s (default, accepted range, help);
its `Config` takes its defaults from the table and calls `check_bounds` in `__post_init__`,
and the CLI generates its options from the same table, so the range a verb accepts and the
range a configuration allows cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bound:
    """One bound: its default and the range every verb accepts."""

    default: int
    low: int
    high: int
    help: str


def check_bounds(
    config: object, bounds: Mapping[str, Bound], bugs: frozenset[str], known: Mapping[str, str]
) -> None:
    """ValueError naming the first bug flag not in `known`, or the first bounded field of
    `config` outside its range."""
    unknown = sorted(set(bugs) - set(known))
    if unknown:
        raise ValueError(f"unknown bug flag(s) {unknown}; known: {sorted(known)}")
    for name, bound in bounds.items():
        value = getattr(config, name)
        if not (isinstance(value, int) and bound.low <= value <= bound.high):
            raise ValueError(f"{name} is {value!r}; expected {bound.low}..{bound.high}")
