"""`dscheck model-check impl-raft`, `dscheck sim raft --schedule/--schedule-out` and
`dscheck hunt raft`: exit statuses, the counterexample replayed, same trace on replay, and bad
input as one line with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.trace_check.reader import read_header
from checker.validation.raft import BINDING

ROOT = Path(__file__).resolve().parents[2]


def dscheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *args], capture_output=True,
                          text=True, cwd=ROOT, check=False, timeout=600)


def test_a_counterexample_is_a_schedule_the_simulator_replays_to_the_same_trace(
        tmp_path: Path) -> None:
    schedule, trace, again = tmp_path / "cx.schedule", tmp_path / "cx.jsonl", tmp_path / "re.jsonl"
    found = dscheck("model-check", "impl-raft", "--bug", "no-step-down", "--json",
                    "--schedule-out", str(schedule), "--trace", str(trace))
    assert found.returncode == 1, found.stderr
    out = json.loads(found.stdout)
    assert out["verdict"] == "violation" and out["counterexample"]["invariant"] == "ElectionSafety"
    assert "replayed all" in out["confirmed"]
    replay = dscheck("sim", "raft", "--schedule", str(schedule), "--trace", str(again))
    assert replay.returncode == 0, replay.stderr
    assert trace.read_bytes() == again.read_bytes()
    judged = dscheck("check-trace", str(again))
    assert judged.returncode == 1 and "ElectionSafety" in judged.stdout


def test_the_correct_core_is_clean_at_small_bounds() -> None:
    result = dscheck("model-check", "impl-raft", "--max-term", "1", "--max-messages", "2",
                     "--drops", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "ok" and out["sometimes"]["LeaderElected"]


def test_a_random_run_written_as_a_schedule_replays_to_the_same_trace(tmp_path: Path) -> None:
    schedule, first, second = tmp_path / "s", tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    run = dscheck("sim", "raft", "--seed", "4", "--servers", "3", "--duration", "4",
                  "--unreliable", "--schedule-out", str(schedule), "--trace", str(first))
    assert run.returncode == 0, run.stderr
    lines = schedule.read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "faults" and len(lines) > 1
    replay = dscheck("sim", "raft", "--schedule", str(schedule), "--trace", str(second))
    assert replay.returncode == 0, replay.stderr
    assert first.read_bytes() == second.read_bytes()


HEADER = ('{"format":"dscheck-schedule","version":1,"system":"raft","kind":"faults",'
          '"servers":3,"bugs":[],"seed":1,"duration_ms":2000,"unreliable":false,'
          '"drop_rate":null,"snapshots":true}')
STEPS = ('{"format":"dscheck-schedule","version":1,"system":"raft","kind":"steps",'
         '"servers":3,"bugs":[]}')


@pytest.mark.parametrize(("text", "line", "says"), [
    ("not json\n", 1, "not JSON"),
    ('{"format":"other"}\n', 1, "header"),
    (HEADER + '\n{"t":5,"op":"explode","node":1}\n', 2, "op 'explode'"),
    (HEADER + '\n{"t":5,"op":"crash","node":7}\n', 2, "node 7"),
    (HEADER + '\n{"t":9,"op":"heal"}\n{"t":5,"op":"heal"}\n', 3, "time order"),
    (HEADER + '\n{"t":5000,"op":"heal"}\n', 2, "past duration_ms"),
    (HEADER + '\n{"t":5,"op":"partition","groups":[[0,0],[1]]}\n', 2, "distinct"),
    (HEADER + '\n{"t":5,"op":"crash","node":"boss"}\n', 2, "node 'boss'"),
    (HEADER + '\n{"t":5,"op":"crash","node":"voter","on":"lunch"}\n', 2, "on 'lunch'"),
    (HEADER + '\n{"t":5,"op":"crash","node":"leader","pick":9}\n', 2, "pick 9"),
    (HEADER + '\n{"t":5,"op":"restart","node":"crashed","for":10}\n', 2, "for 10"),
    (HEADER + '\n{"t":5,"op":"cut","node":"leader"}\n', 2, "peer None"),
    (HEADER + '\n{"t":5,"op":"slow","node":0}\n', 2, "ms None"),
    (STEPS + '\n{"op":"deliver","from":0,"to":1,"msg":["RV",1,0,0,0]}\n', 2, "not in flight"),
    (STEPS + '\n{"op":"timer","node":0,"timer":"heartbeat"}\n', 2, "not armed"),
    (HEADER.replace('"bugs":[]', '"bugs":["nope"]') + "\n", 1, "unknown bug"),
])
def test_a_malformed_schedule_is_one_line_with_its_line_number(
        tmp_path: Path, text: str, line: int, says: str) -> None:
    path = tmp_path / "bad.schedule"
    path.write_text(text)
    result = dscheck("sim", "raft", "--schedule", str(path))
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message and f"{path}:{line}:" in message and says in message, message


@pytest.mark.parametrize("args", [
    ("model-check", "impl-raft", "--bug", "nope"),
    ("model-check", "impl-raft", "--servers", "0"),
    ("model-check", "impl-raft", "--max-term", "99"),
    ("model-check", "impl-raft", "--bug", "snapshot-off-by-one", "--no-snapshots"),
    ("hunt", "raft", "--bug", "nope"),
    ("sim", "raft", "--scenario", "initial_election_2A", "--schedule-out", "x"),
])
def test_impossible_bounds_and_unknown_flags_exit_2_with_one_line(args: tuple[str, ...]) -> None:
    result = dscheck(*args)
    assert result.returncode == 2
    assert result.stderr.strip() and "\n" not in result.stderr.strip()
    assert "Traceback" not in result.stderr


def test_a_schedule_fixes_its_own_settings(tmp_path: Path) -> None:
    path = tmp_path / "s"
    path.write_text(HEADER + "\n")
    result = dscheck("sim", "raft", "--schedule", str(path), "--seed", "3")
    assert result.returncode == 2 and "--seed" in result.stderr


def test_a_trace_of_chosen_faults_names_its_schedule_as_the_replay(tmp_path: Path) -> None:
    # A hunted schedule's faults are not the seed's draws: the seed alone would replay
    # another run, so check-trace's replay hint must name the schedule file instead.
    drawn, trace = tmp_path / "drawn", tmp_path / "t.jsonl"
    dscheck("sim", "raft", "--seed", "3", "--servers", "3", "--duration", "2",
            "--schedule-out", str(drawn))
    head, *items = drawn.read_text().splitlines()
    assert json.loads(head)["drawn"] is True
    chosen = tmp_path / "chosen"
    header = {k: v for k, v in json.loads(head).items() if k != "drawn"}
    chosen.write_text("\n".join([json.dumps(header), *items]) + "\n")
    assert dscheck("sim", "raft", "--schedule", str(chosen), "--trace", str(trace)).returncode == 0
    config = json.loads(trace.read_text().splitlines()[0])["config"]
    assert config["schedule"] == str(chosen)
    with trace.open() as stream:
        header = read_header(stream, str(trace))
    assert BINDING.replay(header, "T")[0] == f"dscheck sim raft --schedule {chosen} --trace T"
