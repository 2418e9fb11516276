"""The sharded KV spec: its configuration is checked when built, its default configurations
are the controller's, a migration runs as the theory of operation says, and no step is the
identity."""

from __future__ import annotations

import pytest

from spec import shardctrler, shardkv
from spec.shardkv import Config, State, Status, Transfer, TransferAck, successors
from tests.shardkv.naive import naive_search


@pytest.mark.parametrize(("kwargs", "words"), [
    (dict(groups=0), "groups is 0"),
    (dict(shards=5), "shards is 5"),
    (dict(configs=()), "0 configurations"),
    (dict(configs=((1, 1, 1),)), "assigns 3 shard"),
    (dict(configs=((1, 0),)), "expected gids 1..2"),
    (dict(configs=((1, 3),)), "expected gids 1..2"),
    (dict(bugs=frozenset({"nope"})), "unknown bug"),
    (dict(max_messages=0), "max_messages is 0"),
])
def test_config_is_checked_when_built(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Config(**kwargs)  # type: ignore[arg-type]


def test_default_configurations_are_the_controllers() -> None:
    ops = [shardctrler.Join.of({1: ("a",)}), shardctrler.Join.of({2: ("b",)}),
           shardctrler.Leave.of([1]), shardctrler.Join.of({1: ("a",)})]
    history = shardctrler.run(ops, nshards=2)
    assert tuple(c.shards for c in history[1:]) == shardkv.DEFAULT_CONFIGS == Config().configs


def step(config: Config, state: State, name: str) -> State:
    """Take the one enabled action named `name`."""
    found = [nxt for action, nxt in successors(config, state) if action == name]
    assert len(found) == 1, (name, [a for a, _ in successors(config, state)])
    return found[0]


def test_a_shard_migrates_with_its_data_and_duplicate_table() -> None:
    config = Config(clerks=1, calls=2)
    s = shardkv.initial_states(config)[0]
    for name in ("Publish(#1)", "Reconfigure(g1, #1)", "Apply(g1, c0.1)", "Receive(Reply c0.1)",
                 "Apply(g1, c0.2)", "Publish(#2)", "Reconfigure(g1, #2)"):
        s = step(config, s, name)
    g1 = s.groups[0]
    assert g1.status == (Status.SERVING, Status.SENDING) and g1.data[1] == (0, 1)
    # g1 cannot move on before the handoff is acknowledged (one configuration at a time).
    assert not any(a.startswith("Reconfigure(g1") for a, _ in successors(config, s))
    transfer = Transfer(1, 2, 0, 1, (0, 1), (2,))
    s = step(config, s, "Send(Transfer s1 #2 g1→g2 {c0.2} dup (2))")
    assert transfer in s.network
    # Not yet in configuration 2: g2 refuses the transfer (it is removed; g1 will resend).
    refused = step(config, s, "Receive(Transfer s1 #2 g1→g2 {c0.2} dup (2))")
    assert transfer not in refused.network and refused.groups[1] == s.groups[1]
    for name in ("Reconfigure(g2, #1)", "Reconfigure(g2, #2)",
                 "Receive(Transfer s1 #2 g1→g2 {c0.2} dup (2))"):
        s = step(config, s, name)
    g2 = s.groups[1]
    assert g2.status[1] == Status.SERVING and g2.data[1] == (0, 1) and g2.dup[1] == (2,)
    assert TransferAck(1, 2, 1, 0) in s.network
    # The reply to call 2 is lost; the clerk's retry reaches g2, whose duplicate table (from
    # g1) says the call is applied: g2 answers OK without applying it again.
    retried = step(config, step(config, s, "Drop(Reply c0.2)"), "Apply(g2, c0.2)")
    assert retried.groups[1].data[1] == (0, 1)
    assert shardkv.Reply(0, 2) in retried.network
    s = step(config, s, "Receive(TransferAck s1 #2 g2→g1)")
    assert s.groups[0].status[1] == Status.ABSENT and s.groups[0].data[1] == (0, 0)
    assert all(holds(config, s) for holds in shardkv.INVARIANTS.values())


def test_no_step_is_the_identity_and_the_correct_spec_has_no_restart() -> None:
    config = Config(clerks=1, calls=1, max_messages=2)
    states, violation = naive_search(config)
    assert violation is None
    for state in states:
        for action, nxt in successors(config, state):
            assert nxt != state, action
            assert not action.startswith("Restart")


def test_bounds_are_guards() -> None:
    config = Config(clerks=1, calls=1, max_messages=1)
    states, _ = naive_search(config)
    assert max(len(s.network) for s in states) == 1
    assert max(s.published for s in states) == config.last
    assert all(a <= config.calls for s in states for a in s.acked)
