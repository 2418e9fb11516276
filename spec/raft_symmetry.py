"""Server-id symmetry of the Raft spec: renaming servers maps behaviours to behaviours.

No action, guard or property of the spec singles out a server id, so for any permutation π of
ids, s → t is a step iff π(s) → π(t) is, and every invariant holds at s iff it holds at π(s).
A model checker may therefore keep one representative per orbit (TLC's SYMMETRY).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

from spec.raft_types import (
    AppendEntries,
    AppendEntriesReply,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    State,
)

T = TypeVar("T")


def permute(state: State, perm: Sequence[int]) -> State:
    """The state in which server i is called perm[i] (perm is a permutation of 0..n-1)."""
    n = state.servers
    inverse = [0] * n
    for old, new in enumerate(perm):
        inverse[new] = old

    def per_server(values: tuple[T, ...]) -> tuple[T, ...]:
        return tuple(values[inverse[new]] for new in range(n))

    def row(values: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(values[inverse[new]] for new in range(n))

    return State(
        term=per_server(state.term),
        role=per_server(state.role),
        voted_for=tuple(None if v is None else perm[v] for v in per_server(state.voted_for)),
        log=per_server(state.log),
        snapshot=per_server(state.snapshot),
        commit_index=per_server(state.commit_index),
        votes_responded=tuple(
            frozenset(perm[j] for j in s) for s in per_server(state.votes_responded)
        ),
        votes_granted=tuple(frozenset(perm[j] for j in s) for s in per_server(state.votes_granted)),
        next_index=tuple(row(r) for r in per_server(state.next_index)),
        match_index=tuple(row(r) for r in per_server(state.match_index)),
        network=frozenset(permute_message(m, perm) for m in state.network),
        restarts=state.restarts,
    )


def permute_message(m: Message, perm: Sequence[int]) -> Message:
    """m with its source and destination renamed."""
    renamed: (
        RequestVote
        | RequestVoteReply
        | AppendEntries
        | AppendEntriesReply
        | InstallSnapshot
    ) = replace(m, src=perm[m.src], dst=perm[m.dst])
    return renamed
