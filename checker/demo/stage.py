"""One stage of the demo: what it judged, its verdict, a one-line finding, its figures, the
files it wrote; the CLI renders them (checker/cli/demo.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checker.verdict import Verdict


@dataclass(frozen=True)
class Stage:
    name: str
    verdict: Verdict
    finding: str
    seconds: float
    figures: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    details: str = ""  # the full explanation, shown on a violation or unknown
    seed: int | None = None  # the run the stage judged (None: the model check, which has none)
