"""The service's state machine: get/put/append, exactly-once by (clerk, seq), snapshots."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from impl.kv.machine import CorruptSnapshot, Op, StateMachine


def test_append_to_an_absent_key_acts_as_put_and_get_of_absent_is_empty() -> None:
    m = StateMachine()
    got = m.apply(1, Op("get", "k", None, 7, 1))
    assert (got.output, got.found, got.executed) == ("", False, True)
    m.apply(2, Op("append", "k", "ab", 7, 2))
    m.apply(3, Op("append", "k", "cd", 7, 3))
    assert m.data == {"k": "abcd"}
    m.apply(4, Op("put", "k", "x", 8, 1))
    got = m.apply(5, Op("get", "k", None, 8, 2))
    assert (got.output, got.found) == ("x", True)


def test_a_duplicate_write_changes_nothing_and_a_duplicate_get_reads_at_its_index() -> None:
    m = StateMachine()
    assert m.apply(1, Op("append", "k", "a", 7, 1)).executed
    dup = m.apply(2, Op("append", "k", "a", 7, 1))  # the same call, retried through the log
    assert not dup.executed and m.data == {"k": "a"}
    assert m.apply(3, Op("get", "k", None, 7, 2)).output == "a"
    m.apply(4, Op("append", "k", "b", 8, 1))
    again = m.apply(5, Op("get", "k", None, 7, 2))  # clerk 7's get, retried
    assert (again.executed, again.output) == (False, "ab")
    # an old call arriving late (its clerk has moved on) changes nothing either
    assert not m.apply(6, Op("put", "k", "zzz", 7, 1)).executed
    assert m.data == {"k": "ab"} and m.executed(7, 2) and not m.executed(7, 3)


def test_entries_apply_in_index_order_only() -> None:
    m = StateMachine()
    m.apply(1, Op("put", "k", "v", 1, 1))
    with pytest.raises(ValueError, match="out of order"):
        m.apply(3, Op("put", "k", "v", 1, 2))


def test_the_snapshot_holds_store_table_and_index_and_equal_states_give_equal_bytes() -> None:
    a = StateMachine({"x": "1", "a": "2"}, {5: 3, 2: 9}, applied=12)
    b = StateMachine({"a": "2", "x": "1"}, {2: 9, 5: 3}, applied=12)
    assert a.encode() == b.encode()
    back = StateMachine.decode(a.encode())
    assert (back.data, back.last_seq, back.applied) == (a.data, a.last_seq, 12)
    assert back.executed(5, 3) and not back.executed(5, 4)


@pytest.mark.parametrize("blob", [b"", b"\x93\x01\x02\x03", msgpack.packb(["kv0", 1, {}, []]),
                                  msgpack.packb(["kv1", 1, {"k": 3}, []]),
                                  msgpack.packb(["kv1", 1, {}, [[1]]])])
def test_a_corrupt_snapshot_is_rejected(blob: bytes) -> None:
    with pytest.raises(CorruptSnapshot):
        StateMachine.decode(blob)


ops = st.lists(st.tuples(st.sampled_from(["get", "put", "append"]), st.sampled_from("ab"),
                         st.text("xy", max_size=2), st.integers(1, 3), st.integers(1, 4)),
               max_size=30)


@given(ops)
def test_replicas_fed_the_same_log_agree_even_through_a_snapshot(log: list[tuple[str, str, str,
                                                                               int, int]]) -> None:
    entries = [Op(k, key, None if k == "get" else v, c, s) for k, key, v, c, s in log]
    whole, first = StateMachine(), StateMachine()
    outputs = [whole.apply(i, op) for i, op in enumerate(entries, start=1)]
    half = len(entries) // 2
    for i, op in enumerate(entries[:half], start=1):
        first.apply(i, op)
    second = StateMachine.decode(first.encode())  # restarted from the snapshot
    rest = [second.apply(i, op) for i, op in enumerate(entries[half:], start=half + 1)]
    assert rest == outputs[half:]
    assert (second.data, second.last_seq, second.applied) == (whole.data, whole.last_seq,
                                                              whole.applied)
