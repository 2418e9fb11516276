"""Trace checking: rebuild the global state after every event and judge it.

Theory of operation
-------------------
The global state of a Raft trace is each server's latest `state` (traces/README.md). A
server not yet booted is in its first-boot state; a crashed one keeps only what it persisted
(term, vote, log, snapshot) and is a follower with commitIndex at its snapshot until it
restarts, so that it is judged by what survives the crash. After every event that changes it, every
invariant of `checker.invariants.raft.TRACEABLE` — the spec's safety properties that read only
what a trace records — is evaluated by the same definitions the Z3 proofs use, plus Leader
Append-Only on the server's step, plus State Machine Safety on what servers *applied* (a trace
carries commands only in `apply` events).

Before the invariants, each new state is held to the format's own rules that relate its
values (`reader.format_rules`: log indexes consecutive from `snapshot_index + 1`,
`last_applied ≤ commit_index`), reported as the pseudo-invariant WellFormedState: a buggy core
writes such states, and they are a finding about it, not a malformed file.

Only instances that involve the server that stepped are re-evaluated: every other instance
reads only unchanged variables, so its verdict is the one already established. An event that
leaves its server's state as it was (a heartbeat, a send) leaves the global state as it was.
Each state is therefore checked completely, once.

A violation names the event (line and seq), the invariant, the servers of the failing instance,
and the shortest excerpt that shows it: for each server involved, the line that gave it the
state in which the invariant fails (and, for a step property, the line before).

A `kv` trace (the key/value service) is a Raft trace whose server states also carry the
service's state: its Raft part is judged exactly as above, and in the same pass the service's
properties (`spec.kv`: ReplicasAgree, NoCallAppliedTwice, ReplyMatchesState,
NoAckedWriteLost, NoStaleRead) are judged on the service's states, the applies and reads, and
the clerks' calls (`checker.trace_check.kv`), into the same report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.invariants import CONCRETE, LEADER_APPEND_ONLY, TRACEABLE, ConcreteView, ServerRec
from checker.invariants.raft import Invariant
from checker.trace_check.kv import KvJudge
from checker.trace_check.reader import (
    STATE_EVENTS,
    Event,
    Header,
    crashed_rec,
    format_rules,
    initial_rec,
    read_events,
    read_header,
    server_rec,
)
from checker.verdict import Verdict
from spec import kv
from spec.errors import BadInput

APPLIED_SMS = "StateMachineSafety"
WELL_FORMED = "WellFormedState"


@dataclass
class Violation:
    invariant: str
    line: int
    seq: int
    servers: tuple[int, ...]
    detail: str
    excerpt_lines: tuple[int, ...]
    excerpt: list[str] = field(default_factory=list)
    call: str = ""  # a key/value property about one clerk call: which (e.g. "c1003#7")
    nodes: tuple[str, ...] = ()  # the servers involved by name (traces of named servers)

    def to_json(self) -> dict[str, Any]:
        out = {"invariant": self.invariant, "line": self.line, "seq": self.seq,
               "servers": list(self.servers), "detail": self.detail,
               "excerpt": [{"line": n, "text": t}
                           for n, t in zip(self.excerpt_lines, self.excerpt, strict=True)]}
        if self.call:
            out["call"] = self.call
        if self.nodes:
            out["nodes"] = list(self.nodes)
        return out


@dataclass
class TraceResult:
    path: str
    verdict: Verdict
    servers: int
    events: int
    states: int  # global states the trace passes through (one per state-changing event kind)
    evaluated: int  # of which changed a server's state and were re-evaluated
    seconds: float
    invariants: list[str]
    violations: list[Violation]
    system: str = "raft"
    calls: int = 0  # kv, shardkv: clerk calls that returned
    groups: int = 0  # shardkv: replica groups (the controller's Raft group not counted)

    def to_json(self) -> dict[str, Any]:
        out = {"path": self.path, "system": self.system, "verdict": self.verdict.value,
               "servers": self.servers, "events": self.events, "states": self.states,
               "evaluated": self.evaluated, "seconds": round(self.seconds, 4),
               "invariants": self.invariants,
               "violations": [v.to_json() for v in self.violations]}
        if self.system in ("kv", "shardkv"):
            out["calls"] = self.calls
        if self.system == "shardkv":
            out["groups"] = self.groups
        return out


class _Checker:
    def __init__(self, path: str, servers: int, max_violations: int,
                 also: tuple[Invariant, ...] = ()) -> None:
        self.path = path
        self.n = servers
        self.recs: list[ServerRec] = [initial_rec(servers)] * servers
        self.state_line: list[int] = [0] * servers  # line that set each server's state
        self.applied: dict[int, tuple[Any, Any, int, int]] = {}  # index → term, cmd, node, line
        self.violations: list[Violation] = []
        self.seen: set[tuple[str, tuple[int, ...], str]] = set()
        self.max_violations = max_violations
        self.states = self.evaluated = 0
        # For each server, the instances of each invariant that involve it.
        self.mine = [[(inv, _instances_with(inv.scope, node, servers))
                      for inv in (*TRACEABLE, *also)]
                     for node in range(servers)]

    def malformed(self, node: int, broken: list[str], line: int, seq: int) -> None:
        """The state the server just took breaks the format's rules (reader.format_rules)."""
        self._report(WELL_FORMED, line, seq, (node,),
                     f"s{node}'s state breaks the trace format's rules: {'; '.join(broken)}",
                     (line,))

    def unchanged(self, node: int, line: int) -> None:
        """A state event that repeats the server's state: the global state is as it was."""
        self.state_line[node] = line
        self.states += 1

    def step(self, node: int, rec: ServerRec, line: int, seq: int) -> None:
        old = self.recs[node]
        prev_line = self.state_line[node]
        self.state_line[node] = line
        self.states += 1
        if rec == old:
            return  # the global state is unchanged: already checked
        self.recs[node] = rec
        self.evaluated += 1
        if not LEADER_APPEND_ONLY.holds(
                ConcreteView((old,)), ConcreteView((rec,)), CONCRETE):
            self._report(LEADER_APPEND_ONLY.name, line, seq, (node,),
                         f"leader s{node} of term {rec.term} lost or changed entries "
                         f"(last index {old.last_index} → {rec.last_index})",
                         (prev_line, line))
        self._judge(node, line, seq)

    def _judge(self, node: int, line: int, seq: int) -> None:
        view = ConcreteView(self.recs)
        for inv, instances in self.mine[node]:
            if inv.whole is not None and not inv.whole(view, CONCRETE):
                self._report(inv.name, line, seq, (node,), inv.words, (line,))
            for args in instances:
                if not inv.body(view, CONCRETE, *args):
                    ids = args or (node,)
                    self._report(inv.name, line, seq, ids, inv.words,
                                 tuple(self.state_line[s] for s in ids))

    def crash(self, node: int, line: int, seq: int) -> None:
        self.states += 1
        rec = crashed_rec(self.recs[node])
        self.state_line[node] = line
        if rec != self.recs[node]:
            self.recs[node] = rec
            self.evaluated += 1
            self._judge(node, line, seq)

    def apply(self, node: int, rec: dict[str, Any], line: int, seq: int) -> None:
        if rec.get("kind") != "command":
            return
        index, term, command = rec.get("index"), rec.get("term"), rec.get("command")
        if not isinstance(index, int):
            raise BadInput("apply: index must be an integer", self.path, line)
        first = self.applied.setdefault(index, (term, command, node, line))
        if first[:2] != (term, command):
            self._report(APPLIED_SMS, line, seq, (first[2], node),
                         f"s{first[2]} applied (term {first[0]}, command {first[1]!r}) at index "
                         f"{index} but s{node} applied (term {term}, command {command!r})",
                         (first[3], line))

    def _report(self, name: str, line: int, seq: int, servers: tuple[int, ...], detail: str,
                lines: tuple[int, ...], call: str = "") -> None:
        key = (name, tuple(sorted(servers)), call)
        if key in self.seen or len(self.violations) >= self.max_violations:
            return
        self.seen.add(key)
        excerpt = tuple(sorted({n for n in lines if n > 0} | {line}))
        self.violations.append(Violation(name, line, seq, servers, detail, excerpt, call=call))


