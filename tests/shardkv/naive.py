"""A naive oracle for the sharded KV spec: plain breadth-first search, no fingerprints."""

from __future__ import annotations

from collections import deque

from spec import shardkv


def naive_search(config: shardkv.Config, stop_at_violation: bool = False
                 ) -> tuple[set[shardkv.State], int | None]:
    """Every reachable state, and the least number of steps after which a state or transition
    invariant fails (BFS order: the first failure seen is at the least depth)."""
    init = shardkv.initial_states(config)
    depth = dict.fromkeys(init, 0)
    queue = deque(init)
    first: int | None = None
    while queue:
        if stop_at_violation and first is not None:
            break
        state = queue.popleft()
        if first is None and not all(p(config, state) for p in shardkv.INVARIANTS.values()):
            first = depth[state]
        for _, nxt in shardkv.successors(config, state):
            steps_ok = all(t(config, state, nxt) for t in shardkv.TRANSITION_INVARIANTS.values())
            if first is None and not steps_ok:
                first = depth[state] + 1
            if nxt not in depth:
                depth[nxt] = depth[state] + 1
                queue.append(nxt)
    return set(depth), first
