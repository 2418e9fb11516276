"""The fault layer's rules (impl.net.links.Faults), without processes: a link is a Raft peer's
id or, in a sharded cluster, the name of a server this one calls (the controller's servers,
another group's); a cut link loses everything, and loss draws per message."""

from __future__ import annotations

import random

from impl.net.links import Faults


def test_cut_links_by_peer_id_and_by_server_name() -> None:
    faults = Faults(blocked=frozenset({2, "ctrler0", "server-101-1"}))
    assert faults.reason_out(2) == faults.reason_in(2) == "disconnected"
    assert faults.reason_out("ctrler0") == "disconnected"
    assert faults.reason_in("server-101-1") == "disconnected"
    assert faults.reason_out(1) is None and faults.reason_out("ctrler1") is None
    assert faults.describe() == {"blocked": [2, "ctrler0", "server-101-1"], "loss": 0.0}


def test_loss_reaches_named_links_too() -> None:
    faults = Faults(loss=0.5, rng=random.Random(3))
    lost = sum(faults.reason_out("server-100-0") == "unreliable" for _ in range(2000))
    assert 800 < lost < 1200
