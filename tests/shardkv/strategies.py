"""Generated sharded KV states: arbitrary ones within the encoding's domain (Hypothesis), and
reachable ones from seeded random walks through the spec."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from spec.shardkv import (
    Config,
    Group,
    Message,
    Reply,
    State,
    Status,
    Transfer,
    TransferAck,
    initial_states,
    successors,
)

SMALL = Config(clerks=1, calls=1, max_messages=2)
CONFIGS = [Config(), SMALL, Config(groups=3, shards=2, configs=((1, 1), (2, 1), (2, 3), (3, 3)),
                                   clerks=1, calls=2, max_messages=2)]


@st.composite
def states(draw: st.DrawFn, config: Config) -> State:
    """Any state whose variables are within their ranges (reachable or not)."""
    k, q = config.last, config.calls

    def group() -> Group:
        return Group(
            num=draw(st.integers(0, k)),
            status=tuple(Status(draw(st.integers(0, 3))) for _ in range(config.shards)),
            data=tuple(tuple(draw(st.integers(0, 2)) for _ in range(config.writes))
                       for _ in range(config.shards)),
            dup=tuple(tuple(draw(st.integers(0, q)) for _ in range(config.clerks))
                      for _ in range(config.shards)),
        )

    def message() -> Message:
        kind = draw(st.integers(0, 2))
        shard = draw(st.integers(0, config.shards - 1))
        num = draw(st.integers(1, k))
        src, dst = (draw(st.integers(0, config.groups - 1)) for _ in range(2))
        if kind == 0:
            data = tuple(draw(st.integers(0, 2)) for _ in range(config.writes))
            dup = tuple(draw(st.integers(0, q)) for _ in range(config.clerks))
            return Transfer(shard, num, src, dst, data, dup)
        if kind == 1:
            return TransferAck(shard, num, src, dst)
        return Reply(draw(st.integers(0, config.clerks - 1)), draw(st.integers(1, max(q, 1))))

    network = frozenset(message() for _ in range(draw(st.integers(0, config.max_messages))))
    return State(
        published=draw(st.integers(0, k)),
        groups=tuple(group() for _ in range(config.groups)),
        acked=tuple(draw(st.integers(0, q)) for _ in range(config.clerks)),
        network=network,
    )


# Walks favour the steps that make progress (the network's noise is always possible).
PROGRESS = ("Publish", "Reconfigure", "Send", "Apply", "Receive", "Restart")


def walk_states(config: Config, *, walks: int, steps: int, seed: int) -> list[State]:
    """The states visited by seeded random walks from the initial state."""
    rng = random.Random(seed)
    out = []
    for _ in range(walks):
        state = initial_states(config)[0]
        out.append(state)
        for _ in range(steps):
            options = list(successors(config, state))
            if not options:
                break
            preferred = [o for o in options if o[0].startswith(PROGRESS)]
            pool = preferred if preferred and rng.random() < 0.8 else options
            state = rng.choice(pool)[1]
            out.append(state)
    return out
