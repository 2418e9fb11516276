"""Job count (the lab's mrapps/jobcount.go): how many map executions happened in total?

Each map call leaves a marker file and sleeps 2-5 s; the single reduce counts the markers. In a
crash-free run the answer must be the number of map tasks: no task may run twice.
"""

from __future__ import annotations

import itertools
import os
import random
import time

PREFIX = "mr-worker-jobcount-"
_calls = itertools.count()


def map(filename: str, contents: str) -> list[tuple[str, str]]:
    with open(f"{PREFIX}{os.getpid()}-{next(_calls)}", "w"):
        pass
    time.sleep(random.uniform(2.0, 4.999))
    return [("a", "x")]


def reduce(key: str, values: list[str]) -> str:
    return str(sum(1 for name in os.listdir(".") if name.startswith(PREFIX)))
