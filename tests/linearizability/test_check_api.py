"""The library call our KV tests use: recording, check(), user models, workers, time limits."""

from __future__ import annotations

from pathlib import Path

from checker.linearizability import KV, REGISTER, Model, Operation, Recorder, check, render_text
from checker.linearizability.formats import load
from checker.verdict import Verdict


def test_recorded_kv_history_with_a_timed_out_append() -> None:
    rec = Recorder()
    rec.invoke(client=0, f="put", key="a", value="1", time=0)
    rec.invoke(client=1, f="append", key="a", value="2", time=1)
    rec.ok(client=0, time=2)
    rec.info(client=1, time=3)  # timed out: may or may not have happened
    rec.invoke(client=0, f="get", key="a", time=4)
    rec.ok(client=0, output="12", time=5)
    rec.invoke(client=2, f="get", key="b", time=6)
    rec.ok(client=2, output="", time=7)
    result = check(rec.operations(), KV, timeout=1.0)
    assert result.verdict is Verdict.OK, render_text(result)
    assert [p.key for p in result.partitions] == ["a", "b"]
    # The linearization of key "a" is put, (timed-out) append, get, with states after each.
    assert [(p.op.f, p.state_after) for p in result.partitions[0].linearization] == [
        ("put", "1"),
        ("append", "12"),
        ("get", "12"),
    ]


def test_a_failed_call_did_not_happen() -> None:
    rec = Recorder()
    rec.invoke(client=0, f="put", key="a", value="1", time=0)
    rec.fail(client=0, time=1)
    rec.invoke(client=0, f="get", key="a", time=2)
    rec.ok(client=0, output="1", time=3)
    assert check(rec.operations(), KV).verdict is Verdict.VIOLATION


def test_a_user_model_in_a_few_lines() -> None:
    counter = Model(
        name="counter",
        init=lambda: 0,
        step=lambda n, inp: (n + inp[2], None) if inp[0] == "add" else (n, n),
        read_only=lambda inp: inp[0] == "get",
    )
    ops = [
        Operation(client=0, input=("add", None, 2), output=None, call=0, ret=3),
        Operation(client=1, input=("add", None, 5), output=None, call=1, ret=2),
        Operation(client=2, input=("get", None, None), output=5, call=1.5, ret=4),
        Operation(client=2, input=("get", None, None), output=2, call=5, ret=6),
    ]
    result = check(ops, counter)
    assert result.verdict is Verdict.VIOLATION  # after both adds returned, 7, never 2
    ops[-1] = Operation(client=2, input=("get", None, None), output=7, call=5, ret=6)
    assert check(ops, counter).verdict is Verdict.OK


def test_time_limit_gives_unknown_never_ok() -> None:
    # Twenty concurrent writes, then two reads that each need a different write to be the
    # last (no order gives both, and no cheap proof sees it): refuting it means trying every
    # subset of the writes.
    ops = [Operation(client=c, input=("write", None, c), output=None, call=0, ret=1) for c in range(20)]
    ops.append(Operation(client=98, input=("read", None, None), output=0, call=2, ret=3))
    ops.append(Operation(client=99, input=("read", None, None), output=1, call=4, ret=5))
    result = check(ops, REGISTER, timeout=0.05)
    assert result.verdict is Verdict.UNKNOWN
    assert result.timed_out
    assert check(ops[:3] + ops[-2:], REGISTER, timeout=5).verdict is Verdict.VIOLATION


def test_unknown_register_write_may_take_effect_or_not() -> None:
    write = Operation(client=0, input=("write", None, 1), output=None, call=0, ret=None, output_known=False)
    read = Operation(client=1, input=("read", None, None), output=None, call=1, ret=2)
    read_1 = Operation(client=1, input=("read", None, None), output=1, call=3, ret=4)
    assert check([write, read, read_1], REGISTER).verdict is Verdict.OK
    read_nil_again = Operation(client=1, input=("read", None, None), output=None, call=5, ret=6)
    assert check([write, read, read_1, read_nil_again], REGISTER).verdict is Verdict.VIOLATION


def test_worker_processes_agree_with_one_core(shared_data: Path) -> None:
    for name, expected in (("c10-ok.txt", Verdict.OK), ("c10-bad.txt", Verdict.VIOLATION)):
        ops = load(str(shared_data / "histories" / "porcupine-kv" / name)).operations
        one = check(ops, KV)
        two = check(ops, KV, workers=2)
        assert one.verdict is two.verdict is expected
        for part in two.failing:  # each part reported failing fails when checked alone
            alone = [op for op in ops if op.input[1] == part.key]
            assert check(alone, KV).verdict is Verdict.VIOLATION
        assert two.seconds > 0


def test_first_violation_stops_the_rest_unless_all_parts(shared_data: Path) -> None:
    ops = load(str(shared_data / "histories" / "porcupine-kv" / "c10-bad.txt")).operations
    first = check(ops, KV)
    assert len(first.failing) == 1
    assert all(p.note.startswith("stopped") for p in first.partitions if p.verdict is Verdict.UNKNOWN)
    every = check(ops, KV, all_parts=True, timeout=60)
    assert len(every.failing) > 1  # c10-bad breaks on several keys
    assert all(p.verdict is not Verdict.UNKNOWN for p in every.partitions)


def test_a_wrong_violation_would_be_caught_by_the_naive_twin() -> None:
    import pytest

    from checker.linearizability.confirm import CheckerBug, confirm_violation
    from checker.linearizability.result import PartitionResult

    ops = [
        Operation(client=0, input=("write", None, 1), output=None, call=0, ret=1, index=0),
        Operation(client=1, input=("read", None, None), output=1, call=2, ret=3, index=1),
    ]
    bogus = PartitionResult(
        key=None, verdict=Verdict.VIOLATION, operations=tuple(ops), linearization=(), state=None
    )
    with pytest.raises(CheckerBug):
        confirm_violation(bogus, REGISTER)
