"""Marker files the timing test applications use to see which workers run at the same time.

As in the lab's mtiming.go/rtiming.go: a call creates `<prefix><pid>`, counts the markers whose
process is still alive, and later removes its own. Files are in the current directory, which
workers share.
"""

from __future__ import annotations

import contextlib
import os


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def count_alive(prefix: str) -> int:
    count = 0
    for name in os.listdir("."):
        if name.startswith(prefix):
            suffix = name[len(prefix) :]
            if suffix.isdigit() and alive(int(suffix)):
                count += 1
    return count


def mark(prefix: str) -> str:
    name = f"{prefix}{os.getpid()}"
    with open(name, "w"):
        pass
    return name


def unmark(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(name)
