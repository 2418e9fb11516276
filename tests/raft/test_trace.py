"""Traces: schema-valid, internally consistent, byte-identical for a seed, golden file kept.

Regenerate the golden trace after an intended change with
`DSCHECK_REGEN_GOLDEN=1 python -m pytest tests/raft/test_trace.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from impl.raft.labtester import RaftTester
from impl.raft.scenarios import BY_NAME
from impl.raft.scenarios.chaos import random_faults
from impl.trace import TraceWriter

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "traces" / "trace.schema.json"
GOLDEN = ROOT / "traces" / "golden" / "raft-basic-agree-2B-seed1.jsonl"


@cache
def validators() -> tuple[Any, Any]:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    resolver_base = {"$ref": "#/$defs/header", "$defs": schema["$defs"]}
    header = jsonschema.Draft202012Validator(resolver_base)
    event = jsonschema.Draft202012Validator({"$ref": "#/$defs/raft_event",
                                             "$defs": schema["$defs"]})
    return header, event


def scenario_trace(name: str, seed: int) -> str:
    writer = TraceWriter(keep=True)
    BY_NAME[name].run(seed, writer)
    return writer.text()


def random_trace(seed: int, unreliable: bool, duration_ms: int = 3000) -> str:
    writer = TraceWriter(keep=True)
    cfg = RaftTester(5, unreliable=unreliable, snapshot=True, seed=seed, trace=writer,
                     scenario="random")
    cfg.run(random_faults(cfg, duration_ms))
    return writer.text()


def check_trace(text: str, schema_all: bool = False) -> None:
    """Schema, plus what the schema cannot say: numbering, time, ids, log shape.

    jsonschema is slow (about 2 ms a line), so unless `schema_all`, the schema is applied to
    the first line of every kind of event and message, and to every 25th line."""
    header_validator, event_validator = validators()
    lines = text.splitlines()
    header_validator.validate(json.loads(lines[0]))
    sent: set[int] = set()
    last_time = 0
    kinds_seen: set[tuple[str, str, bool]] = set()
    for number, line in enumerate(lines[1:], start=1):
        event = json.loads(line)
        kind = (event["event"], event.get("msg", {}).get("type", ""), "state" in event)
        if schema_all or kind not in kinds_seen or number % 25 == 0:
            kinds_seen.add(kind)
            event_validator.validate(event)
        assert event["seq"] == number
        assert event["time"] >= last_time
        last_time = event["time"]
        if event["event"] == "send":
            sent.add(event["id"])
        if event["event"] in ("receive", "drop"):
            assert event["id"] in sent, f"line {number + 1}: {event['event']} of an unsent message"
        state = event.get("state")
        if state is not None:
            expected = list(range(state["snapshot_index"] + 1,
                                  state["snapshot_index"] + 1 + len(state["log"])))
            assert [i for i, _ in state["log"]] == expected
            assert state["snapshot_index"] <= state["last_applied"] <= state["commit_index"]


def test_golden_trace_is_reproduced_byte_for_byte() -> None:
    text = scenario_trace("basic_agree_2B", 1)
    if os.environ.get("DSCHECK_REGEN_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.read_text(encoding="utf-8") == text
    check_trace(text, schema_all=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_seed_and_scenario_give_a_byte_identical_trace(seed: int) -> None:
    first = random_trace(seed, unreliable=True)
    assert first == random_trace(seed, unreliable=True)
    assert first != random_trace(seed + 100, unreliable=True)


def test_scenario_traces_are_deterministic_too() -> None:
    assert scenario_trace("figure8_2C", 5) == scenario_trace("figure8_2C", 5)


@pytest.mark.parametrize("seed", [1, 2])
def test_fault_traces_are_schema_valid_and_consistent(seed: int) -> None:
    text = random_trace(seed, unreliable=seed % 2 == 0)
    check_trace(text)
    kinds = {json.loads(line)["event"] for line in text.splitlines()[1:]}
    assert {"send", "receive", "timer", "restart", "invoke", "return", "apply"} <= kinds


def test_crash_restart_and_snapshots_appear_in_traces() -> None:
    text = scenario_trace("snapshot_install_crash_2D", 1)
    check_trace(text)
    events = [json.loads(line) for line in text.splitlines()[1:]]
    kinds = {e["event"] for e in events}
    assert {"crash", "restart", "drop"} <= kinds
    assert any(e["event"] == "apply" and e["kind"] == "snapshot" for e in events)
    assert any(e.get("state", {}).get("snapshot_index", 0) > 0 for e in events)


def test_an_invalid_event_is_rejected_by_the_schema() -> None:
    _, event_validator = validators()
    bad = {"seq": 1, "time": 0, "node": 0, "event": "timer", "timer": "election",
           "state": {"term": 1, "voted_for": None, "role": "king", "log": [],
                     "snapshot_index": 0, "snapshot_term": 0, "commit_index": 0,
                     "last_applied": 0}}
    with pytest.raises(jsonschema.ValidationError):
        event_validator.validate(bad)
