"""Check a real coordinator's trace against the rules of `spec/mapreduce.py`.

The trace (see `impl/mapreduce/trace.py`) holds every request the coordinator answered; it is
read by the one trace reader (`checker.trace_check.reader`: header, consecutive `seq`, time
that never goes back, node), and each coordinator step is parsed here. This
checker rebuilds the coordinator's task table from the requests and replies alone, with its own
small bookkeeping (a naive twin of `impl/mapreduce/core.py`, STYLE.md 9), and judges each step:

- reduces are handed out only once every map task is committed (a reduce reads them all);
- a task is handed out again only when its previous attempt has been out for at least the
  configured timeout: never earlier (the lab's job-count rule), with attempts numbered 0, 1, ...;
- each task is committed at most once, by an attempt that was handed out; a later report is
  discarded ("each reduce output reflects exactly one completed execution of its task");
- done holds exactly when every reduce task is committed ("done implies every output is
  final"), and `exit` is answered only then;
- the state the coordinator recorded after each step is the state the events lead to.

Times are whole milliseconds, so a re-issue may appear up to `TIME_SLACK_MS` early by rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from checker.trace_check.reader import read_events, read_header
from checker.verdict import Verdict
from spec.errors import BadInput

TIME_SLACK_MS = 2
Flag = Callable[[str, str], None]  # (rule, detail): record a finding at the current line
MAX_FINDINGS = 20


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    rule: str
    detail: str


@dataclass(frozen=True, slots=True)
class TraceCheckResult:
    verdict: Verdict
    events: int
    finished: bool  # the trace reaches done
    reissues: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def describe(self, path: str) -> str:
        head = (
            f"{self.verdict.value.upper()}: {path}: {self.events} events, "
            f"{self.reissues} re-issued hand-outs, job {'done' if self.finished else 'NOT done'}"
        )
        lines = [head]
        lines.extend(f"{path}:{f.line}: {f.rule}: {f.detail}" for f in self.findings)
        return "\n".join(lines)

    def to_json(self, path: str) -> dict[str, Any]:
        return {"path": path, "system": "mapreduce", "verdict": self.verdict.value,
                "events": self.events, "finished": self.finished, "reissues": self.reissues,
                "findings": [{"line": f.line, "rule": f.rule, "detail": f.detail}
                             for f in self.findings]}


class _Table:
    """The coordinator's task table as the events say it must be."""

    def __init__(self, n_map: int, n_reduce: int) -> None:
        self.sizes = {"map": n_map, "reduce": n_reduce}
        self.issued = {k: [0] * n for k, n in self.sizes.items()}
        self.handed_at: dict[str, list[int | None]] = {k: [None] * n for k, n in self.sizes.items()}
        self.committed: dict[str, list[int | None]] = {k: [None] * n for k, n in self.sizes.items()}

    def all_committed(self, kind: str) -> bool:
        return all(a is not None for a in self.committed[kind])

    def mismatch(self, recorded: Any) -> str | None:
        """How the recorded state differs from what the events imply (None: it does not)."""
        if not isinstance(recorded, dict):
            return f"state {recorded!r} is not an object"
        for key, expected in (
            ("issued", self.issued),
            ("committed", self.committed),
            ("done", self.all_committed("reduce")),
        ):
            if recorded.get(key) != expected:
                return f"{key} recorded {recorded.get(key)!r}, events say {expected!r}"
        for kind, size in self.sizes.items():
            statuses = recorded.get(kind)
            if not isinstance(statuses, list) or len(statuses) != size:
                return f"{kind} states {statuses!r}, expected a list of {size}"
            for task, status in enumerate(statuses):
                if self.committed[kind][task] is not None:
                    allowed = {"done"}
                elif self.issued[kind][task] == 0:
                    allowed = {"idle"}
                else:
                    # Handed out and not committed: in progress, or idle again once its timeout
                    # passed (the core notices that lazily, when a worker next asks).
                    allowed = {"in progress", "idle"}
                if status not in allowed:
                    return f"{kind} {task} is {status!r}, events allow {sorted(allowed)}"
        return None


def check_trace(path: Path) -> TraceCheckResult:
    """Judge every step of the coordinator trace at `path`; BadInput if it is not one."""
    name = str(path)
    try:
        stream = path.open(encoding="utf-8")
    except OSError as error:
        raise BadInput(f"cannot read the trace: {error.strerror}", name) from None
    with stream:
        try:
            return _check(stream, name)
        except UnicodeDecodeError:
            raise BadInput("not UTF-8 text; expected JSON Lines", name) from None


