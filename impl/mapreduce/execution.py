"""Running one map or reduce task, and the sequential oracle: the data path, without RPC.

Intermediate file `mr-X-Y` holds, as one msgpack map, every key of map task X that falls in
partition Y with its values in emission order, run-length encoded: `[value, count, value, count,
...]`, where each (value, count) is a run of equal consecutive values. It is decoded without
evaluating anything, and decoding restores the exact list of values, so this is not a combiner:
reduce still receives every value, in order. (The lab suggests JSON; for word count, whose
values are all "1", JSON cost about 0.1 CPU-second to write and read per job, a sixth of
the whole sequential run, and six times the bytes.) A reduce task merges its column, calls reduce once per key in byte order
of the keys, and writes `key value` lines, as the lab's mrsequential does.

Every file is first written under a temporary name; see `naming` and `core` for who renames it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgpack

from impl.files import write_atomically
from impl.mapreduce.apps import App
from impl.mapreduce.naming import (
    intermediate_name,
    map_temp_name,
    partition,
    reduce_temp_name,
)
from spec.errors import BadInput


class AppFailure(Exception):
    """The application's map or reduce raised or returned something it must not."""


def check_inputs(files: Sequence[str]) -> list[str]:
    """Every input must be a readable file; returns their absolute paths."""
    if not files:
        raise BadInput("no input files given (expected one or more text files, one map task each)")
    resolved = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise BadInput("input file not found (expected a readable text file)", path=name)
        if not os.access(path, os.R_OK):
            raise BadInput("input file is not readable", path=name)
        resolved.append(str(path.resolve()))
    return resolved


def read_input(path: str | Path) -> str:
    # Go strings are bytes: keep undecodable bytes round-trippable rather than failing.
    return Path(path).read_bytes().decode("utf-8", "surrogateescape")


def call_map(app: App, filename: str, contents: str) -> Iterable[tuple[str, str]]:
    try:
        return app.map(filename, contents)
    except Exception as error:
        raise AppFailure(f"map({filename!r}) raised {type(error).__name__}: {error}") from error


def call_reduce(app: App, key: str, values: list[str]) -> str:
    try:
        result = app.reduce(key, values)
    except Exception as error:
        raise AppFailure(f"reduce({key!r}) raised {type(error).__name__}: {error}") from error
    if not isinstance(result, str):
        raise AppFailure(f"reduce({key!r}) returned {type(result).__name__}, expected str")
    return result


def group_pairs(pairs: Iterable[tuple[str, str]], origin: str) -> dict[str, list[str]]:
    """Every key's values, in emission order: one dictionary operation per pair."""
    groups: dict[str, list[str]] = {}
    try:
        for key, value in pairs:
            known = groups.get(key)
            if known is None:
                groups[key] = [value]
            else:
                known.append(value)
    except (TypeError, ValueError) as error:
        raise AppFailure(f"{origin} must return (key, value) pairs of strings: {error}") from error
    # Checked per distinct key, with the per-value scan done in C: the hot loop stays small.
    for key, values in groups.items():
        if type(key) is not str or set(map(type, values)) != {str}:
            bad = key if type(key) is not str else next(v for v in values if type(v) is not str)
            raise AppFailure(
                f"{origin} emitted {type(bad).__name__} {bad!r}; keys and values must be str"
            )
    return groups


def partition_pairs(
    pairs: Iterable[tuple[str, str]], n_reduce: int, origin: str = "map"
) -> list[dict[str, list[str]]]:
    buckets: list[dict[str, list[str]]] = [{} for _ in range(n_reduce)]
    for key, values in group_pairs(pairs, origin).items():
        buckets[partition(key, n_reduce)][key] = values
    return buckets


def encode_runs(values: list[str]) -> list[str | int]:
    """`values` as runs of equal consecutive values: [value, count, value, count, ...]."""
    first = values[0]
    if values.count(first) == len(values):  # one run (word count, indexer): a C-level scan
        return [first, len(values)]
    runs: list[str | int] = []
    current, count = first, 0
    for value in values:
        if value == current:
            count += 1
        else:
            runs += [current, count]
            current, count = value, 1
    runs += [current, count]
    return runs


