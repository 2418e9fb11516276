"""Recording a history from a running test, for `check(...)`.

    from checker.linearizability import KV, Recorder, check
    rec = Recorder()
    rec.invoke(client=1, f="append", key="k", value="x", time=now())
    ... the clerk's call ...
    rec.ok(client=1, time=now())                  # a get: rec.ok(1, output=value, time=...)
    result = check(rec.operations(), KV, timeout=1.0)
    assert result.verdict is not Verdict.VIOLATION, render_text(result)

A client's call that timed out is `rec.info(client, time=...)` (it may or may not have taken
effect); one that certainly did not happen is `rec.fail(...)`; calls still pending when
`operations()` is called are treated like `info`. Times only need to be ordered (virtual or
monotonic nanoseconds).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from checker.linearizability.events import Pairing, Semantics
from checker.linearizability.history import Operation


class Recorder:
    def __init__(self) -> None:
        self._pairing = Pairing("<recorder>", Semantics.DROP_FAILED, literal_outputs=True)
        self._events = 0

    def invoke(
        self, client: Hashable, f: str, key: Hashable = None, value: Any = None, *, time: float
    ) -> None:
        self._events += 1
        self._pairing.invoke(client, (f, key, value), time, self._events)

    def ok(self, client: Hashable, output: Any = None, *, time: float) -> None:
        self._complete(client, "ok", output, time)

    def fail(self, client: Hashable, *, time: float) -> None:
        self._complete(client, "fail", None, time)

    def info(self, client: Hashable, *, time: float) -> None:
        self._complete(client, "info", None, time)

    def _complete(self, client: Hashable, kind: str, output: Any, time: float) -> None:
        self._events += 1
        self._pairing.complete(client, kind, None, output, time, self._events)

    def operations(self) -> list[Operation]:
        return list(self._pairing.operations())