def _instances_with(scope: str, me: int, n: int) -> list[tuple[int, ...]]:
    others = [j for j in range(n) if j != me]
    out: list[tuple[int, ...]] = []
    match scope:
        case "server":
            out.append((me,))
        case "pair":
            out.extend((min(me, j), max(me, j)) for j in others)
        case "ordered":
            out.extend((me, j) for j in others)
            out.extend((j, me) for j in others)
        case "state":
            out.append(())
    if out:
        return out
    raise AssertionError(scope)  # pragma: no cover


def check_trace(path: Path, *, max_violations: int = 10,
                observe: Callable[[Header], Callable[[Event], None]] | None = None,
                also: tuple[Invariant, ...] = ()) -> TraceResult:
    """Check every state of the Raft, kv, shardctrler or shardkv trace at `path`; BadInput if
    it is not one. `observe(header)`, when given, returns a function that sees every event of
    the same pass (trace validation, checker.validation, rides along this way). `also`: more
    invariants to evaluate on a Raft or kv trace's states (the hunt adds a proof-only one)."""
    name = str(path)
    start = time.perf_counter()
    try:
        stream = path.open(encoding="utf-8")
    except OSError as e:
        raise BadInput(f"cannot read: {e.strerror}", name) from None
    with stream:
        try:
            header = read_header(stream, name, ("raft", "kv", "shardctrler", "shardkv"))
            if header.system in ("shardctrler", "shardkv"):
                # Traces of several named Raft groups (checker.trace_check.shardkv).
                from checker.trace_check.shardkv import check_groups_trace

                result = check_groups_trace(path, stream, header, max_violations)
                _fill_excerpts(path, result.violations)
                return result
            assert header.servers is not None  # read_header requires it of a server trace
            checker = _Checker(name, header.servers, max_violations, also)
            judge = KvJudge(name, checker._report) if header.system == "kv" else None
            events = 0
            raw: list[object] = [None] * header.servers  # each server's last `state` object
            feed = observe(header) if observe is not None else None
            for ev in read_events(stream, name, header):
                events += 1
                if feed is not None:
                    feed(ev)
                if not isinstance(ev.node, int):
                    if judge is not None and ev.event == "invoke":
                        judge.invoke(ev.record, ev.line)
                    elif judge is not None and ev.event == "return":
                        judge.returned(ev.record, ev.line, ev.seq)
                    continue
                if ev.event in STATE_EVENTS and "state" in ev.record:
                    state = ev.record["state"]
                    if state == raw[ev.node]:
                        checker.unchanged(ev.node, ev.line)
                        continue
                    rec = server_rec(state, name, ev.line, header.servers)
                    broken = format_rules(state)
                    if judge is not None:
                        judge.commit_index(rec.commit_index)
                        broken += judge.state(ev.node, state, ev.line, ev.seq)
                    if broken:
                        checker.malformed(ev.node, broken, ev.line, ev.seq)
                    raw[ev.node] = state
                    checker.step(ev.node, rec, ev.line, ev.seq)
                elif ev.event == "crash":
                    raw[ev.node] = None
                    checker.crash(ev.node, ev.line, ev.seq)
                    if judge is not None:
                        judge.crash(ev.node)
                elif ev.event == "apply":
                    checker.apply(ev.node, ev.record, ev.line, ev.seq)
                    if judge is not None:
                        judge.apply(ev.node, ev.record, ev.line, ev.seq)
                elif ev.event == "read" and judge is not None:
                    judge.read(ev.node, ev.record, ev.line, ev.seq)
        except UnicodeDecodeError:
            raise BadInput("not UTF-8 text; expected JSON Lines", name) from None
    seconds = time.perf_counter() - start
    _fill_excerpts(path, checker.violations)
    verdict = Verdict.VIOLATION if checker.violations else Verdict.OK
    names = [WELL_FORMED, *(inv.name for inv in (*TRACEABLE, *also)), LEADER_APPEND_ONLY.name,
             f"{APPLIED_SMS} (applied)"]
    if judge is not None:
        names += [inv.name for inv in kv.PROPERTIES]
    return TraceResult(name, verdict, header.servers, events, checker.states, checker.evaluated,
                       seconds, names, checker.violations, header.system,
                       judge.returns if judge is not None else 0)


def _fill_excerpts(path: Path, violations: list[Violation]) -> None:
    wanted = {n for v in violations for n in v.excerpt_lines}
    if not wanted:
        return
    text: dict[int, str] = {}
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if number in wanted:
                text[number] = line.rstrip("\n")
    for v in violations:
        v.excerpt = [text[n] for n in v.excerpt_lines]
