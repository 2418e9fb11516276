"""A naive oracle: plain breadth-first search over the spec, no fingerprints, no symmetry."""

from __future__ import annotations

from collections import deque

from spec import raft


def naive_search(
    config: raft.Config, stop_at_violation: bool = False
) -> tuple[set[raft.State], int | None]:
    """Every reachable state, and the least depth (in steps) at which an invariant fails
    (states are visited in BFS order, so the first failure seen is at the least depth)."""
    init = raft.initial_states(config)
    depth = dict.fromkeys(init, 0)
    queue = deque(init)
    first_violation: int | None = None
    while queue:
        if stop_at_violation and first_violation is not None:
            break
        state = queue.popleft()
        if first_violation is None and not all(p(state) for p in raft.INVARIANTS.values()):
            first_violation = depth[state]
        for _, nxt in raft.successors(state, config):
            if first_violation is None and not raft.leader_append_only(state, nxt):
                first_violation = depth[state] + 1
            if nxt not in depth:
                depth[nxt] = depth[state] + 1
                queue.append(nxt)
    return set(depth), first_violation
