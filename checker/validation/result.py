"""What trace validation reports: counts of matched actions, and the first mismatch.

A `Mismatch` is the first event the spec cannot take: the rule it breaks (`REFINEMENT` for a
step no spec action produces, or one of the persistence contract's rules), every action
tried with a field-by-field diff of the spec's result against the recorded one, the shortest
excerpt of the trace that leads there, and the command that replays the run.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from checker.verdict import Verdict

# The rules a mismatch can break (docs/trace-validation.md).
REFINEMENT = "Refinement"  # the step is no action of the spec (nor a stutter)
PERSIST_BEFORE_SEND = "PersistBeforeSend"  # a message sent before the state it depends on
RESTART_RECOVERS_PERSISTED = "RestartRecoversPersisted"  # a restart recovered something else
APPLY_COMMITTED = "ApplyCommitted"  # the service was handed an entry not committed, or out of order
RULES = (REFINEMENT, PERSIST_BEFORE_SEND, RESTART_RECOVERS_PERSISTED, APPLY_COMMITTED)


@dataclass(frozen=True, slots=True)
class Tried:
    """One spec action tried on the event: its name, and where its result differs from what
    the trace recorded, field by field: (field, the spec's value, the recorded value)."""

    action: str
    diff: tuple[tuple[str, object, object], ...]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "note": self.note,
                "diff": [{"field": f, "expected": _plain(e), "recorded": _plain(r)}
                         for f, e, r in self.diff]}


@dataclass
class Mismatch:
    rule: str
    line: int
    seq: int
    node: int | str
    event: str
    detail: str
    tried: list[Tried]
    excerpt_lines: tuple[int, ...]
    excerpt: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "line": self.line, "seq": self.seq, "node": self.node,
                "event": self.event, "detail": self.detail,
                "tried": [t.to_json() for t in self.tried],
                "excerpt": [{"line": n, "text": t}
                            for n, t in zip(self.excerpt_lines, self.excerpt, strict=True)]}


@dataclass
class ValidationResult:
    path: str
    system: str
    spec: str  # the spec module the trace was validated against
    verdict: Verdict
    events: int  # events validated (up to and including a mismatch)
    actions: Counter[str]  # spec actions matched, by name ("stutter" for stuttering steps)
    searched: int  # events whose match needed more than one candidate action
    seconds: float
    mismatch: Mismatch | None
    replay: list[str]  # the commands that replay the run and validate it again

    @property
    def search_share(self) -> float:
        return self.searched / self.events if self.events else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "system": self.system, "spec": self.spec,
                "verdict": self.verdict.value, "events": self.events,
                "actions": dict(sorted(self.actions.items())), "searched": self.searched,
                "search_share": round(self.search_share, 6),
                "seconds": round(self.seconds, 4),
                "mismatch": self.mismatch.to_json() if self.mismatch is not None else None,
                "replay": self.replay}


def _plain(x: object) -> object:
    """A diff value as JSON: enums by name, tuples as lists."""
    if isinstance(x, tuple):
        return [_plain(v) for v in x]
    if isinstance(x, enum.Enum):
        return x.name.lower()
    return x
