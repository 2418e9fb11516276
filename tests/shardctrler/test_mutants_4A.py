"""Check the checks: deliberately broken controllers must fail the 4A sub-tests (STYLE.md
point 9). The "minimal transfers" sub-tests, vacuous in the Go suite, catch a controller
that rebalances wastefully; the lab's `check` catches a server that answers queries from
its own, possibly stale, state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from impl.shardctrler import server as ctrl_server
from impl.shardctrler.labtester import CtrlTestFailure
from impl.shardctrler.machine import QUERY
from impl.shardctrler.messages import CtrlRequest, QueryArgs, QueryReply
from impl.shardctrler.scenarios import BY_NAME
from spec import shardctrler


def _deal_afresh(shards: Sequence[int], gids: Iterable[int]) -> tuple[int, ...]:
    # Balanced and deterministic, but it deals every shard again: shard i to the i-th group.
    present = sorted(set(gids))
    if not present:
        return (0,) * len(shards)
    return tuple(present[i % len(present)] for i in range(len(shards)))


@pytest.mark.parametrize("name", ["minimal_transfers_after_joins_4A",
                                  "minimal_transfers_after_multijoins_4A"])
def test_a_wasteful_rebalancing_rule_is_caught_by_the_minimal_transfer_checks(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shardctrler, "rebalance", _deal_afresh)
    # Everything before the minimal-transfer sub-test still passes: the rule is balanced.
    previous = {"minimal_transfers_after_joins_4A": "concurrent_leave_join_4A",
                "minimal_transfers_after_multijoins_4A": "concurrent_multi_leave_join_4A"}
    BY_NAME[previous[name]].run(1)
    with pytest.raises(CtrlTestFailure, match="non-minimal transfer"):
        BY_NAME[name].run(1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_queries_answered_from_a_servers_own_state_are_caught(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    on_request = ctrl_server.CtrlServer._on_request

    def stale_query(self: ctrl_server.CtrlServer, src: int | str, m: CtrlRequest) -> None:
        if isinstance(m, QueryArgs):  # the bug: any server answers from what it applied
            assert ctrl_server.to_op(m).kind == QUERY
            self._send(src, QueryReply(err="OK", seq=m.seq,
                                       config=shardctrler.query(self.machine.history, m.num)))
            return
        on_request(self, src, m)

    monkeypatch.setattr(ctrl_server.CtrlServer, "_on_request", stale_query)
    # With every server up, the leader answers and nothing shows; "Historical queries" shuts
    # servers down in turn, and a lagging one answers with an old configuration.
    BY_NAME["basic_leave_join_4A"].run(seed)
    with pytest.raises(CtrlTestFailure, match="num wrong"):
        BY_NAME["historical_queries_4A"].run(seed)
