"""Every file of the shared corpus gets its known verdict, with evidence that holds up."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from checker.linearizability import Operation, PartitionResult, check, model_named
from checker.linearizability.confirm import replay_prefix
from checker.linearizability.formats import load
from checker.verdict import Verdict

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "histories"


def _rows() -> list[tuple[str, str, bool]]:
    table = CORPUS / "expected.tsv"
    if not table.is_file():
        return []
    with table.open() as handle:
        return [
            (row["file"], row["model"], row["linearizable"] == "true")
            for row in csv.DictReader(handle, delimiter="\t")
        ]


ROWS = _rows()


def _constraining(part: PartitionResult) -> list[Operation]:
    """The part's operations less reads whose outputs are unknown (they constrain nothing)."""
    ignored = {op.index for op in part.ignored}
    return [op for op in part.operations if op.index not in ignored]


def test_the_corpus_lists_108_files(shared_data: Path) -> None:
    assert len(_rows()) == 108


@pytest.mark.parametrize(("name", "model", "linearizable"), ROWS, ids=[r[0] for r in ROWS])
def test_known_verdict(shared_data: Path, name: str, model: str, linearizable: bool) -> None:
    loaded = load(str(shared_data / "histories" / name))
    assert loaded.model == model  # the format implies the corpus's model
    result = check(loaded.operations, model_named(model), timeout=120)
    expected = Verdict.OK if linearizable else Verdict.VIOLATION
    assert result.verdict is expected, result.partitions
    m = model_named(model)
    for part in result.partitions:
        if part.verdict is Verdict.OK:
            # The linearization is complete and legal.
            ops = [p.op for p in part.linearization]
            assert len(ops) == len(part.operations) - len(part.ignored)
            replay_prefix(ops, _constraining(part), m)
    for part in result.failing:
        # The longest prefix is legal and every refusal is what the model says.
        state = replay_prefix([p.op for p in part.linearization], _constraining(part), m)
        assert state == part.state
        assert part.refusals
        for refusal in part.refusals:
            _new, out = m.step(state, refusal.op.input)
            if refusal.output_mismatch:
                assert out == refusal.model_output != refusal.op.output
