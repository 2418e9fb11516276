"""Validating a simulated run while it is recorded, without writing or parsing a file.

`LiveValidation` is a `TraceWriter` whose records go straight to a `Validation` instead of
being serialised: each record is exactly the object the writer would have turned into a line
of the trace (the line number is `seq + 1`), so the run is judged as `dscheck check-trace`
would judge its file, minus the JSON round trip and the reader's envelope checks, which
concern files and hold by construction for the writer's own records. The lab scenarios'
sweep (tests/validation) and the fault-flag bench use it: a long run's trace repeats each
server's whole log on every step, and encoding and decoding it would cost far more than
validating it.

The last `KEEP` records are kept, so a mismatch's excerpt can show the lines it cites when
they are recent (an older line shows as its number only).
"""

from __future__ import annotations

import io
from collections import deque
from typing import Any

from checker.trace_check.reader import Event, read_header
from checker.validation.engine import Validation, binding_for
from checker.validation.result import ValidationResult
from impl.trace import TraceWriter, dumps

KEEP = 300


class LiveValidation(TraceWriter):
    """A trace writer that validates the run it records (`result()` when the run is over)."""

    def __init__(self, name: str = "<live>") -> None:
        super().__init__(keep=False)
        self.name = name
        self.validation: Validation | None = None
        self.recent: deque[tuple[int, dict[str, Any]]] = deque(maxlen=KEEP)

    def _write(self, record: dict[str, Any]) -> None:
        if self.validation is None:
            header = read_header(io.StringIO(dumps(record) + "\n"), self.name)
            binding = binding_for(header.system)
            if binding is None:
                raise ValueError(f"no validator for system {header.system!r}")
            self.validation = Validation(binding, header, self.name, check_types=False)
            return
        if self.validation.mismatch is not None:
            return  # judged: what follows no longer matters (and must not push out the excerpt)
        line = record["seq"] + 1
        self.recent.append((line, record))
        self.validation.feed(Event(line, record["seq"], record["node"], record["event"],
                                   record))

    def result(self) -> ValidationResult:
        assert self.validation is not None, "nothing was recorded"
        result = self.validation.finish(fill=False)
        mismatch = result.mismatch
        if mismatch is not None:
            kept = dict(self.recent)
            mismatch.excerpt = [dumps(kept[n]) if n in kept else f"(line {n}: no longer kept)"
                                for n in mismatch.excerpt_lines]
        return result
