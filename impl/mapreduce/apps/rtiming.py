"""Reduce parallelism probe (the lab's mrapps/rtiming.go): do two workers run reduces at once?"""

from __future__ import annotations

import time

from impl.mapreduce.apps._markers import count_alive, mark, unmark

PREFIX = "mr-worker-reduce-"


def map(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(key, "1") for key in "abcdefghij"]


def reduce(key: str, values: list[str]) -> str:
    marker = mark(PREFIX)
    parallel = count_alive(PREFIX)
    time.sleep(1.0)
    unmark(marker)
    return str(parallel)
