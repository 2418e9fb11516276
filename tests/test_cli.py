"""The `dscheck` command's shared behaviour: help, unknown verbs, exit statuses."""

from __future__ import annotations

import subprocess
import sys

from checker.verdict import EXIT_BAD_INPUT, Verdict


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", *args], capture_output=True, text=True, check=False
    )


def test_help_lists_verbs() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "Usage: dscheck" in result.stdout


def test_unknown_verb_is_one_line_and_exit_2() -> None:
    result = run("no-such-verb")
    assert result.returncode == EXIT_BAD_INPUT
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_worst_verdict_orders_violation_over_unknown_over_ok() -> None:
    assert Verdict.worst([Verdict.OK, Verdict.UNKNOWN]) is Verdict.UNKNOWN
    assert Verdict.worst([Verdict.UNKNOWN, Verdict.VIOLATION, Verdict.OK]) is Verdict.VIOLATION
    assert Verdict.worst([]) is Verdict.OK
    assert Verdict.UNKNOWN.exit_status == 3
