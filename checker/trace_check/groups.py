"""Several Raft groups in one trace, their servers named: the Raft invariants of each group,
and one list of findings for every judge of the trace.

A `shardctrler` trace has one Raft group (the controller's servers); a `shardkv` trace has
the controller's and one per replica group. Each group is judged exactly as a `raft` trace
is (`checker.trace_check.check`: every traceable invariant on the group's global state after
each step, Leader Append-Only, State Machine Safety on what its servers applied), by a
checker of its own over the group's servers in Raft's peer order (the header lists them in
that order, and `voted_for` and the ids inside Raft's messages are those indexes). Groups
never share a log or a term, so no invariant relates two of them.

`Findings` is the one list every judge reports into — the groups' Raft checkers, the
key/value properties, the sharded-KV and the controller's invariants — under one limit and
one rule of deduplication (the first violation of each property and subject), so that a
trace gets one report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.trace_check.check import Violation, _Checker
from checker.trace_check.reader import STATE_EVENTS, format_rules, server_rec


class Findings:
    """Every violation of one trace: the first of each (property, nodes, subject)."""

    def __init__(self, max_violations: int) -> None:
        self.violations: list[Violation] = []
        self.seen: set[tuple[str, tuple[str, ...], str]] = set()
        self.max_violations = max_violations

    def report(self, name: str, line: int, seq: int, nodes: tuple[str, ...], detail: str,
               lines: tuple[int, ...], subject: str = "", call: str = "") -> None:
        """`subject` names what a violation is about (a shard, a configuration, a group's
        servers): the first violation of each property and subject is kept. Without one,
        the nodes and `call` (the clerk call a key/value property is about) tell them apart."""
        key = (name, () if subject else tuple(sorted(nodes)), subject or call)
        if key in self.seen or len(self.violations) >= self.max_violations:
            return
        self.seen.add(key)
        excerpt = tuple(sorted({n for n in lines if n > 0} | {line}))
        self.violations.append(Violation(name, line, seq, (), detail, excerpt, call=call,
                                         nodes=nodes))


class _GroupChecker(_Checker):
    """The Raft checker of one group, reporting into the trace's findings by server name."""

    def __init__(self, path: str, label: str, names: Sequence[str], findings: Findings) -> None:
        super().__init__(path, len(names), max_violations=1 << 30)
        self.label = label
        self.names = tuple(names)
        self.findings = findings

    def _report(self, name: str, line: int, seq: int, servers: tuple[int, ...], detail: str,
                lines: tuple[int, ...], call: str = "") -> None:
        nodes = tuple(self.names[s] for s in servers)
        self.findings.report(name, line, seq, nodes, f"{self.label}: {detail}", lines,
                             subject=f"{self.label} {sorted(servers)}")


class RaftGroups:
    """The Raft part of every server of a trace whose servers form several named groups."""

    def __init__(self, path: str, groups: dict[str, Sequence[str]], findings: Findings) -> None:
        self.path = path
        self.checkers = {label: _GroupChecker(path, label, names, findings)
                         for label, names in groups.items()}
        # server name -> (its group's checker, its index in the group)
        self.where: dict[str, tuple[_GroupChecker, int]] = {
            name: (self.checkers[label], i)
            for label, names in groups.items() for i, name in enumerate(names)}
        self.raw: dict[str, object] = {}  # each server's last `state` object

    def is_server(self, node: object) -> bool:
        return isinstance(node, str) and node in self.where

    def event(self, node: str, name: str, record: dict[str, Any], line: int, seq: int,
              extra_rules: list[str] | None = None) -> bool:
        """A server's event, for its group's Raft checker. True when it gave the server a
        new `state` (so that the service's part of it is worth reading)."""
        checker, i = self.where[node]
        if name in STATE_EVENTS and "state" in record:
            state = record["state"]
            if state == self.raw.get(node):
                checker.unchanged(i, line)
                return False
            rec = server_rec(state, self.path, line, checker.n)
            broken = format_rules(state) + (extra_rules or [])
            if broken:
                checker.malformed(i, broken, line, seq)
            self.raw[node] = state
            checker.step(i, rec, line, seq)
            return True
        if name == "crash":
            self.raw.pop(node, None)
            checker.crash(i, line, seq)
        elif name == "apply":
            checker.apply(i, record, line, seq)
        return False

    @property
    def states(self) -> int:
        return sum(c.states for c in self.checkers.values())

    @property
    def evaluated(self) -> int:
        return sum(c.evaluated for c in self.checkers.values())
