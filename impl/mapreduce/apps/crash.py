"""Crash-prone application (the lab's mrapps/crash.go).

At the start of every map and reduce call: with probability 0.33 the whole worker process exits
(status 1, no cleanup, as a crash); with probability 0.33 it stalls for up to 10 s (longer than
the re-issue timeout, so the coordinator must hand the task to someone else); otherwise it works.
"""

from __future__ import annotations

import os
import random
import time

_random = random.Random()  # seeded from the OS: every worker process crashes differently


def maybe_crash() -> None:
    draw = _random.randrange(1000)
    if draw < 330:
        os._exit(1)
    if draw < 660:
        time.sleep(_random.randrange(10000) / 1000.0)


def map(filename: str, contents: str) -> list[tuple[str, str]]:
    maybe_crash()
    return [
        ("a", filename),
        ("b", str(len(filename.encode("utf-8", "surrogateescape")))),
        ("c", str(len(contents.encode("utf-8", "surrogateescape")))),  # bytes, as Go len()
        ("d", "xyzzy"),
    ]


def reduce(key: str, values: list[str]) -> str:
    maybe_crash()
    return " ".join(sorted(values))
