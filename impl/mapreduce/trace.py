"""The coordinator's trace: the dscheck trace format (DESIGN.md section 3), `system: "mapreduce"`.

Line 1 is the header; then one `receive` event per request the coordinator stepped on, with the
request (`msg`), the answer it gave (`reply`, an extra key), and the coordinator's spec-visible
state after the step (`state`):

    {"map": ["done", "in progress", ...], "reduce": [...],          task states
     "issued": {"map": [2, 1, ...], "reduce": [...]},               attempts handed out
     "committed": {"map": [0, null, ...], "reduce": [...]},        attempt whose files are final
     "done": false}

`time` is wall milliseconds since the coordinator started. Every line is flushed as it is
written, so the trace of a coordinator that was killed is still a readable prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from impl.mapreduce.core import CoordinatorCore, TaskKind

FORMAT = "dscheck-trace"
VERSION = 1


class TraceWriter:
    def __init__(self, path: Path, core: CoordinatorCore, files: list[str]) -> None:
        self._stream: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._seq = 0
        self._core = core
        self._write(
            {
                "format": FORMAT,
                "version": VERSION,
                "system": "mapreduce",
                "config": {
                    "n_map": core.n_map,
                    "n_reduce": core.n_reduce,
                    "task_timeout_ms": round(core.task_timeout * 1000),
                    "files": files,
                },
                "seed": None,
                "time_unit": "ms",
                "generator": "dscheck mr coordinator",
            }
        )

    def step(self, time_ms: int, worker: str, msg: dict[str, Any], reply: dict[str, Any]) -> None:
        self._seq += 1
        self._write(
            {
                "seq": self._seq,
                "time": time_ms,
                "node": "coordinator",
                "event": "receive",
                "from": worker,
                "id": self._seq,
                "msg": msg,
                "reply": reply,
                "state": state_of(self._core),
            }
        )

    def close(self) -> None:
        self._stream.close()

    def _write(self, record: dict[str, Any]) -> None:
        self._stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._stream.flush()


def state_of(core: CoordinatorCore) -> dict[str, Any]:
    kinds: tuple[tuple[TaskKind, int], ...] = (("map", core.n_map), ("reduce", core.n_reduce))
    return {
        "map": [core.state_of("map", t).value for t in range(core.n_map)],
        "reduce": [core.state_of("reduce", t).value for t in range(core.n_reduce)],
        "issued": {k: [core.attempts_issued(k, t) for t in range(n)] for k, n in kinds},
        "committed": {k: [core.committed_attempt(k, t) for t in range(n)] for k, n in kinds},
        "done": core.done,
    }
