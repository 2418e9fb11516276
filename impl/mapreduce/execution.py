"""Running one map or reduce task, and the sequential oracle: the data path, without RPC.

Intermediate file `mr-X-Y` holds, as one JSON object, every key of map task X that falls in
partition Y with its values in emission order (JSON, as the lab suggests: readable, and decoded
without evaluating anything). Grouping by key on the map side is not a combiner: reduce still
receives every value. A reduce task merges its column, calls reduce once per key in byte order
of the keys, and writes `key value` lines, as the lab's mrsequential does.

Every file is first written under a temporary name; see `naming` and `core` for who renames it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from impl.mapreduce.apps import App
from impl.mapreduce.naming import (
    intermediate_name,
    map_temp_name,
    partition,
    reduce_temp_name,
)


class AppFailure(Exception):
    """The application's map or reduce raised or returned something it must not."""


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
        write_file(temp, json.dumps(bucket))
        written.append(temp)
    return written


def format_output(app: App, groups: dict[str, list[str]]) -> str:
    # Python orders str by code point, which is UTF-8 byte order: Go's sort of keys.
    return "".join(f"{key} {call_reduce(app, key, groups[key])}\n" for key in sorted(groups))


def run_reduce(app: App, *, task: int, attempt: int, n_map: int, directory: Path) -> Path:
    """Write the temporary output of one reduce attempt; return its path."""
    groups: dict[str, list[str]] = {}
    for map_task in range(n_map):
        text = (directory / intermediate_name(map_task, task)).read_text(encoding="utf-8")
        for key, values in json.loads(text).items():
            known = groups.get(key)
            if known is None:
                groups[key] = values
            else:
                known.extend(values)
    temp = directory / reduce_temp_name(task, attempt)
    write_file(temp, format_output(app, groups))
    return temp


def sequential(app: App, files: list[str], output: Path) -> int:
    """The oracle (the lab's mrsequential): every map, then every key reduced, into one file.

    Written to a temporary name and renamed, so a failure leaves no partial output. Returns the
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
    temp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    try:
        write_file(temp, format_output(app, groups))
        os.replace(temp, output)
    finally:
        if temp.exists():
            temp.unlink()
    return len(groups)
