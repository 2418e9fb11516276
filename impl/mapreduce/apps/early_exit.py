"""Early exit probe (the lab's mrapps/early_exit.go): reduces of two keys are slow.

If any worker or the coordinator exited before those slow reduces were final, the output seen at
that moment would differ from the output seen once every process has exited.
"""

from __future__ import annotations

import time


def map(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(filename, "1")]


def reduce(key: str, values: list[str]) -> str:
    if "sherlock" in key or "tom" in key:
        time.sleep(3.0)
    return str(len(values))
