"""Trace validation of Raft traces: clean traces are behaviours of the spec; each kind of
departure (a state no action gives, a message no action sends, an unpersisted send, a restart
that recovers something else, an apply of an uncommitted entry) is found at its line, with the
actions tried, the field diff, the excerpt and the replay; bad input is one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from checker.validation.engine import validate_trace
from checker.validation.result import (
    APPLY_COMMITTED,
    PERSIST_BEFORE_SEND,
    REFINEMENT,
    RESTART_RECOVERS_PERSISTED,
    ValidationResult,
)
from checker.verdict import Verdict
from spec.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "traces" / "golden" / "raft-basic-agree-2B-seed1.jsonl"


def records() -> list[dict[str, Any]]:
    return [json.loads(t) for t in GOLDEN.read_text().splitlines()]


def write(tmp_path: Path, recs: list[dict[str, Any]], name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def first(recs: list[dict[str, Any]], **match: Any) -> int:
    """The index (0-based; line = index + 1) of the first record with these fields."""
    for k, rec in enumerate(recs):
        if all(_get(rec, key) == value for key, value in match.items()):
            return k
    raise AssertionError(f"no record with {match}")


def _get(rec: dict[str, Any], dotted: str) -> Any:
    value: Any = rec
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def validated(path: Path) -> ValidationResult:
    result = validate_trace(path)
    assert result is not None
    return result


def test_the_golden_trace_is_a_behaviour_of_the_spec() -> None:
    result = validated(GOLDEN)
    assert result.verdict is Verdict.OK and result.mismatch is None
    assert result.events == len(GOLDEN.read_text().splitlines()) - 1
    # Every kind of step of the run was matched to its spec action.
    for action in ("Timeout", "Receive", "RequestVote", "AppendEntries", "ClientRequest",
                   "Reply", "Apply"):
        assert result.actions[action] > 0, action
    assert result.searched == 0


def test_simulated_runs_with_faults_are_behaviours_of_the_spec(tmp_path: Path) -> None:
    seen: Counter[str] = Counter()
    for seed, reliability in ((3, "--unreliable"), (4, "--reliable")):
        trace = tmp_path / f"sim{seed}.jsonl"
        subprocess.run([sys.executable, "-m", "checker", "sim", "raft", "--servers", "5",
                        reliability, "--snapshots", "--duration", "8", "--seed", str(seed),
                        "--trace", str(trace)], cwd=ROOT, capture_output=True, check=True)
        result = validated(trace)
        assert result.mismatch is None, result.mismatch
        seen.update(result.actions)
    for action in ("Restart", "Drop", "Compact", "InstallSnapshot", "Timeout"):
        assert seen[action] > 0, action


def test_a_state_no_action_gives_is_a_refinement_mismatch(tmp_path: Path) -> None:
    recs = records()
    # s0 grants its vote on a RequestVote; claim it kept its old term instead.
    k = first(recs, event="receive", node=0, msg__type="RequestVote")
    recs[k]["state"]["commit_index"] = 0
    recs[k]["state"]["term"] = 5
    result = validated(write(tmp_path, recs))
    m = result.mismatch
    assert m is not None and result.verdict is Verdict.VIOLATION
    assert (m.rule, m.line, m.node, m.event) == (REFINEMENT, k + 1, 0, "receive")
    assert m.tried[0].action.startswith("Receive(RequestVote s2→s0 t1")
    assert ("term", 1, 5) in m.tried[0].diff
    # The excerpt: the line that set s0's state before, the send of the message, the event.
    send = first(recs, event="send", id=recs[k]["id"])
    assert send + 1 in m.excerpt_lines and m.excerpt_lines[-1] == k + 1
    assert m.excerpt[-1] == (tmp_path / "t.jsonl").read_text().splitlines()[k]


def test_a_message_no_action_sends_is_a_refinement_mismatch(tmp_path: Path) -> None:
    recs = records()
    # The leader's first AppendEntries with an entry: claim a commit index it does not have.
    k = first(recs, event="send", msg__type="AppendEntries", msg__entries=[[1, 1]])
    recs[k]["msg"]["leader_commit"] = 1
    m = validated(write(tmp_path, recs)).mismatch
    assert m is not None
    assert (m.rule, m.line, m.event) == (REFINEMENT, k + 1, "send")
    assert m.tried[0].action == f"AppendEntries(s{recs[k]['node']}→s{recs[k]['to']})"
    assert m.tried[0].diff == (("leader_commit", 0, 1),)


def test_a_reply_the_step_did_not_give_is_a_refinement_mismatch(tmp_path: Path) -> None:
    recs = records()
    k = first(recs, event="send", msg__type="RequestVoteReply")
    recs[k]["msg"]["granted"] = False
    m = validated(write(tmp_path, recs)).mismatch
    assert m is not None and (m.rule, m.line) == (REFINEMENT, k + 1)
    assert m.tried[0].diff == (("granted", True, False),)


def test_a_vote_sent_before_it_is_persisted_breaks_the_contract(tmp_path: Path) -> None:
    recs = records()
    k = first(recs, event="receive", node=0, msg__type="RequestVote")
    del recs[k]["persist"]  # the vote (and the term) change, and nothing is persisted
    m = validated(write(tmp_path, recs)).mismatch
    assert m is not None
    reply = first(recs, event="send", node=0, msg__type="RequestVoteReply")
    assert (m.rule, m.line) == (PERSIST_BEFORE_SEND, reply + 1)
    assert ("voted_for", None, 2) in m.tried[0].diff
    assert k + 1 in m.excerpt_lines  # the step that changed the state


def test_a_persisted_state_other_than_the_state_breaks_the_contract(tmp_path: Path) -> None:
    recs = records()
    k = first(recs, event="receive", node=0, msg__type="RequestVote")
    recs[k]["persist"]["voted_for"] = None  # persists everything but the vote
    m = validated(write(tmp_path, recs)).mismatch
    assert m is not None and m.rule == PERSIST_BEFORE_SEND


def test_a_restart_must_recover_what_was_persisted(tmp_path: Path) -> None:
    trace = tmp_path / "crash.jsonl"
    subprocess.run([sys.executable, "-m", "checker", "sim", "raft", "--scenario",
                    "persist1_2C", "--seed", "1", "--trace", str(trace)], cwd=ROOT,
                   capture_output=True, check=True)
    assert validated(trace).mismatch is None
    recs = [json.loads(t) for t in trace.read_text().splitlines()]
    crash = first(recs, event="crash")
    node = recs[crash]["node"]
    k = next(j for j in range(crash, len(recs))
             if recs[j]["event"] == "restart" and recs[j]["node"] == node)
    recs[k]["state"]["voted_for"] = None if recs[k]["state"]["voted_for"] is not None else 0
    m = validated(write(tmp_path, recs)).mismatch
    assert m is not None
    assert (m.rule, m.line, m.node) == (RESTART_RECOVERS_PERSISTED, k + 1, node)
    assert [f for f, _, _ in m.tried[0].diff] == ["voted_for"]
    assert crash + 1 in m.excerpt_lines


def test_applying_an_uncommitted_entry_is_a_mismatch(tmp_path: Path) -> None:
    recs = records()
    k = first(recs, event="apply", kind="command")
    state = max(j for j in range(k) if recs[j].get("node") == recs[k]["node"]
                 and "state" in recs[j])
    assert recs[k]["index"] == 1 and recs[state]["state"]["commit_index"] == 1
    recs[k]["index"] = 2  # entry 2: not committed (nor held)
    m = validated(write(tmp_path, recs)).mismatch
    assert m is not None and (m.rule, m.line) == (APPLY_COMMITTED, k + 1)
    assert "only committed entries, in order" in m.detail
    recs = records()
    recs.insert(k + 1, dict(recs[k]))  # entry 1 applied twice
    for j, rec in enumerate(recs[1:], start=1):
        rec["seq"] = j
    m = validated(write(tmp_path, recs)).mismatch
    assert m is not None and (m.rule, m.line) == (APPLY_COMMITTED, k + 2)


def test_a_message_received_twice_or_never_sent_is_a_mismatch(tmp_path: Path) -> None:
    recs = records()
    k = first(recs, event="receive", msg__type="AppendEntries")
    recs[k]["id"] = 999_999
    m = validated(write(tmp_path, recs)).mismatch
    assert m is not None and (m.rule, m.line) == (REFINEMENT, k + 1)
    assert "not in flight" in m.detail


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda r: r[first(r, event="send")]["msg"].__setitem__("type", "Get"),
         "cannot belong to a raft trace"),
        (lambda r: r[first(r, event="timer")].__setitem__("timer", "alarm"),
         "not a Raft timer"),
        (lambda r: r[first(r, event="invoke")]["op"].__setitem__("type", "put"),
         "not a Raft call"),
    ],
)
def test_events_that_cannot_belong_to_a_raft_trace_are_bad_input(
        tmp_path: Path, edit: Any, words: str) -> None:
    recs = records()
    edit(recs)
    path = write(tmp_path, recs)
    with pytest.raises(BadInput, match=words):
        validate_trace(path)
    proc = subprocess.run([sys.executable, "-m", "checker", "check-trace", str(path)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and words in proc.stderr
    assert proc.stderr.startswith(f"dscheck: {path}:")


def test_check_trace_validates_by_default_and_reports_in_text_and_json(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "checker", "check-trace", str(GOLDEN)],
                        cwd=ROOT, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "validation against spec.raft" in ok.stdout
    assert "the trace is a behaviour of the spec" in ok.stdout
    recs = records()
    recs[0]["config"]["scenario"] = "basic_agree_2B"
    k = first(recs, event="send", msg__type="RequestVoteReply")
    recs[k]["msg"]["granted"] = False
    path = write(tmp_path, recs)
    bad = subprocess.run([sys.executable, "-m", "checker", "check-trace", str(path)],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert f"MISMATCH Refinement at line {k + 1}" in bad.stdout
    assert "granted: spec True ≠ recorded False" in bad.stdout
    assert f"dscheck sim raft --scenario basic_agree_2B --seed 1 --trace {path}" in bad.stdout
    as_json = subprocess.run([sys.executable, "-m", "checker", "check-trace", "--json",
                              str(path)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert as_json.returncode == 1
    out = json.loads(as_json.stdout)
    assert out["verdict"] == "violation" and out["invariants_verdict"] == "ok"
    mismatch = out["validation"]["mismatch"]
    assert (mismatch["rule"], mismatch["line"]) == ("Refinement", k + 1)
    assert mismatch["tried"][0]["diff"] == [{"field": "granted", "expected": True,
                                             "recorded": False}]
    assert out["validation"]["replay"][0].startswith("dscheck sim raft --scenario")
    off = subprocess.run([sys.executable, "-m", "checker", "check-trace", "--no-validate",
                          "--json", str(path)], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert off.returncode == 0 and json.loads(off.stdout)["validation"] is None
