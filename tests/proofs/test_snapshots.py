"""Snapshots in the proof: on reachable states with compacted logs and InstallSnapshot in
flight, every candidate invariant (ghost lemmas included) holds and its Z3 form agrees with
its concrete evaluation; and the proof with snapshots at small bounds."""

from __future__ import annotations

import z3

from checker.invariants import CONCRETE, Z3, from_spec
from checker.invariants.symbolic import Bounds, encode
from checker.proofs.ghost import GhostView
from checker.proofs.induction import candidate_invariants, prove
from spec.raft import Config, InstallSnapshot
from tests.proofs.test_ghost import ghost_walk
from tests.proofs.test_transition import SNAPSHOT_STEPS

SNAPSHOTS = Config(max_log=2, snapshots=True, max_messages=3, max_restarts=1)


def test_invariants_hold_and_agree_on_reachable_snapshot_states() -> None:
    bounds = Bounds.of(SNAPSHOTS)
    candidates = candidate_invariants(SNAPSHOTS)
    plain = [inv for inv in candidates if "ghost" not in inv.needs]
    snapshots = installs = 0
    for seed in (1, 5):
        for _, _, post, g in ghost_walk(SNAPSHOTS, walks=2, steps=40, seed=seed,
                                        prefer=SNAPSHOT_STEPS):
            view = GhostView(from_spec(post), g, bounds)
            for inv in candidates:
                assert inv.holds(view, CONCRETE), (inv.name, post)
            sym = encode(post, bounds)
            for inv in plain:
                assert z3.is_true(z3.simplify(inv.holds(sym, Z3))), (inv.name, post)
            snapshots += any(s.index for s in post.snapshot)
            installs += any(isinstance(m, InstallSnapshot) for m in post.network)
    assert snapshots >= 10 and installs >= 3  # not vacuous


def test_with_snapshots_the_whole_conjunction_is_inductive_at_small_bounds() -> None:
    # 2 servers, terms ≤ 2, one entry: Compact, InstallSnapshot and AppendEntries reaching into
    # a snapshot all in the relation; every candidate (InstallSnapshot lemma and ghost lemmas
    # included) proved.
    config = Config(servers=2, max_term=2, snapshots=True)
    result = prove(config, invariants=candidate_invariants(config))
    assert result.safety_proved
    assert set(result.proved) == {inv.name for inv in candidate_invariants(config)}


def test_a_bug_with_snapshots_breaks_the_proof_without_a_traceback() -> None:
    # stale-append-truncates with snapshots: CTI pre-states where commit_index passes the log
    # make the spec's own successor function fail; such a CTI is reported unconfirmed
    # (unknown), never as a proof and never as a crash.
    config = Config(servers=2, max_term=2, snapshots=True,
                    bugs=frozenset({"stale-append-truncates"}))
    result = prove(config, invariants=candidate_invariants(config))
    assert not result.safety_proved
    assert any(c.cti is not None and c.cti.confirmed for c in result.not_proved())
