"""Reading, rendering and comparing golden files (see the package's docstring)."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from impl.files import write_atomically

ROOT = Path(__file__).resolve().parents[2]
UPDATE_OPTION = "--update-golden"

# Everything that changes from run to run without the behaviour changing, each replaced by a
# fixed placeholder: wall and CPU seconds, search speed, and the checkout's own path.
_VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d+\.\d+ s\b"), "N.N s"),
    (re.compile(r"\b\d[\d,]* distinct states/s\b"), "N distinct states/s"),
    (re.compile(re.escape(str(ROOT)) + r"/?"), ""),
)


def normalise(text: str) -> str:
    """The text as golden files keep it: volatile parts replaced, no trailing spaces (rich
    pads table cells), one newline at the end."""
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Step:
    """One command of a golden script, with the comment lines written above it."""

    comments: tuple[str, ...]
    command: str


def is_comment(line: str) -> bool:
    return line == "#" or line.startswith("# ")


def read_steps(text: str, prompt: str) -> list[Step]:
    """The commands of a golden file (its outputs are what the test recomputes)."""
    steps: list[Step] = []
    comments: list[str] = []
    for line in text.splitlines():
        if is_comment(line):
            comments.append(line)
        elif line.startswith(prompt):
            steps.append(Step(tuple(comments), line[len(prompt):]))
            comments = []
        elif not steps and line.strip():
            raise ValueError(f"golden file: output before the first command: {line!r}")
    return steps


def render(steps: Sequence[Step], prompt: str, run: Callable[[str], list[str]],
           *, blank_between: bool) -> str:
    """The whole golden file: every step's comments, command, and the output `run` gives."""
    out: list[str] = []
    for step in steps:
        if blank_between and out:
            out.append("")
        out += step.comments
        out.append(prompt + step.command)
        for line in run(step.command):
            if is_comment(line) or line.startswith(prompt):
                raise ValueError(f"output line would read as a comment or command: {line!r}")
            out.append(line)
    return normalise("\n".join(out))


def compare(path: Path, actual: str, config: pytest.Config) -> None:
    """Fail with a unified diff unless `actual` is what `path` holds; with --update-golden,
    store `actual` instead."""
    if config.getoption(UPDATE_OPTION):
        if not path.exists() or path.read_text(encoding="utf-8") != actual:
            write_atomically(path, actual)
        return
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} does not exist; create it with {UPDATE_OPTION}")
    expected = path.read_text(encoding="utf-8")
    if expected != actual:
        diff = difflib.unified_diff(expected.splitlines(keepends=True),
                                    actual.splitlines(keepends=True),
                                    fromfile=str(path.relative_to(ROOT)), tofile="actual")
        pytest.fail("output differs from the golden file (review, then accept with "
                    f"{UPDATE_OPTION}):\n" + "".join(diff), pytrace=False)


ELISION = "..."


def excerpt_mismatch(excerpt: str, golden: str) -> str | None:
    """None if `excerpt` is `golden` with some runs of lines left out, each run shown as a
    line `...` (indented or not); else the first excerpt line that does not fit."""
    want = normalise(excerpt).splitlines()
    have = golden.splitlines()

    @functools.cache
    def fits(i: int, j: int) -> bool:
        # Lines want[i:] against have[j:], where j may only jump at an elision.
        while i < len(want):
            if want[i].strip() == ELISION:
                return any(fits(i + 1, k) for k in range(j, len(have) + 1))
            if j >= len(have) or want[i] != have[j]:
                return False
            i, j = i + 1, j + 1
        return j == len(have)

    if fits(0, 0):
        return None
    for line in want:
        if line.strip() != ELISION and line not in have:
            return line
    return "(every line occurs, but not in this order, or the end is left out without '...')"
