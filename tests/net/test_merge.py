"""Merging per-server traces (checker.trace_check.merge) on small hand-written files: the
clock orders events, causality overrides it, a crash separates incarnations, and a receive
whose send is in no file is bad input. The merge's result is checked against its definition
by a naive twin: each file's order kept, every receive after its send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checker.trace_check import check_trace
from checker.trace_check.merge import merge_traces, trace_files
from checker.verdict import Verdict
from spec.errors import BadInput

CONFIG = {"servers": 2}


def state(term: int, role: str = "follower", voted: int | None = None) -> dict[str, Any]:
    return {"term": term, "voted_for": voted, "role": role, "log": [], "snapshot_index": 0,
            "snapshot_term": 0, "commit_index": 0, "last_applied": 0}


def write(directory: Path, node: int, incarnation: int,
          events: list[dict[str, Any]]) -> Path:
    path = directory / f"trace-s{node}-{incarnation}.jsonl"
    lines = [{"format": "dscheck-trace", "version": 1, "system": "raft", "config": CONFIG,
              "seed": None, "node": node, "incarnation": incarnation}]
    for seq, event in enumerate(events, start=1):
        lines.append({"seq": seq, "node": node, **event})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def election(directory: Path, vote_time: int) -> list[Path]:
    """Server 0 asks server 1 for its vote at t=10; server 1's clock says it received the
    request at `vote_time`."""
    zero = write(directory, 0, 1, [
        {"time": 5, "event": "restart", "state": state(0)},
        {"time": 10, "event": "timer", "timer": "election",
         "state": state(1, "candidate", 0)},
        {"time": 10, "event": "send", "to": 1, "id": 1, "msg": {}},
        {"time": 20, "event": "receive", "from": 1, "id": (1 << 32) | 1,
         "state": state(1, "leader", 0)},
    ])
    one = write(directory, 1, 1, [
        {"time": 1, "event": "restart", "state": state(0)},
        {"time": vote_time, "event": "receive", "from": 0, "id": 1,
         "state": state(1, "follower", 0)},
        {"time": vote_time, "event": "send", "to": 0, "id": (1 << 32) | 1, "msg": {}},
    ])
    return [zero, one]


def naive_respects(merged: list[dict[str, Any]], files: list[Path]) -> None:
    """The definition: each file's events in its order, each receive after its send."""
    position = {}
    for place, event in enumerate(merged):
        if event["event"] in ("send", "receive"):
            position[(event["node"], event["event"], event.get("id"))] = place
    for path in files:
        own = [e for e in merged if e["node"] == read(path)[0]["node"]
               and e["event"] != "crash"]
        assert [e["event"] for e in own][:len(read(path))] == [e["event"] for e in read(path)]
    for event in merged:
        if event["event"] == "receive" and isinstance(event.get("from"), int):
            assert position[(event["from"], "send", event["id"])] < position[
                (event["node"], "receive", event["id"])]
    assert [e["seq"] for e in merged] == list(range(1, len(merged) + 1))
    times = [e["time"] for e in merged]
    assert times == sorted(times)


@pytest.mark.parametrize("vote_time", [15, 10, 8], ids=["clock-agrees", "same-ms", "clock-behind"])
def test_receives_follow_their_sends_whatever_the_clock(tmp_path: Path, vote_time: int) -> None:
    files = election(tmp_path, vote_time)
    merged = merge_traces(trace_files(tmp_path), tmp_path / "merged.jsonl")
    events = read(merged.path)
    naive_respects(events, files)
    assert (merged.held > 0) == (vote_time < 10)
    assert check_trace(merged.path).verdict is Verdict.OK


def test_a_crash_separates_incarnations(tmp_path: Path) -> None:
    election(tmp_path, 15)
    write(tmp_path, 1, 2, [{"time": 30, "event": "restart", "state": state(1, voted=0)}])
    merged = merge_traces(trace_files(tmp_path), tmp_path / "merged.jsonl")
    events = read(merged.path)
    crash = [i for i, e in enumerate(events) if e["event"] == "crash"]
    assert len(crash) == 1 and events[crash[0]]["node"] == 1
    assert events[crash[0] + 1]["event"] == "restart" and events[crash[0] + 1]["node"] == 1
    assert check_trace(merged.path).verdict is Verdict.OK


def test_two_leaders_of_one_term_are_caught_after_the_merge(tmp_path: Path) -> None:
    election(tmp_path, 15)
    write(tmp_path, 1, 2, [{"time": 30, "event": "restart", "state": state(1, voted=0)},
                           {"time": 31, "event": "timer", "timer": "election",
                            "state": state(1, "leader", 1)}])
    merged = merge_traces(trace_files(tmp_path), tmp_path / "merged.jsonl")
    result = check_trace(merged.path)
    assert result.verdict is Verdict.VIOLATION
    assert {v.invariant for v in result.violations} >= {"ElectionSafety"}


def test_a_receive_without_its_send_is_bad_input(tmp_path: Path) -> None:
    _zero, one = election(tmp_path, 15)
    with pytest.raises(BadInput, match="in no trace file"):
        merge_traces([one], tmp_path / "merged.jsonl")


def test_files_of_other_clusters_or_no_server_are_bad_input(tmp_path: Path) -> None:
    zero, _one = election(tmp_path, 15)
    other = tmp_path / "other"
    other.mkdir()
    stranger = write(other, 1, 1, [{"time": 1, "event": "restart", "state": state(0)}])
    text = stranger.read_text().replace('"servers": 2', '"servers": 3', 1)
    stranger.write_text(text)
    with pytest.raises(BadInput, match="not the same cluster"):
        merge_traces([zero, stranger], tmp_path / "m.jsonl")
    with pytest.raises(BadInput, match="no per-server trace files"):
        trace_files(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty"
    path.mkdir()
    return path


def test_named_servers_of_a_sharded_cluster_merge_by_name(tmp_path: Path) -> None:
    """A sharded cluster's files (servers named, system shardkv): a receive from a server the
    header lists waits for its send, one from a client connection's token does not, and a
    server's file missing is bad input, as with numbered servers."""
    config = {"controllers": ["ctrler0", "ctrler1"], "groups": {"100": ["server-100-0"]}}

    def named(name: str, events: list[dict[str, Any]]) -> Path:
        path = tmp_path / f"trace-{name}-1.jsonl"
        lines = [{"format": "dscheck-trace", "version": 1, "system": "shardkv",
                  "config": config, "seed": None, "node": name, "incarnation": 1}]
        lines += [{"seq": n, "node": name, **e} for n, e in enumerate(events, start=1)]
        path.write_text("".join(json.dumps(x) + "\n" for x in lines))
        return path

    sender = named("ctrler0", [{"time": 9, "event": "send", "to": "ctrler1", "id": 7,
                                "msg": {}}])
    receiver = named("ctrler1", [
        {"time": 3, "event": "receive", "from": "ctrler0", "id": 7},  # its clock runs early
        {"time": 4, "event": "receive", "from": "c3", "id": 1}])  # a client's: not held
    assert trace_files(tmp_path) == [sender, receiver]
    merged = merge_traces([sender, receiver], tmp_path / "m.jsonl")
    order = [(e["node"], e["event"], e.get("from")) for e in read(merged.path)]
    assert order.index(("ctrler0", "send", None)) < order.index(("ctrler1", "receive",
                                                                 "ctrler0"))
    with pytest.raises(BadInput, match="in no trace file"):
        merge_traces([receiver], tmp_path / "m2.jsonl")
