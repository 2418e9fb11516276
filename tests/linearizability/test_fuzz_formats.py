"""Truncated and mutated files of every format (Hypothesis): `dscheck lin` reads each as a
history or refuses it with one line, `path:line: what is wrong`, and exit status 2; never a
traceback. The seeds are real-format files of this repository (our fixtures in Jepsen's,
Knossos's and Porcupine's formats, and the golden histories), cut and changed at random."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted(
    [*(ROOT / "tests" / "linearizability" / "fixtures").iterdir(),
     *(ROOT / "traces" / "golden" / "histories").iterdir()]
)
TEXTS = {p.name: p.read_text() for p in SEEDS if p.is_file()}
# Characters that matter to some format: brackets, quotes, separators, tags, digits.
NOISE = st.sampled_from([*'{}[]()"\\:#_;,\t\n 0-9a', "nil", ":ok", ":invoke", "#{", "\x00"])


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[name]
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate-line"]))
        if action == "insert":
            text = text[:at] + draw(NOISE) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)):]
        elif action == "replace":
            text = text[:at] + draw(NOISE) + text[at + 1:]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i])
                text = "".join(lines)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # truncated
    return name, text


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as stop:
            code = int(stop.code or 0)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damaged(), st.sampled_from([None, "register", "cas-register", "kv", "set", "fifo-queue"]))
def test_a_damaged_file_is_a_verdict_or_one_line_of_bad_input(
    tmp_path: Path, case: tuple[str, str], model: str | None
) -> None:
    name, text = case
    path = tmp_path / name
    path.write_text(text)
    argv = ["lin", "--timeout", "2", str(path)] + ([] if model is None else ["--model", model])
    code, out, err = _run(argv)  # an exception other than these fails the test
    assert code in (0, 1, 2, 3), (code, out, err)
    if code == 2:
        assert err.startswith(f"dscheck: {path}"), err
        assert err.count("\n") == 1, err
        assert "Traceback" not in err
    else:
        assert out.startswith(f"{path}: "), out


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_every_seed_cut_at_every_line_end_is_read_or_refused(tmp_path: Path, name: str) -> None:
    lines = TEXTS[name].splitlines(keepends=True)
    for n in range(len(lines) + 1):
        path = tmp_path / name
        path.write_text("".join(lines[:n]))
        code, _out, err = _run(["lin", "--timeout", "2", str(path)])
        assert code in (0, 1, 2, 3)
        if code == 2:
            assert err.count("\n") == 1 and err.startswith(f"dscheck: {path}"), err
