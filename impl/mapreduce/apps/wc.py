"""Word count (the lab's mrapps/wc.go): a word is a maximal run of letters, case-sensitive."""

from __future__ import annotations

import re

# Go's unicode.IsLetter is Unicode category L*, which is exactly str.isalpha. ASCII text (all
# the lab's inputs) takes the fast regular expression; anything else the exact definition.
_ASCII_WORD = re.compile(r"[A-Za-z]+")


def words(contents: str) -> list[str]:
    if contents.isascii():
        return _ASCII_WORD.findall(contents)
    found: list[str] = []
    start = -1
    for index, char in enumerate(contents):
        if char.isalpha():
            if start < 0:
                start = index
        elif start >= 0:
            found.append(contents[start:index])
            start = -1
    if start >= 0:
        found.append(contents[start:])
    return found


def map(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(word, "1") for word in words(contents)]


def reduce(key: str, values: list[str]) -> str:
    return str(len(values))
