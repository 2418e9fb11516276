"""Map parallelism probe (the lab's mrapps/mtiming.go): do two workers run maps at once?"""

from __future__ import annotations

import os
import time

from impl.mapreduce.apps._markers import count_alive, mark, unmark

PREFIX = "mr-worker-map-"


def map(filename: str, contents: str) -> list[tuple[str, str]]:
    marker = mark(PREFIX)
    parallel = count_alive(PREFIX)
    time.sleep(1.0)
    unmark(marker)
    pid = os.getpid()
    return [(f"times-{pid}", f"{time.time():.1f}"), (f"parallel-{pid}", str(parallel))]


def reduce(key: str, values: list[str]) -> str:
    return " ".join(sorted(values))