def _check(stream: IO[str], path: str) -> TraceCheckResult:
    header = read_header(stream, path, ("mapreduce",))
    config = header.config
    if not all(
        isinstance(config.get(k), int) for k in ("n_map", "n_reduce", "task_timeout_ms")
    ):
        raise BadInput(
            "header config must hold integers n_map, n_reduce and task_timeout_ms", path, 1
        )
    timeout = int(config["task_timeout_ms"])
    table = _Table(int(config["n_map"]), int(config["n_reduce"]))
    findings: list[Finding] = []
    reissues = 0
    events = 0
    for event in read_events(stream, path, header):
        events += 1
        if len(findings) >= MAX_FINDINGS:
            continue  # enough to show; the rest of the file is still read as a trace
        number, now = event.line, event.record["time"]
        try:
            msg, reply, recorded = event.record["msg"], event.record["reply"], event.record["state"]
            op, answer = msg["op"], reply["type"]
        except (KeyError, TypeError) as error:
            raise BadInput(
                f"event lacks {error} (expected seq, time, msg.op, reply.type, state)",
                path,
                number,
            ) from None

        def flag(rule: str, detail: str, line: int = number) -> None:
            findings.append(Finding(line, rule, detail))

        if op == "ask" and answer in ("map", "reduce"):
            reissues += _hand_out(table, answer, reply, now, timeout, flag)
        elif op == "ask" and answer == "exit" and not table.all_committed("reduce"):
            flag(
                "done implies every output is final",
                "a worker was told to exit before every reduce task was committed",
            )
        elif op == "done" and answer == "ack":
            _report(table, msg, reply, flag)
        if (difference := table.mismatch(recorded)) is not None:
            flag("recorded state matches the events", difference)
    verdict = Verdict.VIOLATION if findings else Verdict.OK
    return TraceCheckResult(
        verdict=verdict,
        events=events,
        finished=table.all_committed("reduce"),
        reissues=reissues,
        findings=tuple(findings[:MAX_FINDINGS]),
    )


def _hand_out(
    table: _Table, kind: str, reply: dict[str, Any], now: int, timeout: int, flag: Any
) -> int:
    task, attempt = reply.get("task"), reply.get("attempt")
    if (
        not isinstance(task, int)
        or not isinstance(attempt, int)
        or not 0 <= task < table.sizes[kind]
    ):
        flag("hand-outs name a task of the job", f"{kind} task {task!r} attempt {attempt!r}")
        return 0
    if kind == "reduce" and not table.all_committed("map"):
        flag(
            "reduces only after every map is committed",
            f"reduce {task} handed out while maps are unfinished",
        )
    if table.committed[kind][task] is not None:
        flag("no hand-out of a committed task", f"{kind} {task} handed out after it was committed")
    if attempt != table.issued[kind][task]:
        flag(
            "attempts are numbered 0, 1, ...",
            f"{kind} {task} attempt {attempt}, expected {table.issued[kind][task]}",
        )
    previous = table.handed_at[kind][task]
    if previous is not None and now - previous < timeout - TIME_SLACK_MS:
        flag(
            "never re-issued before the timeout",
            f"{kind} {task} attempt {attempt} handed out {now - previous} ms after the previous attempt (timeout {timeout} ms)",
        )
    table.issued[kind][task] = attempt + 1
    table.handed_at[kind][task] = now
    return 1 if attempt > 0 else 0


def _report(table: _Table, msg: dict[str, Any], reply: dict[str, Any], flag: Flag) -> None:
    kind, task, attempt = msg.get("kind"), msg.get("task"), msg.get("attempt")
    if (
        kind not in table.sizes
        or not isinstance(task, int)
        or not 0 <= task < table.sizes[kind]
        or not isinstance(attempt, int)
    ):
        flag("reports name a task of the job", f"{kind} task {task!r} attempt {attempt!r}")
        return
    if attempt >= table.issued[kind][task]:
        flag(
            "only handed-out attempts commit",
            f"{kind} {task} attempt {attempt} reported but never handed out",
        )
        return
    if reply.get("committed") is True:
        if table.committed[kind][task] is not None:
            rule = "each reduce output reflects exactly one completed execution of its task"
            if kind == "map":
                rule = "each intermediate file reflects exactly one completed map execution"
            flag(
                rule,
                f"{kind} {task} committed again by attempt {attempt} (attempt {table.committed[kind][task]} already had)",
            )
            return
        table.committed[kind][task] = attempt
    elif table.committed[kind][task] is None:
        flag(
            "a report is discarded only when its task is committed",
            f"{kind} {task} attempt {attempt} discarded, but nothing was committed",
        )
