"""`spec.raft_invariants.SERVER_ONLY` declares which properties read nothing but the servers'
variables; the model checker memoises those on server variables alone, so the declaration is
checked here: giving a state another state's network never changes their verdicts."""

from __future__ import annotations

import random
from dataclasses import replace

from spec import raft
from spec.raft_invariants import SERVER_ONLY, message_well_typed, servers_well_typed
from tests.broken_states import broken
from tests.proofs.walks import walk_states

CONFIGS = [
    raft.Config(servers=3, max_term=3, max_log=2, values=2, max_messages=3),
    raft.Config(servers=3, max_term=3, max_log=2, max_messages=2, snapshots=True, max_restarts=1),
]

STATE_PROPERTIES = {**raft.INVARIANTS, **raft.SOMETIMES}


def sample() -> list[raft.State]:
    """Reachable states, and as many with one server variable broken, so that every
    property's verdict varies across the sample."""
    rng = random.Random(11)
    states: list[raft.State] = []
    for k, config in enumerate(CONFIGS):
        states += list(walk_states(config, walks=20, steps=40, seed=k))
    return states + [broken(s, rng) for s in states]


def test_server_only_properties_ignore_the_network() -> None:
    rng = random.Random(5)
    states = sample()
    verdicts = {name: {p(s) for s in states} for name, p in STATE_PROPERTIES.items()}
    assert all(len(seen) == 2 for seen in verdicts.values()), verdicts  # each varies
    for state in states:
        other = rng.choice(states)
        swapped = replace(state, network=other.network)
        for name in SERVER_ONLY & set(STATE_PROPERTIES):
            assert STATE_PROPERTIES[name](state) == STATE_PROPERTIES[name](swapped), name
        after = rng.choice(states)
        for name in SERVER_ONLY & set(raft.TRANSITION_INVARIANTS):
            holds = raft.TRANSITION_INVARIANTS[name]
            assert holds(state, after) == holds(
                swapped, replace(after, network=rng.choice(states).network)
            ), name


def test_every_property_but_type_ok_is_declared_server_only() -> None:
    everything = {*raft.INVARIANTS, *raft.TRANSITION_INVARIANTS, *raft.SOMETIMES}
    assert everything - SERVER_ONLY == {"TypeOK"}


def test_type_ok_is_its_server_conjunct_and_its_message_conjuncts() -> None:
    for state in sample():
        split = (
            servers_well_typed(state)
            and state.restarts >= 0
            and all(message_well_typed(m, state.servers) for m in state.network)
        )
        assert raft.INVARIANTS["TypeOK"](state) == split
        for m in state.network:
            assert not message_well_typed(replace(m, dst=state.servers), state.servers)
