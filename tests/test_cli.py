"""The `dscheck` command's shared behaviour: help, unknown verbs, exit statuses."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from checker.cli.main import VERBS
from checker.verdict import EXIT_BAD_INPUT, Verdict


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "checker", *args], capture_output=True, text=True, check=False
    )


# The verbs README.md and DESIGN.md section 6 promise; more may come, none may go missing.
DOCUMENTED_VERBS = {"demo", "sim", "lin", "model-check", "check-trace", "prove", "mr"}


def listed_commands(help_text: str) -> dict[str, str]:
    """The 'Commands:' section of click's help: verb -> its one-line summary (re-joined where
    click wrapped it)."""
    section = help_text.split("\nCommands:\n", 1)[1]
    listed: dict[str, str] = {}
    last = ""
    for line in section.splitlines():
        entry = re.match(r"^  (\S+)\s{2,}(.*)$", line)
        if entry:
            last = entry.group(1)
            listed[last] = entry.group(2)
        elif line.startswith("   ") and last:
            listed[last] += " " + line.strip()
        elif line.strip():
            break
    return listed


def test_help_lists_verbs() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "Usage: dscheck" in result.stdout
    listed = listed_commands(result.stdout)
    # Every verb of the one table is listed, with its summary, and nothing else is.
    assert listed == {verb: summary for verb, (_module, summary) in VERBS.items()}
    assert set(listed) >= DOCUMENTED_VERBS


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_listed_verb_loads_and_has_its_own_help(verb: str) -> None:
    result = run(verb, "--help")
    assert result.returncode == 0, result.stderr
    assert f"Usage: dscheck {verb}" in result.stdout


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
