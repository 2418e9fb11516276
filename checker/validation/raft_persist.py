"""The persistence contract's data (traces/README.md, "Persistence"): a server's persistent
state in the form of a trace's `persist` record, the log as runs `[first index, term, count]`
of consecutive indexes of one term. `checker.validation.raft` compares what a server last
persisted with its state before each send and with what a restart recovers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spec.errors import BadInput

FIRST_BOOT: Mapping[str, Any] = {"term": 0, "voted_for": None, "log_runs": [],
                                  "snapshot_index": 0, "snapshot_term": 0}
PersistentPart = tuple[Any, Any, Any, Any, list[list[int]]]


def persistent_part(raw: Mapping[str, Any]) -> PersistentPart:
    """A recorded state's persistent variables, its log as runs (the `persist` form)."""
    return (raw["term"], raw["voted_for"], raw["snapshot_index"], raw["snapshot_term"],
            runs_of(raw["log"]))


def durable_part(rec: Mapping[str, Any], path: str, line: int) -> PersistentPart:
    try:
        return (rec["term"], rec["voted_for"], rec["snapshot_index"], rec["snapshot_term"],
                rec["log_runs"])
    except (KeyError, TypeError) as e:
        raise BadInput(f"persist: missing key {e}; expected term, voted_for, log_runs, "
                       "snapshot_index, snapshot_term", path, line) from None


def runs_of(log: list[list[int]], runs: list[list[int]] | None = None) -> list[list[int]]:
    """A log as runs `[first index, term, count]` of consecutive indexes of one term (after
    `runs`, those of the entries before it, whose last run is extended in place)."""
    runs = [] if runs is None else runs
    last: list[int] | None = runs[-1] if runs else None
    for index, term in log:
        if last is not None and last[1] == term and last[0] + last[2] == index:
            last[2] += 1
        else:
            last = [index, term, 1]
            runs.append(last)
    return runs


def persistent_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    return bool(before["term"] != after["term"] or before["voted_for"] != after["voted_for"]
            or before["snapshot_index"] != after["snapshot_index"]
            or before["snapshot_term"] != after["snapshot_term"]
            or before["log"] != after["log"])
