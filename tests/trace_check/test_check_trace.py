"""Trace checking: clean traces pass, injected violations are found where they are, with the
right servers and excerpt; malformed traces are one line and exit 2; the incremental checker
agrees with a naive one that re-judges every whole state from scratch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from checker.invariants import CONCRETE, TRACEABLE, ConcreteView
from checker.trace_check import check_trace
from checker.trace_check.reader import (
    STATE_EVENTS,
    crashed_rec,
    format_rules,
    initial_rec,
    read_events,
    read_header,
    server_rec,
)
from checker.verdict import Verdict
from spec.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "traces" / "golden" / "raft-basic-agree-2B-seed1.jsonl"


def lines() -> list[dict[str, Any]]:
    return [json.loads(t) for t in GOLDEN.read_text().splitlines()]


def write(tmp_path: Path, records: list[dict[str, Any]], name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_the_golden_trace_holds_every_invariant() -> None:
    result = check_trace(GOLDEN)
    assert result.verdict is Verdict.OK
    assert result.violations == []
    assert result.events == len(GOLDEN.read_text().splitlines()) - 1
    assert result.evaluated > 0


def test_two_leaders_in_one_term_is_reported_at_its_line(tmp_path: Path) -> None:
    records = lines()
    # Line 71 (seq 70): s1 returns from a start as a follower of term 1, whose leader is s2.
    # Make it claim leadership of term 1 too.
    assert records[70]["node"] == 1 and records[70]["state"]["term"] == 1
    records[70]["state"]["role"] = "leader"
    result = check_trace(write(tmp_path, records))
    assert result.verdict is Verdict.VIOLATION
    first = result.violations[0]
    assert (first.invariant, first.line, first.seq) == ("ElectionSafety", 71, 70)
    assert sorted(first.servers) == [1, 2]
    # The excerpt is the line that made s2 leader of term 1 as it stands, and the edited one.
    assert first.excerpt_lines[-1] == 71 and len(first.excerpt_lines) == 2
    s2_line = first.excerpt_lines[0]
    s2 = json.loads(first.excerpt[first.excerpt_lines.index(s2_line)])
    assert s2["node"] == 2 and s2["state"]["role"] == "leader" and s2["state"]["term"] == 1


def test_diverging_applied_commands_break_state_machine_safety(tmp_path: Path) -> None:
    records = lines()
    applies = [n for n, r in enumerate(records) if r.get("event") == "apply"]
    second = next(n for n in applies[1:] if records[n]["index"] == records[applies[0]]["index"])
    records[second]["command"] = 999
    result = check_trace(write(tmp_path, records))
    v = result.violations[0]
    assert v.invariant == "StateMachineSafety" and v.line == second + 1
    assert set(v.servers) == {records[applies[0]]["node"], records[second]["node"]}
    assert v.excerpt_lines == (applies[0] + 1, second + 1)


def test_a_leader_that_rewrites_its_log_breaks_leader_append_only(tmp_path: Path) -> None:
    records = lines()
    # The leader (s2) holds [1,1] from line 72 on; from a later state of s2 on, drop it.
    later = next(n for n, r in enumerate(records) if n > 72 and r.get("node") == 2
                 and "state" in r and r["state"]["log"])
    records[later]["state"]["log"] = []
    records[later]["state"]["commit_index"] = 0
    result = check_trace(write(tmp_path, records))
    names = {v.invariant for v in result.violations}
    assert "LeaderAppendOnly" in names
    v = next(v for v in result.violations if v.invariant == "LeaderAppendOnly")
    assert v.line == later + 1 and v.servers == (2,)


def test_a_commit_index_beyond_the_log_is_reported(tmp_path: Path) -> None:
    records = lines()
    n = next(n for n, r in enumerate(records) if r.get("node") == 0 and "state" in r and n > 10)
    records[n]["state"]["commit_index"] = 5
    result = check_trace(write(tmp_path, records))
    v = result.violations[0]
    assert (v.invariant, v.line, v.servers) == ("CommitIndexInLog", n + 1, (0,))


@pytest.mark.parametrize(
    ("edit", "line", "words"),
    [
        (lambda rs: rs.__setitem__(4, "{not json"), 5, "not JSON"),
        (lambda rs: rs[6].__setitem__("seq", 99), 7, "seq is 99"),
        (lambda rs: rs[11]["state"].__setitem__("role", "king"), 12, "role"),
        (lambda rs: rs[0].__setitem__("format", "other"), 1, "dscheck-trace"),
        (lambda rs: rs[8].__setitem__("node", 7), 9, "node 7"),
        # Types and ranges the schema rules out: the file is not a trace.
        (lambda rs: rs[11]["state"].__setitem__("log", [[0, 1]]), 12, "indexes ≥ 1"),
        (lambda rs: rs[11]["state"].__setitem__("log", [[1, "one"]]), 12, "terms ≥ 0"),
        (lambda rs: rs[11]["state"].__setitem__("term", -1), 12, "integers ≥ 0"),
        (lambda rs: rs[11]["state"].__setitem__("last_applied", "x"), 12, "last_applied"),
        (lambda rs: rs[11]["state"].__setitem__("voted_for", "s1"), 12, "voted_for"),
        (lambda rs: rs[0].__setitem__("system", "shardkv"), 1, "shardkv"),
        (lambda rs: rs[9].__setitem__("time", -1), 10, "never decreasing"),
    ],
)
def test_malformed_traces_name_the_line(tmp_path: Path, edit: Any, line: int, words: str) -> None:
    records: list[Any] = lines()
    edit(records)
    path = tmp_path / "bad.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    with pytest.raises(BadInput) as caught:
        check_trace(path)
    assert caught.value.line == line and words in caught.value.message
    proc = subprocess.run([sys.executable, "-m", "checker", "check-trace", str(path)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and f"{path}:{line}:" in proc.stderr


@pytest.mark.parametrize(
    ("edit", "line", "invariant", "words"),
    [
        # A bug that corrupts log indexes: our own simulator writes such a trace.
        (lambda st: st.__setitem__("log", [[2, 1]]), 12, "WellFormedState", "consecutive"),
        (lambda st: st.update(commit_index=0, last_applied=1), 12, "WellFormedState",
         "last_applied 1 is above commit_index 0"),
        (lambda st: st.update(term=1, snapshot_index=3, snapshot_term=1, log=[[4, 1]], commit_index=1,
                              last_applied=1), 12, "CommitIndexInLog", ""),
        (lambda st: st.__setitem__("voted_for", 7), 12, "TypeOK", ""),
    ],
)
def test_states_that_break_the_format_rules_are_violations(
        tmp_path: Path, edit: Any, line: int, invariant: str, words: str) -> None:
    """A well-formed trace whose states break the rules relating their values is judged: a
    violation (exit 1) at its line and server, never 'bad input'."""
    records = lines()
    assert records[11]["node"] == 1 and "state" in records[11]
    edit(records[11]["state"])
    path = write(tmp_path, records)
    result = check_trace(path)
    assert result.verdict is Verdict.VIOLATION
    first = result.violations[0]
    assert (first.invariant, first.line, first.servers) == (invariant, line, (1,))
    assert words in first.detail
    proc = subprocess.run([sys.executable, "-m", "checker", "check-trace", str(path)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert f"VIOLATION {invariant} at line {line}" in proc.stdout and proc.stderr == ""


def naive_first_violation(path: Path) -> tuple[int, str] | None:
    """Rebuild the whole global state after every event and evaluate every invariant (and the
    format's rules) on all of it from scratch (the checker's naive twin)."""
    with path.open() as f:
        header = read_header(f, str(path))
        assert header.servers is not None
        recs = [initial_rec(header.servers)] * header.servers
        for ev in read_events(f, str(path), header):
            if not isinstance(ev.node, int):
                continue
            if ev.event in STATE_EVENTS and "state" in ev.record:
                recs[ev.node] = server_rec(ev.record["state"], str(path), ev.line, header.servers)
                if format_rules(ev.record["state"]):
                    return ev.line, "WellFormedState"
            elif ev.event == "crash":
                recs[ev.node] = crashed_rec(recs[ev.node])
            else:
                continue
            view = ConcreteView(recs)
            for inv in TRACEABLE:
                if not inv.holds(view, CONCRETE):
                    return ev.line, inv.name
    return None


def test_incremental_checking_agrees_with_the_naive_twin(tmp_path: Path) -> None:
    trace = tmp_path / "sim.jsonl"
    subprocess.run([sys.executable, "-m", "checker", "sim", "raft", "--servers", "3",
                    "--unreliable", "--snapshots", "--duration", "4", "--seed", "7",
                    "--trace", str(trace)], cwd=ROOT, capture_output=True, check=False)
    assert check_trace(trace).verdict is Verdict.OK
    assert naive_first_violation(trace) is None
    records = [json.loads(t) for t in trace.read_text().splitlines()]
    state_lines = [n for n, r in enumerate(records) if "state" in r and r["event"] in STATE_EVENTS]
    # Inject a different fault at several places; both checkers must stop at the same line.
    found = 0
    for k, n in enumerate(state_lines[10::max(1, len(state_lines) // 12)]):
        edited = json.loads(json.dumps(records))
        st = edited[n]["state"]
        if k % 3 == 0:
            st["role"], st["term"] = "leader", max(1, st["term"])
        elif k % 3 == 1:
            st["commit_index"] = st["snapshot_index"] + len(st["log"]) + 1
        else:
            st["log"] = [[st["snapshot_index"] + 1, st["term"] + 1]] + [
                [i + 1, t] for i, t in st["log"][1:]] if st["log"] else st["log"]
        path = write(tmp_path, edited, f"e{k}.jsonl")
        try:
            result = check_trace(path)
        except BadInput:
            continue
        naive = naive_first_violation(path)
        state_violations = [v for v in result.violations if v.invariant in
                            {inv.name for inv in TRACEABLE} | {"WellFormedState"}]
        if naive is None:
            assert state_violations == []
        else:
            found += 1
            assert min(v.line for v in state_violations) == naive[0]
    assert found >= 3  # the comparison is not vacuous


@pytest.mark.campaign
@pytest.mark.parametrize("seed", range(1, 11))
def test_simulated_traces_hold_and_agree_with_the_naive_twin_campaign(tmp_path: Path,
                                                                       seed: int) -> None:
    trace = tmp_path / "sim.jsonl"
    subprocess.run([sys.executable, "-m", "checker", "sim", "raft", "--servers", "5",
                    "--unreliable", "--snapshots", "--duration", "20", "--seed", str(seed),
                    "--trace", str(trace)], cwd=ROOT, capture_output=True, check=False)
    assert check_trace(trace).verdict is Verdict.OK
    assert naive_first_violation(trace) is None
