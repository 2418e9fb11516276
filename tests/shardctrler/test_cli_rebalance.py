"""`dscheck check-rebalance`: text, JSON and command-line sequences, the report, exit statuses,
and bad input as one line `path:line: ...` with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "check-rebalance", *args],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)


def test_text_file_reports_every_step(tmp_path: Path) -> None:
    ops = tmp_path / "ops.txt"
    ops.write_text("# the lab's basic test\njoin 1:a,b,c\njoin 2\n\nmove 0 2\nleave 1\n")
    result = run(str(ops))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"check-rebalance {ops}: 4 step(s), 10 shards")
    assert "#1 [1 1 1 1 1 1 1 1 1 1]" in lines[2] and lines[2].endswith("minimal")
    assert "#2 [1 1 1 1 1 2 2 2 2 2]" in lines[3]
    assert "as requested" in lines[4]
    assert lines[-1].startswith("OK:")


def test_json_file_and_json_output(tmp_path: Path) -> None:
    ops = tmp_path / "ops.json"
    ops.write_text(json.dumps([{"join": {"1": ["a"], "2": ["b"]}}, {"join": [3]},
                               {"leave": [1, 2]}], indent=1))
    result = run(str(ops), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "ok"
    steps = out["steps"]
    assert [s["op"] for s in steps] == ["Join 1 2", "Join 3", "Leave 1 2"]
    assert all(s["moved"] == s["minimum"] for s in steps)
    assert steps[2]["shards"] == [3] * 10 and steps[0]["groups"] == {"1": ["a"], "2": ["b"]}


def test_given_assignments_are_judged_and_a_wasteful_one_fails() -> None:
    result = run("--ops", "join 1 2; join 3 => 3 3 3 1 1 2 2 2 2 1", "--json")
    assert result.returncode == 1
    step = json.loads(result.stdout)["steps"][1]
    assert step["judged"] == "given" and step["verdict"] == "violation"
    assert step["moved"] == 4 and step["minimum"] == 3 and len(step["better"]) == 10


def test_an_unbalanced_given_assignment_fails_in_text() -> None:
    result = run("--ops", "join 1 2 => 1 1 1 1 1 1 2 2 2 2")
    assert result.returncode == 1
    assert "not balanced" in result.stdout and result.stdout.splitlines()[-1].startswith(
        "VIOLATION")


@pytest.mark.parametrize(("content", "suffix", "where", "words"), [
    ("join 1\nfrobnicate 2\n", ".txt", ":2:", "unknown operation"),
    ("join 1\nleave 2\n", ".txt", ":2:", "group 2 is not present"),
    ("join 1\nmove 0\n", ".txt", ":2:", "move takes a shard and a group"),
    ("join x\n", ".txt", ":1:", "expected a group id"),
    ("join 1 => 1 1\n", ".txt", ":1:", "one per shard"),
    ('[\n {"join": [1]},\n {"move": [0]}\n]', ".json", ":3:", '"move" takes'),
    ('[\n {"join": [1]},\n {"leave": [1]\n]', ".json", ":4:", "not valid JSON"),
    ('{"join": [1]}', ".json", ":1:", "expected a JSON list"),
])
def test_bad_input_is_one_line_with_its_place(tmp_path: Path, content: str, suffix: str,
                                              where: str, words: str) -> None:
    path = tmp_path / f"ops{suffix}"
    path.write_text(content)
    result = run(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    err = result.stderr.strip()
    assert "\n" not in err and f"{path}{where}" in err and words in err, err


def test_usage_errors_exit_2() -> None:
    assert run().returncode == 2
    assert run("--ops", "join 1", "x.txt").returncode == 2
    missing = run("no-such-file.txt")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    ops = run("--ops", "join 1; leave 1; leave 1")
    assert ops.returncode == 2 and "--ops:3:" in ops.stderr


def test_other_shard_counts_and_the_documented_help() -> None:
    result = run("--shards", "3", "--ops", "join 1 2; join 3; leave 1", "--json")
    assert result.returncode == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    assert [len(s["shards"]) for s in steps] == [3, 3, 3]
    assert all(s["moved"] == s["minimum"] for s in steps)
    help_text = run("--help").stdout
    assert "join 3:a,b,c" in help_text and '"expect"' in help_text
