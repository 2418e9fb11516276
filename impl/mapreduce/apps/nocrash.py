"""The crash application without the crashes (the oracle of the crash test)."""

from __future__ import annotations


def map(filename: str, contents: str) -> list[tuple[str, str]]:
    return [
        ("a", filename),
        ("b", str(len(filename.encode("utf-8", "surrogateescape")))),
        ("c", str(len(contents.encode("utf-8", "surrogateescape")))),  # bytes, as Go len()
        ("d", "xyzzy"),
    ]


def reduce(key: str, values: list[str]) -> str:
    return " ".join(sorted(values))
