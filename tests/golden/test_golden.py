"""Every golden file of tests/golden/testdata/ against the output its commands give now."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.expect import compare, read_steps, render
from tests.golden.raft_script import Cluster
from tests.golden.transcript import PROMPT, Shell

TESTDATA = Path(__file__).resolve().parent / "testdata"
CORE_SCRIPTS = sorted((TESTDATA / "raft-core").glob("*.txt"))
TRANSCRIPTS = sorted((TESTDATA / "cli").glob("*.txt"))


def test_there_are_golden_files() -> None:
    assert len(CORE_SCRIPTS) >= 3 and len(TRANSCRIPTS) >= 3


@pytest.mark.parametrize("path", CORE_SCRIPTS, ids=[p.stem for p in CORE_SCRIPTS])
def test_raft_core_script(path: Path, pytestconfig: pytest.Config) -> None:
    steps = read_steps(path.read_text(encoding="utf-8"), "> ")
    compare(path, render(steps, "> ", Cluster().run, blank_between=True), pytestconfig)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_command_line_transcript(path: Path, pytestconfig: pytest.Config) -> None:
    steps = read_steps(path.read_text(encoding="utf-8"), PROMPT)
    compare(path, render(steps, PROMPT, Shell().run, blank_between=False), pytestconfig)
