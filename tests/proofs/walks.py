"""Random walks through the executable spec: reachable states for comparing the symbolic
transition relation (and CTIs) with the spec."""

from __future__ import annotations

import random
from collections.abc import Iterator

from spec.raft import Config, State, initial_states, successors

PREFERRED = frozenset({"Receive", "ClientRequest"})


def walk_states(config: Config, *, walks: int, steps: int, seed: int,
                prefer: frozenset[str] = PREFERRED) -> Iterator[State]:
    """States on `walks` random walks of up to `steps` steps. Steps named in `prefer` (by
    default delivering a message and client requests) are preferred 3:1, so that walks get past
    elections into replication and commitment."""
    rng = random.Random(seed)
    for _ in range(walks):
        state = initial_states(config)[0]
        for _ in range(steps):
            yield state
            options = list(successors(state, config))
            if not options:
                break
            weights = [3 if a.name in prefer else 1 for a, _ in options]
            state = rng.choices(options, weights=weights)[0][1]
