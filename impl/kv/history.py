"""The clients' history of a key/value run: every clerk call with its invoke and return.

Theory of operation
-------------------
The tester records each clerk call when it is made (`invoke`) and when its answer arrives
(`complete`), in virtual time: a `time` here is virtual nanoseconds — the millisecond
clock times 10^6 plus the order of the event within its millisecond — so two events are
ordered exactly as the simulator ran them, even within one millisecond.

A call can still be in flight when a run ends (its clerk was waiting on a minority, or the
run stopped mid-call). The lab's checker must treat such a call as "may take effect any time
after its invoke, or never", which makes the search harder and the audit weaker. Here the
servers know more: `settle` looks each pending call up in what the servers executed — the
tester records, for each (clerk, seq), the first index where a replica executed it, what it
read, and when. A call found there is settled: it took effect no later than that moment
(the entry was committed before any replica applied it), with that output. Only calls no
replica executed stay unknown.

`to_jsonl` writes the history in dscheck's history format (traces/HISTORY.md): settled calls
are `ok` with `"settled": true`, unknown ones `info` at the end of the run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from impl.kv.machine import GET

NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Execution:
    """Where a call took effect: the first index a replica executed it at, the output it
    produced there, and the virtual time (ns) of that apply."""

    index: int
    output: str | None
    time: int


@dataclass(slots=True)
class Call:
    clerk: int
    seq: int
    f: str  # get, put, append
    key: str
    value: str | None
    invoked: int  # virtual ns
    returned: int | None = None  # None: no answer seen (yet)
    output: str | None = None
    settled: bool = False  # the return was established from the servers, not seen

    @property
    def pending(self) -> bool:
        return self.returned is None


class History:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._pending: dict[int, Call] = {}

    def invoke(self, clerk: int, seq: int, f: str, key: str, value: str | None,
               time: int) -> None:
        if clerk in self._pending:
            raise RuntimeError(f"clerk {clerk} invokes while a call is pending")
        call = Call(clerk, seq, f, key, value, time)
        self.calls.append(call)
        self._pending[clerk] = call

    def complete(self, clerk: int, output: str | None, time: int) -> None:
        call = self._pending.pop(clerk)
        call.returned, call.output = time, output

    @property
    def pending(self) -> list[Call]:
        return list(self._pending.values())

    def settle(self, executed: Mapping[tuple[int, int], Execution]) -> tuple[int, int]:
        """Give every pending call its outcome from `executed`; (settled, unknown) counts."""
        settled = 0
        for clerk, call in list(self._pending.items()):
            found = executed.get((clerk, call.seq))
            if found is None:
                continue
            call.returned = max(found.time, call.invoked)
            call.output = found.output if call.f == GET else None
            call.settled = True
            del self._pending[clerk]
            settled += 1
        return settled, len(self._pending)

    def to_jsonl(self, end_time: int, note: str = "") -> str:
        """The history format of traces/HISTORY.md, events in time order; calls still
        pending are `info` at `end_time` (unknown outcome)."""
        header: dict[str, object] = {"format": "dscheck-history", "version": 1, "model": "kv"}
        if note:
            header["note"] = note
        events: list[tuple[int, int, dict[str, object]]] = []
        for n, call in enumerate(self.calls):
            invoke: dict[str, object] = {"type": "invoke", "client": call.clerk,
                                         "time": call.invoked, "f": call.f, "key": call.key}
            if call.value is not None:
                invoke["value"] = call.value
            events.append((call.invoked, 2 * n, invoke))
            if call.returned is None:
                done: dict[str, object] = {"type": "info", "client": call.clerk,
                                           "time": max(end_time, call.invoked)}
                events.append((max(end_time, call.invoked), 2 * n + 1, done))
                continue
            done = {"type": "ok", "client": call.clerk, "time": call.returned}
            if call.f == GET:
                done["value"] = call.output
            if call.settled:
                done["settled"] = True
            events.append((call.returned, 2 * n + 1, done))
        events.sort(key=lambda e: (e[0], e[1]))
        lines = [json.dumps(header)] + [json.dumps(e) for _t, _n, e in events]
        return "\n".join(lines) + "\n"
