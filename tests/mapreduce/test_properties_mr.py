"""Fast paths against naive twins, and decoders against arbitrary bytes (Hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from impl.mapreduce.apps.wc import words
from impl.mapreduce.execution import group_pairs, partition_pairs
from impl.mapreduce.naming import partition
from impl.mapreduce.protocol import WireError, decode_payload, request_from_map


def naive_words(contents: str) -> list[str]:
    """Split on every non-letter character (Go's unicode.IsLetter is Python's str.isalpha)."""
    return ["".join(run) for letter, run in itertools.groupby(contents, str.isalpha) if letter]


@given(st.text())
def test_wc_words_match_the_naive_split_mr(contents: str) -> None:
    assert words(contents) == naive_words(contents)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_wc_ascii_fast_path_matches_the_naive_split_mr(contents: str) -> None:
    assert words(contents) == naive_words(contents)


@given(st.lists(st.tuples(st.text(max_size=4), st.text(max_size=3))), st.integers(1, 12))
def test_partitioning_keeps_every_value_in_order_mr(
    pairs: list[tuple[str, str]], n_reduce: int
) -> None:
    buckets = partition_pairs(pairs, n_reduce)
    for index, bucket in enumerate(buckets):
        for key in bucket:
            assert partition(key, n_reduce) == index
    merged = {key: values for bucket in buckets for key, values in bucket.items()}
    assert merged == group_pairs(pairs, "map")
    for key, values in merged.items():
        assert values == [value for k, value in pairs if k == key]


@given(st.binary(max_size=64))
def test_decoding_arbitrary_bytes_never_crashes_mr(payload: bytes) -> None:
    try:
        value, _ = decode_payload(payload)
        request_from_map(value)
    except WireError:
        pass
