"""The sharded KV spec's properties: state invariants, a transition invariant, and "sometimes"
properties, each a predicate taking the configuration first (it holds the controller's
configurations: who owns which shard in each).

These are the readable definitions the model checker evaluates. checker/invariants/shardkv.py
writes each once more over a plain view, so that the same definition gives a concrete check
(for states rebuilt from traces) and a Z3 formula (for the proof); tests show the two agree
on generated states.
"""

from __future__ import annotations

from collections.abc import Callable

from spec.shardkv_next import settled
from spec.shardkv_types import Config, State, Status

StateInvariant = Callable[[Config, State], bool]
TransitionInvariant = Callable[[Config, State, State], bool]


def held(config: Config, state: State, s: int, w: int) -> bool:
    """A group holds write w in its copy of shard s, serving it or handing it off. (A copy in
    a transfer alone does not count: the network may lose it.)"""
    return any(g.status[s] in (Status.SERVING, Status.SENDING) and g.data[s][w]
               for g in state.groups)


def at_most_one_server(config: Config, state: State) -> bool:
    """At most one group serves (accepts writes for) a shard at a time."""
    return all(
        sum(1 for g in state.groups if g.status[s] == Status.SERVING) <= 1
        for s in range(config.shards)
    )


def no_acked_write_lost(config: Config, state: State) -> bool:
    """Every acknowledged write is held by a group that serves its shard or is handing it off:
    across migrations, no acknowledged write exists only in the network, or nowhere."""
    return all(
        held(config, state, config.shard_of(clerk, seq), config.write(clerk, seq))
        for clerk, acked in enumerate(state.acked) for seq in range(1, acked + 1)
    )


def no_call_applied_twice(config: Config, state: State) -> bool:
    """No clerk call is applied twice to a shard's data, across migrations (the duplicate
    table travels with the shard)."""
    return all(times <= 1 for g in state.groups for data in g.data for times in data)


def new_owner_extends_old_owner(config: Config, state: State) -> bool:
    """While a shard is being handed off, the data of the group serving it contains every call
    in the old owner's copy: the new owner's data extends what the old owner acknowledged."""
    for s in range(config.shards):
        sending = [g.data[s] for g in state.groups if g.status[s] == Status.SENDING]
        serving = [g.data[s] for g in state.groups if g.status[s] == Status.SERVING]
        for old in sending:
            for new in serving:
                if any(n < o for n, o in zip(new, old, strict=True)):
                    return False
    return True


def configurations_in_order(config: Config, before: State, after: State) -> bool:
    """Each group moves through the configurations in order, one at a time: its configuration
    number stays or grows by one, and only once the current one is settled."""
    return all(
        b.num == a.num or (a.num == b.num + 1 and settled(config, b, g))
        for g, (b, a) in enumerate(zip(before.groups, after.groups, strict=True))
    )


INVARIANTS: dict[str, StateInvariant] = {
    "AtMostOneServer": at_most_one_server,
    "NoAckedWriteLost": no_acked_write_lost,
    "NoCallAppliedTwice": no_call_applied_twice,
    "NewOwnerExtendsOldOwner": new_owner_extends_old_owner,
}
TRANSITION_INVARIANTS: dict[str, TransitionInvariant] = {
    "ConfigurationsInOrder": configurations_in_order,
}


def acked_write_migrated(config: Config, state: State) -> bool:
    """An acknowledged write sits in a shard served by a group that received it by transfer."""
    for clerk, acked in enumerate(state.acked):
        for seq in range(1, acked + 1):
            s, w = config.shard_of(clerk, seq), config.write(clerk, seq)
            for g, group in enumerate(state.groups):
                if (group.status[s] == Status.SERVING and group.data[s][w]
                        and g != config.owner(1, s)):
                    return True
    return False


def every_call_acknowledged(config: Config, state: State) -> bool:
    return all(a == config.calls for a in state.acked)


def last_configuration_everywhere(config: Config, state: State) -> bool:
    return all(g.num == config.last and settled(config, g, i) for i, g in enumerate(state.groups))


# Reached at the default bounds: they show the bounds are not vacuous.
SOMETIMES: dict[str, StateInvariant] = {
    "AckedWriteMigrated": acked_write_migrated,
    "EveryCallAcknowledged": every_call_acknowledged,
    "LastConfigurationEverywhere": last_configuration_everywhere,
}
