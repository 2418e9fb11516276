"""Verdicts and exit statuses shared by every checker (DESIGN.md sections 4 and 5).

A checker returns a result object carrying one `Verdict`; rendering and exit statuses are
derived from it in one place, so that no command can report an UNKNOWN as OK.
"""

from __future__ import annotations

import enum


class Verdict(enum.Enum):
    OK = "ok"
    VIOLATION = "violation"
    UNKNOWN = "unknown"  # a time-out or a bound was reached: never reported as OK

    @property
    def exit_status(self) -> int:
        return _EXIT_STATUS[self]

    @staticmethod
    def worst(verdicts: list[Verdict]) -> Verdict:
        """The verdict a command reports over several checks: any violation wins, then unknown."""
        if Verdict.VIOLATION in verdicts:
            return Verdict.VIOLATION
        if Verdict.UNKNOWN in verdicts:
            return Verdict.UNKNOWN
        return Verdict.OK


# DESIGN.md section 5: 0 all checks hold, 1 a violation, 2 bad input or usage, 3 unknown.
EXIT_OK = 0
EXIT_VIOLATION = 1
EXIT_BAD_INPUT = 2
EXIT_UNKNOWN = 3

_EXIT_STATUS = {
    Verdict.OK: EXIT_OK,
    Verdict.VIOLATION: EXIT_VIOLATION,
    Verdict.UNKNOWN: EXIT_UNKNOWN,
}
