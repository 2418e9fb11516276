"""States with one server variable broken: values the spec may never reach, so that the
verdicts of the properties vary across a sample (for tests that compare two evaluations of
the same properties). Works on `spec.raft.State` and `spec.raft_tla.TlaState` alike."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import TypeVar

from spec.raft_types import Entry, Role

S = TypeVar("S")


def broken(state: S, rng: random.Random, lowest_term: int = 0) -> S:
    """`state` with one server's role, commit index, log or term changed; `lowest_term` is
    the term a broken term falls back to (the spec's first term)."""
    servers = len(state.term)  # type: ignore[attr-defined]
    i = rng.randrange(servers)

    def put(values: tuple[object, ...], value: object) -> tuple[object, ...]:
        return (*values[:i], value, *values[i + 1 :])

    j = (i + 1) % servers
    log = state.log[j]  # type: ignore[attr-defined]
    if len(log) >= 2 and rng.random() < 0.5:  # j's log with its first value changed
        first = Entry(log[0].term, log[0].value + 1)
        return replace(state, log=put(state.log, (first, *log[1:])))  # type: ignore[attr-defined,type-var]
    match rng.randrange(4):
        case 0:
            return replace(state, role=put(state.role, Role.LEADER))  # type: ignore[attr-defined,type-var]
        case 1:
            commits = put(state.commit_index, state.commit_index[i] + 1)  # type: ignore[attr-defined]
            return replace(state, commit_index=commits)  # type: ignore[type-var]
        case 2:
            return replace(state, log=put(state.log, log))  # type: ignore[attr-defined,type-var]
        case _:
            terms = put(state.term, lowest_term)  # type: ignore[attr-defined]
            return replace(state, term=terms)  # type: ignore[type-var]
