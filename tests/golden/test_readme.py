"""README.md's pasted outputs are the golden files' text: each block that follows a
`<!-- golden: PATH -->` line is that file with some runs of lines left out (each shown as a
line `...`) and the comments dropped, after the same normalisation (README keeps the seconds
it measured). A README block can therefore not drift from what the commands print."""

from __future__ import annotations

import re

import pytest

from tests.golden.expect import ROOT, excerpt_mismatch, is_comment

README = ROOT / "README.md"
MARKED = re.compile(r"^<!-- golden: (\S+) -->\n```[a-z]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def marked_blocks() -> list[tuple[str, str]]:
    return MARKED.findall(README.read_text(encoding="utf-8"))


def test_readme_shows_the_golden_outputs() -> None:
    shown = {path for path, _block in marked_blocks()}
    assert shown >= {
        "tests/golden/testdata/raft-core/election-and-replication.txt",
        "tests/golden/testdata/cli/model-check-unpersisted-vote.txt",
        "tests/golden/testdata/cli/prove-no-step-down.txt",
        "tests/golden/testdata/cli/lin.txt",
    }


@pytest.mark.parametrize(("path", "block"), marked_blocks(), ids=[p for p, _ in marked_blocks()])
def test_readme_block_is_an_excerpt_of_its_golden_file(path: str, block: str) -> None:
    golden = "".join(line for line in (ROOT / path).read_text(encoding="utf-8")
                     .splitlines(keepends=True) if not is_comment(line.rstrip("\n")))
    wrong = excerpt_mismatch(block, golden)
    assert wrong is None, f"README.md's block for {path} does not match it at: {wrong}"
