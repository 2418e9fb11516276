"""A naive oracle for the key/value spec: plain breadth-first search, no fingerprints."""

from __future__ import annotations

from collections import deque

from spec import kv


def naive_search(config: kv.Config,
                 stop_at_violation: bool = False) -> tuple[set[kv.State], int | None]:
    """Every reachable state, and the least depth at which an invariant fails."""
    init = kv.initial_states(config)
    depth = dict.fromkeys(init, 0)
    queue = deque(init)
    first_violation: int | None = None
    while queue:
        if stop_at_violation and first_violation is not None:
            break
        state = queue.popleft()
        if first_violation is None and not all(
                holds(config, state) for holds in kv.INVARIANTS.values()):
            first_violation = depth[state]
        for _, nxt in kv.successors(config, state):
            if nxt not in depth:
                depth[nxt] = depth[state] + 1
                queue.append(nxt)
    return set(depth), first_violation
