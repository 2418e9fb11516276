"""Key/value traces: schema-valid (jsonschema), consistent with the run, byte-identical for a
seed; and the schema rejects what it should."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from checker.kv_audit import operations
from checker.linearizability import KV, check
from checker.trace_check.kv_history import kv_history
from checker.verdict import Verdict
from impl.kv.history import NS_PER_MS
from impl.kv.labtester import KVTester
from impl.kv.scenarios import BY_NAME
from impl.kv.scenarios.chaos import simulate
from impl.trace import TraceWriter

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "traces" / "trace.schema.json"


@cache
def validators() -> tuple[Any, Any]:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    header = jsonschema.Draft202012Validator({"$ref": "#/$defs/header", "$defs": schema["$defs"]})
    event = jsonschema.Draft202012Validator({"$ref": "#/$defs/kv_event",
                                             "$defs": schema["$defs"]})
    return header, event


def scenario_trace(name: str, seed: int) -> tuple[str, KVTester]:
    writer = TraceWriter(keep=True)
    run = BY_NAME[name].run(seed, writer)
    return writer.text(), run.tester


def chaos_trace(seed: int, unreliable: bool = True) -> tuple[str, KVTester]:
    writer = TraceWriter(keep=True)
    run = simulate(seed=seed, servers=3, clients=3, unreliable=unreliable, maxraftstate=600,
                   duration_ms=4000, trace=writer)
    assert run.failure is None
    return writer.text(), run.tester


def check_trace(text: str, every: int = 1) -> list[dict[str, Any]]:
    """Schema (on every `every`-th line, and the first of each kind), plus what the schema
    cannot say: numbering, time, message ids, and that replicas at the same applied index
    show the same store."""
    header_validator, event_validator = validators()
    lines = text.splitlines()
    header = json.loads(lines[0])
    header_validator.validate(header)
    assert header["system"] == "kv"
    events = []
    sent: set[int] = set()
    last_time = 0
    digest_at: dict[int, str] = {}
    kinds: set[tuple[str, str, bool]] = set()
    for number, line in enumerate(lines[1:], start=1):
        event = json.loads(line)
        kind = (event["event"], event.get("msg", {}).get("type", ""), isinstance(event["node"], int))
        if kind not in kinds or number % every == 0:
            kinds.add(kind)
            event_validator.validate(event)
        assert event["seq"] == number and event["time"] >= last_time
        last_time = event["time"]
        if event["event"] == "send":
            sent.add(event["id"])
        if event["event"] in ("receive", "drop"):
            assert event["id"] in sent
        state = event.get("state")
        if state is not None and isinstance(event["node"], int):
            kv = state["kv"]
            assert kv["applied"] == state["last_applied"]
            assert digest_at.setdefault(kv["applied"], kv["digest"]) == kv["digest"]
        events.append(event)
    return events


def test_a_scenario_trace_is_schema_valid_and_its_calls_are_the_history() -> None:
    text, cfg = scenario_trace("one_partition_3A", 1)
    events = check_trace(text)
    invokes = [e for e in events if e["event"] == "invoke"]
    returns = {e["call"]: e for e in events if e["event"] == "return"}
    assert len(invokes) == len(cfg.history.calls) == 9
    for event, call in zip(invokes, cfg.history.calls, strict=True):
        op = event["op"]
        assert (op["type"], op["key"], op.get("value"), op["clerk"], op["seq"]) == (
            call.f, call.key, call.value, call.clerk, call.seq)
        assert event["time"] == call.invoked // NS_PER_MS
        back = returns[event["call"]]
        assert back["time"] == (call.returned or 0) // NS_PER_MS
        assert back["output"] == (None if call.f != "get" else {"value": call.output})
    kinds = {e["event"] for e in events}
    assert {"send", "receive", "timer", "restart", "invoke", "return", "apply",
            "network"} <= kinds


def test_snapshots_installs_crashes_and_restarts_appear_in_traces() -> None:
    text, _cfg = chaos_trace(2)
    events = check_trace(text, every=10)
    kinds = {e["event"] for e in events}
    assert {"crash", "restart", "drop", "snapshot"} <= kinds
    assert any(e["event"] == "apply" and not e["executed"] for e in events)  # a duplicate
    text, _cfg = scenario_trace("snapshot_rpc_3B", 1)
    events = check_trace(text)
    assert any(e["event"] == "apply" and e["kind"] == "snapshot" for e in events)
    assert any(e.get("msg", {}).get("type") == "InstallSnapshot" for e in events)


@pytest.mark.parametrize("seed", [1, 2])
def test_same_seed_gives_a_byte_identical_trace(seed: int) -> None:
    first, _ = chaos_trace(seed)
    assert first == chaos_trace(seed)[0]
    assert first != chaos_trace(seed + 100)[0]


def test_the_schema_rejects_malformed_kv_events() -> None:
    _, event_validator = validators()
    raft_state = {"term": 1, "voted_for": None, "role": "leader", "log": [],
                  "snapshot_index": 0, "snapshot_term": 0, "commit_index": 0,
                  "last_applied": 0}
    good_kv = {"applied": 0, "keys": 0, "digest": "44136fa355b3678a", "dup": {}}
    timer = {"seq": 1, "time": 0, "node": 0, "event": "timer", "timer": "election"}
    event_validator.validate({**timer, "state": {**raft_state, "kv": good_kv}})
    bad_events = [
        {**timer, "state": raft_state},  # a server state without its service state
        {**timer, "state": {**raft_state, "kv": {**good_kv, "digest": "xyz"}}},
        {**timer, "node": "ck1003", "state": {"clerk": 1003}},  # a clerk state, incomplete
        {"seq": 2, "time": 0, "node": 1, "event": "apply", "kind": "command", "index": 1,
         "term": 1, "command": ["cas", "k", "v", 1003, 1], "executed": True, "output": None},
        {"seq": 3, "time": 0, "node": 1, "event": "apply", "kind": "command", "index": 1,
         "term": 1, "command": ["put", "k", "v", 1003, 1]},  # executed/output missing
        {"seq": 4, "time": 0, "node": "ck1003", "event": "invoke", "client": "ck1003",
         "call": 1, "op": {"type": "start", "command": 1}},
        {"seq": 5, "time": 0, "node": 0, "event": "send", "to": "ck1003", "id": 1,
         "rpc": "reply", "bytes": 9, "msg": {"type": "GetReply", "err": "Nope", "value": "",
                                             "seq": 1}},
    ]
    for bad in bad_events:
        with pytest.raises(jsonschema.ValidationError):
            event_validator.validate(bad)


@pytest.mark.parametrize("seed", [3, 4])
def test_the_trace_reads_back_as_the_same_history_in_flight_calls_settled_alike(
        seed: int) -> None:
    text, cfg = chaos_trace(seed)
    events = [json.loads(line) for line in text.splitlines()[1:]]
    from_trace = kv_history(events)
    from_run = operations(cfg.history)
    assert len(from_trace) == len(from_run)

    def shape(ops: list[Any]) -> list[tuple[Any, ...]]:
        return sorted((repr(op.input), repr(op.output), op.ret is None) for op in ops)

    assert shape(from_trace) == shape(from_run)
    assert sum(op.ret is None for op in from_trace) == len(cfg.history.pending)
    assert check(from_trace, KV).verdict is Verdict.OK
