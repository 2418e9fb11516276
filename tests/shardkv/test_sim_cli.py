"""`dscheck sim shardkv` and `dscheck sim shardctrler`: scenarios and random schedules, trace
and history files that `dscheck lin` reads, the audit's verdict and the lab checks in the
exit status, fault flags, and one-line errors with exit 2 for impossible settings; the traces
are schema-valid and byte-identical for a seed."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from checker.trace_check.shard_history import shardctrler_history, shardkv_history
from impl.shardctrler import chaos as ctrl_chaos
from impl.shardctrler.scenarios import BY_NAME as CTRL_BY_NAME
from impl.shardkv.labtester import ShardTestFailure
from impl.shardkv.scenarios import BY_NAME
from impl.shardkv.scenarios.chaos import simulate
from impl.trace import TraceWriter

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "traces" / "trace.schema.json"


def dscheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


@cache
def validator(name: str) -> Any:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]})


def validate(text: str, event_def: str, every: int = 1) -> list[dict[str, Any]]:
    """Schema on the header and every `every`-th event (and the first of each kind and
    message type); returns the events."""
    lines = text.splitlines()
    validator("header").validate(json.loads(lines[0]))
    events = [json.loads(line) for line in lines[1:]]
    seen: set[tuple[str, str]] = set()
    for n, event in enumerate(events):
        kind = (event["event"], str(event.get("msg", {}).get("type")) + str(
            event.get("command", [""])[0] if event.get("command") else ""))
        if n % every == 0 or kind not in seen:
            seen.add(kind)
            validator(event_def).validate(event)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    return events


def test_a_shardkv_trace_is_schema_valid_and_holds_what_rebuilds_the_shard_view() -> None:
    writer = TraceWriter(keep=True)
    run = BY_NAME["challenge2_partial_4B"].run(1, writer)
    events = validate(writer.text(), "shardkv_event")
    header = json.loads(writer.text().splitlines()[0])
    assert header["system"] == "shardkv" and header["config"]["groups"]["101"] == [
        "server-101-0", "server-101-1", "server-101-2"]
    kinds = {e["command"][0] for e in events if e["event"] == "apply" and "command" in e}
    assert {"config", "install", "delete", "put", "get", "query", "join", "leave"} <= kinds
    # Every group server's state shows its configuration and the shards it holds; by the
    # end, group 101 serves every shard 102 handed it (configuration 1 joined all three).
    last = {e["node"]: e["state"] for e in events if "state" in e
            and "shardkv" in e["state"]}
    served = {int(s) for s, shard in last["server-101-0"]["shardkv"]["shards"].items()
              if shard["status"] == "serving"}
    config = next(e["command"] for e in events if e["event"] == "apply"
                  and e.get("command", [None])[0] == "config" and e["command"][1] == 1)
    assert {s for s, gid in enumerate(config[2]) if gid in (101, 102)} <= served
    assert last["server-101-0"]["shardkv"]["num"] == 2
    # The history the trace holds is the run's.
    ops = shardkv_history(events)
    assert len(ops) == len(run.tester.history.calls)


def test_the_same_seed_gives_the_same_trace_byte_for_byte() -> None:
    texts = []
    for _ in range(2):
        writer = TraceWriter(keep=True)
        simulate(seed=5, unreliable=True, maxraftstate=500, duration_ms=2000, clients=3,
                 trace=writer)
        texts.append(writer.text())
    assert texts[0] == texts[1]
    validate(texts[0], "shardkv_event", every=25)


def test_a_shardctrler_trace_is_schema_valid_and_its_history_is_the_clerks() -> None:
    writer = TraceWriter(keep=True)
    run = CTRL_BY_NAME["concurrent_leave_join_4A"].run(1, writer)
    events = validate(writer.text(), "shardctrler_event")
    ops = shardctrler_history(events)
    assert len(ops) == len(run.tester.history)
    again = TraceWriter(keep=True)
    ctrl_chaos.simulate(seed=2, duration_ms=2000, trace=again)
    validate(again.text(), "shardctrler_event", every=10)


def test_the_schema_rejects_a_shard_in_a_status_the_format_does_not_have() -> None:
    state = {"term": 1, "voted_for": None, "role": "leader", "log": [], "snapshot_index": 0,
             "snapshot_term": 0, "commit_index": 0, "last_applied": 0,
             "shardkv": {"gid": 100, "num": 1, "applied": 0, "shards": {
                 "0": {"status": "serving", "keys": 0, "digest": "0" * 16, "dup": {}}}}}
    event = {"seq": 1, "time": 0, "node": "server-100-0", "event": "timer",
             "timer": "poll", "state": state}
    validator("shardkv_event").validate(event)
    state["shardkv"]["shards"]["0"]["status"] = "lost"
    with pytest.raises(jsonschema.ValidationError):
        validator("shardkv_event").validate(event)
    bad_apply = {"seq": 2, "time": 0, "node": "server-100-0", "event": "apply",
                 "kind": "command", "index": 1, "term": 1, "command": ["install", 1],
                 "executed": True}
    with pytest.raises(jsonschema.ValidationError):
        validator("shardkv_event").validate(bad_apply)


def test_random_schedule_writes_a_trace_and_a_history_that_dscheck_lin_reads(
        tmp_path: Path) -> None:
    trace, history = tmp_path / "run.jsonl", tmp_path / "history.jsonl"
    result = dscheck("sim", "shardkv", "--seed", "3", "--clients", "3", "--unreliable",
                     "--maxraftstate", "800", "--duration", "3", "--trace", str(trace),
                     "--history", str(history), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["verdict"] == "ok" and summary["failure"] is None
    assert summary["groups"] == [100, 101, 102] and summary["unreliable"]
    assert summary["linearizability"]["verdict"] == "ok" and summary["calls"] > 0
    lin = dscheck("lin", str(trace), str(history))
    assert lin.returncode == 0, lin.stdout + lin.stderr
    assert f"{trace}: OK  kv  {summary['calls']} operations" in lin.stdout


def test_a_scenario_by_its_go_name_and_the_list() -> None:
    listed = dscheck("sim", "shardkv", "--scenario", "list")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 13
    result = dscheck("sim", "shardkv", "--scenario", "TestChallenge2Unaffected", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["pass_lines"] == [
        line for line in summary["pass_lines"] if "unaffected shard access" in line]


def test_a_fault_flag_is_a_violation_with_the_lab_checks_message() -> None:
    result = dscheck("sim", "shardkv", "--scenario", "join_leave_4B", "--bug",
                     "serve-after-handoff")
    assert result.returncode == 1
    assert "VIOLATION: Get(" in result.stdout and "bugs: serve-after-handoff" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--scenario", "nope"), "no shardkv test named 'nope'"),
    (("--scenario", "join_leave_4B", "--unreliable"), "--unreliable/--reliable: for the random"),
    (("--maxraftstate", "0"), "must be -1 (never snapshot) or at least 1"),
    (("--bug", "no-such-bug"), "'no-such-bug' is not one of"),
])
def test_impossible_settings_are_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = dscheck("sim", "shardkv", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_dscheck_sim_shardctrler_audits_its_history_and_lin_reads_its_trace(
        tmp_path: Path) -> None:
    listed = dscheck("sim", "shardctrler", "--scenario", "list")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 11
    trace = tmp_path / "ctrl.jsonl"
    result = dscheck("sim", "shardctrler", "--seed", "2", "--duration", "3", "--trace",
                     str(trace), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["linearizability"]["verdict"] == "ok" and summary["calls"] > 0
    lin = dscheck("lin", str(trace))
    assert lin.returncode == 0 and "OK  shardctrler" in lin.stdout, lin.stdout + lin.stderr
    bad = dscheck("sim", "shardctrler", "--scenario", "move_4A", "--clients", "3")
    assert bad.returncode == 2 and "--clients: for the random schedule" in bad.stderr


def test_a_group_server_that_raises_is_a_violation_naming_the_fault(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli.main import main
    from impl.shardkv import server as shard_server

    def broken(self: shard_server.ShardServer, src: int | str, m: Any) -> None:
        raise ZeroDivisionError("the transfer went wrong")

    monkeypatch.setattr(shard_server.ShardServer, "_on_transfer", broken)
    trace = tmp_path / "run.jsonl"
    try:
        code = main(["sim", "shardkv", "--scenario", "join_leave_4B", "--trace", str(trace),
                     "--json"])
    except SystemExit as stop:
        code = stop.code
    captured = capsys.readouterr()
    assert code == 1, captured.err
    summary = json.loads(captured.out)
    fault = summary["fault"]
    assert fault["kind"] == "exception"
    assert fault["error"] == "ZeroDivisionError: the transfer went wrong"
    assert str(fault["node"]).startswith("server-101-")
    lines = trace.read_text().splitlines()
    assert json.loads(lines[-1])["seq"] == fault["event"] - 1  # the trace ends just before it


def two_servers(lines: list[str]) -> tuple[str | None, int]:
    """Walk a shardkv trace keeping each group's state as that of its most advanced replica
    (traces/README.md, "Rebuilding the sharded KV view"); the first step after which two
    groups serve one shard, if any, and how many groups ever served a shard."""
    group: dict[int, dict[str, Any]] = {}
    ever: set[int] = set()
    for line in lines:
        event = json.loads(line)
        shardkv = event.get("state", {}).get("shardkv")
        if shardkv is None:
            continue
        now = group.get(shardkv["gid"])
        if now is None or shardkv["applied"] >= now["applied"]:
            group[shardkv["gid"]] = shardkv
        for s in range(10):
            serving = [g for g, st in group.items()
                       if st["shards"].get(str(s), {}).get("status") == "serving"]
            if len(serving) > 1:
                return f"seq {event['seq']}: shard {s} served by {serving}", len(ever)
            ever.update(serving)
    return None, len(ever)


@pytest.mark.parametrize("name", ["concurrent1_4B", "unreliable2_4B", "challenge2_partial_4B"])
def test_at_most_one_group_serves_a_shard_at_every_step_of_the_trace(name: str) -> None:
    # The trace carries what the sharded KV view needs: after every step, no shard is
    # served by two groups (the spec's AtMostOneServer, read from the trace).
    writer = TraceWriter(keep=True)
    BY_NAME[name].run(1, writer)
    problem, groups = two_servers(writer.lines[1:])
    assert problem is None
    assert groups >= 2  # shards did move between groups


def test_serving_after_handoff_shows_in_the_trace_as_two_servers() -> None:
    writer = TraceWriter(keep=True)
    with pytest.raises(ShardTestFailure):
        BY_NAME["unreliable2_4B"].run(1, writer, bugs=frozenset({"serve-after-handoff"}))
    problem, _groups = two_servers(writer.lines[1:])
    assert problem is not None
