"""ReadIndex on the simulator: with gets served by ReadIndex (Raft thesis §6.4), every lab
scenario and the random fault schedule keep every lab check and a linearizable history
(audited), and a deposed leader cut off in a minority never answers a read — while a
ReadIndex that skips the heartbeat round answers it stale, which the audit catches."""

from __future__ import annotations

import json

import pytest

from checker.kv_audit import audit
from checker.verdict import Verdict
from impl.kv.labtester import KVTester
from impl.kv.scenarios import SCENARIOS
from impl.kv.scenarios.chaos import simulate
from impl.kv.tasks import KvTask, spawn
from impl.raft import core as raft_core
from impl.raft.core import RaftCore, Role
from impl.raft.effects import Effects, ReadReady
from impl.trace import TraceWriter
from tests.kv.lab import CAMPAIGN_SEEDS, SEARCH_BUDGET, play

NAMES = [s.name for s in SCENARIOS]


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_with_read_index_is_linearizable(name: str) -> None:
    run = play(name, 1, read_index=True)
    gets = sum(1 for call in run.tester.history.calls if call.f == "get")
    assert run.tester.reads >= min(gets, 1)  # gets were served by ReadIndex, not the log
    assert not any(op.kind == "get" for op, _ in run.tester._at_index.values())


@pytest.mark.campaign
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", CAMPAIGN_SEEDS)
def test_campaign_scenarios_with_read_index(name: str, seed: int) -> None:
    play(name, seed, read_index=True)


def random_faults(seed: int, servers: int, unreliable: bool, maxraftstate: int,
                  duration_ms: int) -> None:
    run = simulate(seed=seed, servers=servers, clients=5, unreliable=unreliable,
                   maxraftstate=maxraftstate, duration_ms=duration_ms, read_index=True)
    assert run.failure is None
    cfg = run.tester
    assert cfg.reads > 0
    result = audit(cfg.history, cfg.witness(), search_budget=SEARCH_BUDGET)
    assert result.verdict is Verdict.OK, result.witness_problem


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("unreliable", [False, True])
def test_random_faults_with_read_index_are_linearizable(seed: int, unreliable: bool) -> None:
    random_faults(seed, 5, unreliable, 1000 if seed % 2 else -1, 8_000)


@pytest.mark.campaign
@pytest.mark.parametrize("seed", range(10, 60))
@pytest.mark.parametrize("servers", [3, 5, 7])
def test_campaign_random_faults_with_read_index(seed: int, servers: int) -> None:
    random_faults(seed, servers, seed % 2 == 0, 1000 if seed % 3 == 0 else -1, 30_000)


def deposed_leader(cfg: KVTester, seen: dict[str, object]) -> KvTask[None]:
    """Write "old"; cut the leader off with one other server; the majority elects a new
    leader and writes "new"; then a clerk that reaches only the old leader asks for the
    value, for five seconds; then everything heals."""
    everyone = list(range(cfg.n))
    ck = cfg.make_client(everyone)
    yield from ck.put("k", "old")
    _, old = cfg.leader()
    majority = [i for i in everyone if i != old][:3]
    minority = [i for i in everyone if i not in majority]
    cfg.partition(majority, minority)
    seen["old"], seen["cut"] = old, cfg.now
    writer = cfg.make_client(majority)
    yield from writer.put("k", "new")
    reader = cfg.make_client([old])
    asked = spawn(cfg.loop, reader.get("k"), "reader")
    yield 5000
    server = cfg.servers[old]
    assert server is not None
    seen["still_leads"] = server.core.raft.role is Role.LEADER  # it never heard of the new term
    seen["answered_in_minority"] = asked.done
    seen["healed"] = cfg.now
    cfg.connect_all()
    cfg.connect_client(reader, everyone)
    seen["read"] = yield asked.finished


def run_deposed(seed: int) -> tuple[dict[str, object], KVTester, list[dict[str, object]]]:
    writer = TraceWriter(keep=True)
    cfg = KVTester(5, seed=seed, trace=writer, read_index=True)
    seen: dict[str, object] = {}
    cfg.run(deposed_leader(cfg, seen))
    cfg.settle()
    return seen, cfg, [json.loads(line) for line in writer.lines[1:]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_deposed_leader_in_a_minority_never_answers_a_read(seed: int) -> None:
    seen, cfg, events = run_deposed(seed)
    assert seen["still_leads"] is True  # deposed, but it does not know
    assert seen["answered_in_minority"] is False
    old, cut, healed = seen["old"], seen["cut"], seen["healed"]
    assert isinstance(cut, int) and isinstance(healed, int)
    reads_in_minority = [e for e in events if e["event"] == "read" and e["node"] == old
                         and cut <= e["time"] <= healed]  # type: ignore[operator]
    assert reads_in_minority == []
    assert seen["read"] == "new"  # after the heal, the read sees the majority's write
    assert audit(cfg.history, cfg.witness()).verdict is Verdict.OK


def confirm_at_once(self: RaftCore, request: int) -> tuple[bool, Effects]:
    # The bug: a leader answers reads at its commit index without a heartbeat round — it
    # trusts that it still leads.
    if self.role is not Role.LEADER:
        return False, self._finish()
    self._out.reads.append(ReadReady(request=request, index=self.commit_index))
    return True, self._finish()


def test_read_index_without_the_heartbeat_round_answers_stale_and_the_audit_sees_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raft_core.RaftCore, "read_index", confirm_at_once)
    seen, cfg, _ = run_deposed(1)
    assert seen["answered_in_minority"] is True
    stale = [c for c in cfg.history.calls if c.f == "get" and c.output == "old"]
    assert stale, "the deposed leader should have answered the old value"
    assert audit(cfg.history, cfg.witness()).verdict is Verdict.VIOLATION
