"""The actions of the sharded KV spec: initial state and successor function.

Theory of operation: `spec/shardkv.py`. Each function below is one action; `successors`
yields every enabled one with the state it leads to, named for counterexamples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TypeVar

from spec.shardkv_types import (
    NONE,
    Config,
    Data,
    Dup,
    Group,
    Message,
    Reply,
    State,
    Status,
    Transfer,
    TransferAck,
    describe_message,
)

T = TypeVar("T")
Action = str


def initial_states(config: Config) -> list[State]:
    """Configuration 0 everywhere: no group holds a shard, no call made, nothing in flight."""
    empty = Group(
        num=0,
        status=(Status.ABSENT,) * config.shards,
        data=(_zeros(config.writes),) * config.shards,
        dup=(_zeros(config.clerks),) * config.shards,
    )
    return [State(0, (empty,) * config.groups, _zeros(config.clerks), frozenset())]


def successors(config: Config, state: State) -> Iterator[tuple[Action, State]]:
    """Every enabled action, named, with the state it leads to."""
    if state.published < config.last:
        yield f"Publish(#{state.published + 1})", replace(state, published=state.published + 1)
    for g, group in enumerate(state.groups):
        yield from reconfigure(config, state, g, group)
        for s in range(config.shards):
            step = send(config, state, g, s)
            if step is not None:
                yield step
        for clerk in range(config.clerks):
            step = apply(config, state, g, clerk)
            if step is not None:
                yield step
        step = restart(config, state, g)
        if step is not None:
            yield step
    for m in sorted(state.network, key=_order):
        yield from receive(config, state, m)


def owned(config: Config, group: Group, g: int, s: int) -> bool:
    return config.owner(group.num, s) == g


def settled(config: Config, group: Group, g: int) -> bool:
    """Every shard as its configuration says: served if owned (received, or created), absent
    if not (handed off and acknowledged). Only then may the group move on (lab 4B: one
    reconfiguration at a time, each finished before the next)."""
    return all(
        st == (Status.SERVING if owned(config, group, g, s) else Status.ABSENT)
        for s, st in enumerate(group.status)
    )


def reconfigure(config: Config, state: State, g: int, group: Group) -> Iterator[tuple[Action,
                                                                                     State]]:
    """The group applies the next published configuration through its log, once settled: a
    shard it keeps stays served; a shard it gains from nobody (configuration 1) is created
    empty; a shard it gains from a group waits for that group's transfer; a shard it loses
    is handed off (it stops serving it at once). With `unordered-configs` it applies any other
    published configuration instead, judging gains and losses against its own current one."""
    if not settled(config, group, g):
        return
    if config.has_bug("unordered-configs"):
        targets = [n for n in range(1, state.published + 1) if n != group.num]
    else:
        targets = [group.num + 1] if group.num < state.published else []
    for num in targets:
        status = list(group.status)
        data, dup = list(group.data), list(group.dup)
        for s in range(config.shards):
            before, after = config.owner(group.num, s), config.owner(num, s)
            if after == g and before != g:
                status[s] = Status.SERVING if before == NONE else Status.WAITING
                data[s], dup[s] = _zeros(config.writes), _zeros(config.clerks)
            elif after != g and before == g:
                keep = config.has_bug("serve-after-handoff")
                status[s] = Status.SERVING if keep else Status.SENDING
        new = Group(num, tuple(status), tuple(data), tuple(dup))
        yield f"Reconfigure(g{g + 1}, #{num})", _set_group(state, g, new)


def handing_off(config: Config, group: Group, g: int, s: int) -> bool:
    """The group holds `s` to hand it off: SENDING, or (serve-after-handoff) still serving a
    shard its configuration gives to another group."""
    st = group.status[s]
    return st == Status.SENDING or (st == Status.SERVING and not owned(config, group, g, s))


def send(config: Config, state: State, g: int, s: int) -> tuple[Action, State] | None:
    """The old owner sends the shard's data and duplicate table to its new owner (again and
    again until acknowledged: a lost transfer is sent anew)."""
    group = state.groups[g]
    if not handing_off(config, group, g, s):
        return None
    dst = config.owner(group.num, s)
    m = Transfer(s, group.num, g, dst, group.data[s], group.dup[s])
    network = _add(config, state.network, m)
    if network is None or m in state.network:
        return None  # no room yet, or already in flight (sending it again changes nothing)
    after = replace(state, network=network)
    if config.has_bug("delete-before-install"):
        after = _set_group(after, g, _drop_shard(config, group, s))
    return f"Send({describe_message(config, m)})", after


def apply(config: Config, state: State, g: int, clerk: int) -> tuple[Action, State] | None:
    """A clerk's pending call reaches a group serving its shard (the clerk retries every group
    until one answers; a group that does not serve the shard answers ErrWrongGroup, which
    changes nothing). The group applies it through its log unless its duplicate table shows
    the call applied already, and replies OK either way."""
    seq = state.acked[clerk] + 1
    if seq > config.calls:
        return None
    s = config.shard_of(clerk, seq)
    group = state.groups[g]
    if group.status[s] != Status.SERVING:
        return None
    network = _add(config, state.network, Reply(clerk, seq))
    if network is None:
        return None
    after = replace(state, network=network)
    if group.dup[s][clerk] < seq:
        w = config.write(clerk, seq)
        data = _set(group.data[s], w, min(group.data[s][w] + 1, 2))
        dup = _set(group.dup[s], clerk, seq)
        new = replace(group, data=_set(group.data, s, data), dup=_set(group.dup, s, dup))
        after = _set_group(after, g, new)
    if after == state:
        return None  # already applied and already answered: nothing happens
    return f"Apply(g{g + 1}, c{clerk}.{seq})", after


def restart(config: Config, state: State, g: int) -> tuple[Action, State] | None:
    """A whole group crashes and restarts from its snapshot and log. Everything it applied is
    there, so in the correct spec it comes back as it was and the step is not listed (it
    changes nothing; a group that is down for a while is a group that takes no steps, which
    every interleaving already covers). With `volatile-dup-table` it forgets its duplicate
    tables."""
    if not config.has_bug("volatile-dup-table"):
        return None
    group = state.groups[g]
    cleared = (_zeros(config.clerks),) * config.shards
    if group.dup == cleared:
        return None
    return f"Restart(g{g + 1})", _set_group(state, g, replace(group, dup=cleared))


def receive(config: Config, state: State, m: Message) -> Iterator[tuple[Action, State]]:
    """The network delivers m (Receive), delivers it and keeps a copy (Duplicate), or loses
    it (Drop). Reordering is free: any message in flight may be next."""
    rest = state.network - {m}
    delivered = _deliver(config, replace(state, network=rest), m)
    if delivered is not None:
        yield f"Receive({describe_message(config, m)})", delivered
        if config.duplicates:
            kept = _deliver(config, state, m)
            if kept is not None and kept != state:
                yield f"Duplicate({describe_message(config, m)})", kept
    if config.drops:
        yield f"Drop({describe_message(config, m)})", replace(state, network=rest)


def _deliver(config: Config, state: State, m: Message) -> State | None:
    """The effect of handling m on `state` (whose network already has m removed, or not for a
    duplicate); None when the receiver cannot take it yet (it waits in flight)."""
    match m:
        case Transfer(shard, num, src, dst, data, dup):
            group = state.groups[dst]
            if group.num < num:
                return state  # not there yet: refused, the sender will send again
            if group.num == num and group.status[shard] == Status.WAITING:
                if config.has_bug("dup-table-not-migrated"):
                    dup = _zeros(config.clerks)
                installed = replace(
                    group,
                    status=_set(group.status, shard, Status.SERVING),
                    data=_set(group.data, shard, data),
                    dup=_set(group.dup, shard, dup),
                )
                state = _set_group(state, dst, installed)
            elif group.num == num and group.status[shard] != Status.SERVING:
                return None  # only under a bug: a transfer for a shard the group does not own
            # Installed now or before (a duplicate, or the ack was lost): acknowledge.
            network = _add(config, state.network, TransferAck(shard, num, dst, src))
            return None if network is None else replace(state, network=network)
        case TransferAck(shard, num, src, dst):
            group = state.groups[dst]
            if group.num == num and handing_off(config, group, dst, shard):
                return _set_group(state, dst, _drop_shard(config, group, shard))
            return state  # stale: the shard was deleted already
        case Reply(clerk, seq):
            if seq == state.acked[clerk] + 1:
                return replace(state, acked=_set(state.acked, clerk, seq))
            return state  # a duplicate reply to a call already acknowledged
    raise AssertionError(m)  # pragma: no cover


# ---- helpers ---------------------------------------------------------------------------------


def _drop_shard(config: Config, group: Group, s: int) -> Group:
    """The group deletes its copy of shard s (garbage collection, lab 4B challenge 1)."""
    return replace(
        group,
        status=_set(group.status, s, Status.ABSENT),
        data=_set(group.data, s, _zeros(config.writes)),
        dup=_set(group.dup, s, _zeros(config.clerks)),
    )


def _add(config: Config, network: frozenset[Message], m: Message) -> frozenset[Message] | None:
    """The network with m in flight; None when it would exceed the bound (the send waits)."""
    if m in network:
        return network
    if len(network) >= config.max_messages:
        return None
    return network | {m}


def _order(m: Message) -> tuple[str, Message]:
    return type(m).__name__, m


def _set_group(state: State, g: int, group: Group) -> State:
    return replace(state, groups=_set(state.groups, g, group))


def _set(values: tuple[T, ...], index: int, value: T) -> tuple[T, ...]:
    return (*values[:index], value, *values[index + 1 :])


def _zeros(n: int) -> tuple[int, ...]:
    return (0,) * n


__all__ = ["Action", "Data", "Dup", "initial_states", "successors"]
