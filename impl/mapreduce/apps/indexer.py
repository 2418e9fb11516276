"""Inverted index (the lab's mrapps/indexer.go): for each word, the documents that contain it."""

from __future__ import annotations

from impl.mapreduce.apps.wc import words


def map(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(word, filename) for word in dict.fromkeys(words(contents))]


def reduce(key: str, values: list[str]) -> str:
    documents = sorted(values)
    return f"{len(documents)} {','.join(documents)}"