def decode_runs(runs: Any, origin: str) -> list[str]:
    """The inverse of `encode_runs`; ValueError if `runs` is not a well-formed run list."""
    if type(runs) is not list or len(runs) % 2:
        raise ValueError(f"{origin}: expected a list of (value, count) runs")
    if len(runs) == 2:
        value, count = runs
        if type(value) is str and type(count) is int and count > 0:
            return [value] * count
    values: list[str] = []
    for index in range(0, len(runs), 2):
        value, count = runs[index], runs[index + 1]
        if type(value) is not str or type(count) is not int or count <= 0:
            raise ValueError(f"{origin}: expected a list of (value, count) runs")
        values += [value] * count
    return values


def encode_partition(bucket: dict[str, list[str]]) -> bytes:
    packed: bytes = msgpack.packb(
        {key: encode_runs(values) for key, values in bucket.items()},
        unicode_errors="surrogateescape",  # keys from undecodable input bytes round-trip
    )
    return packed


def decode_partition(payload: bytes, origin: str) -> dict[str, Any]:
    """The msgpack map of one intermediate file (keys to run lists); ValueError if malformed."""
    try:
        decoded = msgpack.unpackb(payload, unicode_errors="surrogateescape")
    except (ValueError, TypeError, msgpack.UnpackException) as error:
        raise ValueError(f"{origin}: not an intermediate file ({error})") from error
    if type(decoded) is not dict:
        raise ValueError(f"{origin}: not an intermediate file (expected a map of keys)")
    return decoded


def write_file(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as stream:
        stream.write(text)


def run_map(
    app: App, *, task: int, attempt: int, filename: str, path: str, n_reduce: int, directory: Path
) -> list[Path]:
    """Write the temporary intermediate files of one map attempt; return their paths."""
    pairs = call_map(app, filename, read_input(path))
    buckets = partition_pairs(pairs, n_reduce, origin=f"map({filename!r})")
    written = []
    for reduce_task, bucket in enumerate(buckets):
        temp = directory / map_temp_name(task, attempt, reduce_task)
        temp.write_bytes(encode_partition(bucket))
        written.append(temp)
    return written


def format_output(app: App, groups: dict[str, list[str]]) -> str:
    # Python orders str by code point, which is UTF-8 byte order: Go's sort of keys.
    return "".join(f"{key} {call_reduce(app, key, groups[key])}\n" for key in sorted(groups))


def run_reduce(app: App, *, task: int, attempt: int, n_map: int, directory: Path) -> Path:
    """Write the temporary output of one reduce attempt; return its path."""
    groups: dict[str, list[str]] = {}
    for map_task in range(n_map):
        name = intermediate_name(map_task, task)
        for key, runs in decode_partition((directory / name).read_bytes(), name).items():
            if type(key) is not str:
                raise ValueError(f"{name}: not an intermediate file (keys must be strings)")
            # Inline fast path for the common single run; decode_runs checks everything else.
            if (
                type(runs) is list
                and len(runs) == 2
                and type(runs[0]) is str
                and type(runs[1]) is int
                and runs[1] > 0
            ):
                values = [runs[0]] * runs[1]
            else:
                values = decode_runs(runs, name)
            known = groups.get(key)
            if known is None:
                groups[key] = values
            else:
                known += values
    temp = directory / reduce_temp_name(task, attempt)
    write_file(temp, format_output(app, groups))
    return temp


def sequential(app: App, files: list[str], output: Path) -> int:
    """The oracle (the lab's mrsequential): every map, then every key reduced, into one file.

    Written atomically (`impl.files`), so a failure leaves no partial output. Returns the
    number of keys.
    """
    groups: dict[str, list[str]] = {}
    for filename in files:
        emitted = group_pairs(call_map(app, filename, read_input(filename)), f"map({filename!r})")
        for key, values in emitted.items():
            known = groups.get(key)
            if known is None:
                groups[key] = values
            else:
                known.extend(values)
    # Bytes, so that keys and values that came from undecodable input bytes (surrogate
    # escapes) are written back as those bytes, as `write_file` does for the workers.
    write_atomically(output, format_output(app, groups).encode("utf-8", "surrogateescape"))
    return len(groups)
