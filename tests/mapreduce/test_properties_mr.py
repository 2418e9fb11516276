"""Fast paths against naive twins, and decoders against arbitrary bytes (Hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from impl.mapreduce.apps.wc import words
from impl.mapreduce.execution import (
    decode_partition,
    decode_runs,
    encode_partition,
    group_pairs,
    partition_pairs,
)
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


@given(
    st.dictionaries(
        st.text(alphabet=st.sampled_from("ab\udcff é")),
        st.lists(st.sampled_from(["1", "", "x", "\udcfe"]), min_size=1),
    )
)
def test_intermediate_encoding_restores_every_value_in_order_mr(
    bucket: dict[str, list[str]],
) -> None:
    """The run-length msgpack intermediate file is not a combiner: decoding it gives back every
    value of every key, in emission order (keys from undecodable input bytes included)."""
    decoded = decode_partition(encode_partition(bucket), "mr-0-0")
    assert {key: decode_runs(runs, "mr-0-0") for key, runs in decoded.items()} == bucket


@given(st.binary(max_size=64))
def test_malformed_intermediate_file_is_a_value_error_mr(payload: bytes) -> None:
    """Arbitrary bytes in place of an intermediate file: a map of keys, or ValueError (which the
    worker reports as one line of bad input), never another exception."""
    try:
        decoded = decode_partition(payload, "mr-0-0")
    except ValueError:
        return
    assert isinstance(decoded, dict)
