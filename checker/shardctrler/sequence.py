"""A user's sequence of Join/Leave/Move, read from text or JSON, and checked step by step.

Text (one operation a line; `#` starts a comment; blank lines are skipped; on the command line
`;` separates operations):

    join 1 2              # groups 1 and 2, each with the lab's three server names
    join 3:a,b,c          # group 3 with servers a, b and c
    leave 1
    move 0 3              # shard 0 to group 3
    join 4 => 3 3 3 2 2 4 4 2 3 4    # optional: the assignment your controller produced

JSON: a list of objects, one per operation: `{"join": [1, 2]}` or `{"join": {"3": ["a", "b"]}}`,
`{"leave": [1]}`, `{"move": [0, 3]}`, each with an optional `"expect": [gid, ...]`.

A line's `=>` (or `expect`) gives the assignment to judge at that step instead of the
controller spec's own, and the next step starts from it, as your controller's next step would.
Every Join and Leave is judged by Z3 (`minimality.judge`): balanced, and no balanced
assignment moves fewer shards. A Move is judged by its definition: exactly the shard named goes
to the group named, nothing else changes, and balance is not required.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from checker.shardctrler.minimality import Minimality, cost, is_balanced, judge
from checker.verdict import Verdict
from spec.errors import BadInput
from spec.shardctrler import NSHARDS, Change, Configuration, Join, Leave, Move, change, invalid


@dataclass(frozen=True)
class Step:
    line: int  # the line (text), the operation's position (command line) or line (JSON)
    op: Change
    expect: tuple[int, ...] | None = None  # the user's assignment, if given


@dataclass(frozen=True)
class StepReport:
    index: int  # 1-based
    step: Step
    before: Configuration
    after: Configuration
    judged: str  # "spec" (the controller spec's rule) or "given" (the user's assignment)
    result: Minimality


@dataclass(frozen=True)
class SequenceReport:
    source: str
    steps: tuple[StepReport, ...]

    @property
    def verdict(self) -> Verdict:
        return Verdict.worst([s.result.verdict for s in self.steps])


def default_servers(gid: int) -> tuple[str, ...]:
    """The shardkv tester's server names for a group (section 6.1)."""
    return tuple(f"server-{gid}-{i}" for i in range(3))


# ---- text ------------------------------------------------------------------------------------

_INT = re.compile(r"-?\d+")


def parse_text(text: str, source: str, *, separator: str = "\n") -> list[Step]:
    steps = []
    for number, raw in enumerate(text.split(separator), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            steps.append(_text_step(line, source, number))
    return steps


def _text_step(line: str, source: str, number: int) -> Step:
    def bad(message: str) -> BadInput:
        return BadInput(message, source, number)

    op_text, arrow, expect_text = line.partition("=>")
    words = op_text.split()
    verb, args = words[0].lower(), words[1:]
    expect = None
    if arrow:
        cells = expect_text.replace(",", " ").split()
        if not cells or not all(_INT.fullmatch(c) for c in cells):
            raise bad("after '=>' expected the assignment: one gid per shard, e.g. => 1 1 2 2")
        expect = tuple(int(c) for c in cells)
    if verb == "join":
        if not args:
            raise bad("join needs at least one group: join GID[:server,server...] ...")
        groups: dict[int, tuple[str, ...]] = {}
        for arg in args:
            gid_text, colon, servers = arg.partition(":")
            gid = _int(gid_text, "a group id", bad)
            if gid in groups:
                raise bad(f"join names group {gid} twice")
            names = tuple(s for s in servers.split(",") if s) if colon else default_servers(gid)
            if not names:
                raise bad(f"group {gid} needs at least one server after ':'")
            groups[gid] = names
        return Step(number, Join.of(groups), expect)
    if verb == "leave":
        if not args:
            raise bad("leave needs at least one group: leave GID ...")
        return Step(number, Leave.of(_int(a, "a group id", bad) for a in args), expect)
    if verb == "move":
        if len(args) != 2:
            raise bad("move takes a shard and a group: move SHARD GID")
        return Step(number, Move(_int(args[0], "a shard", bad), _int(args[1], "a group id", bad)),
                    expect)
    raise bad(f"unknown operation {words[0]!r}; expected join, leave or move")


def _int(text: str, what: str, bad: Any) -> int:
    if not _INT.fullmatch(text):
        raise bad(f"expected {what} (an integer), got {text!r}")
    return int(text)


# ---- JSON ------------------------------------------------------------------------------------


def parse_json(text: str, source: str) -> list[Step]:
    """A JSON list of operation objects; each error names the line where its object starts."""
    decoder = json.JSONDecoder()
    steps = []
    try:
        pos = _skip(text, 0)
        if text[pos : pos + 1] != "[":
            raise BadInput("expected a JSON list of operations", source, _line(text, pos))
        pos = _skip(text, pos + 1)
        if text[pos : pos + 1] == "]":
            pos += 1
        else:
            while True:
                value, end = decoder.raw_decode(text, pos)
                steps.append(_json_step(value, source, _line(text, pos)))
                pos = _skip(text, end)
                if text[pos : pos + 1] == "]":
                    pos += 1
                    break
                if text[pos : pos + 1] != ",":
                    raise BadInput("expected ',' or ']' after an operation", source,
                                   _line(text, pos))
                pos = _skip(text, pos + 1)
    except json.JSONDecodeError as error:
        raise BadInput(f"not valid JSON: {error.msg}", source, error.lineno) from None
    if _skip(text, pos) != len(text):
        raise BadInput("unexpected text after the list", source, _line(text, pos))
    return steps


def _json_step(value: Any, source: str, line: int) -> Step:
    def bad(message: str) -> BadInput:
        return BadInput(message, source, line)

    if not isinstance(value, dict):
        raise bad('expected an object such as {"join": [1, 2]}')
    verbs = [k for k in value if k != "expect"]
    if len(verbs) != 1 or verbs[0] not in ("join", "leave", "move"):
        raise bad('expected one of the keys "join", "leave" or "move" (and optionally "expect")')
    verb, arg = verbs[0], value[verbs[0]]
    expect = None
    if "expect" in value:
        cells = value["expect"]
        if not isinstance(cells, list) or not all(_is_int(c) for c in cells):
            raise bad('"expect" must be a list of gids, one per shard')
        expect = tuple(cells)
    if verb == "join":
        if isinstance(arg, list) and all(_is_int(g) for g in arg) and arg:
            if len(set(arg)) != len(arg):
                raise bad("join names a group twice")
            return Step(line, Join.of({g: default_servers(g) for g in arg}), expect)
        if isinstance(arg, dict) and arg:
            groups: dict[int, tuple[str, ...]] = {}
            for key, servers in arg.items():
                if not _INT.fullmatch(key):
                    raise bad(f"group id {key!r} is not an integer")
                if (not isinstance(servers, list) or not servers
                        or not all(isinstance(s, str) for s in servers)):
                    raise bad(f"group {key}: expected a non-empty list of server names")
                groups[int(key)] = tuple(servers)
            return Step(line, Join.of(groups), expect)
        raise bad('"join" takes a non-empty list of gids or an object gid -> [servers]')
    if verb == "leave":
        if not (isinstance(arg, list) and arg and all(_is_int(g) for g in arg)):
            raise bad('"leave" takes a non-empty list of gids')
        return Step(line, Leave.of(arg), expect)
    if not (isinstance(arg, list) and len(arg) == 2 and all(_is_int(x) for x in arg)):
        raise bad('"move" takes [shard, gid]')
    return Step(line, Move(arg[0], arg[1]), expect)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


# ---- checking ---------------------------------------------------------------------------------


def check(steps: list[Step], source: str, *, nshards: int = NSHARDS,
          timeout_ms: int = 10_000) -> SequenceReport:
    """Apply the steps from configuration 0 and judge each (see the module docstring). An
    operation that cannot apply, or an assignment of the wrong shape, is bad input."""
    current = Configuration(0, (0,) * nshards, ())
    reports = []
    for index, step in enumerate(steps, 1):
        problem = invalid(current, step.op)
        if problem is not None:
            raise BadInput(f"{step.op.describe()}: {problem}", source, step.line)
        ours = change(current, step.op)
        after, judged = ours, "spec"
        if step.expect is not None:
            if len(step.expect) != nshards:
                raise BadInput(f"the assignment has {len(step.expect)} gids; expected one per "
                               f"shard ({nshards})", source, step.line)
            after, judged = Configuration(ours.num, step.expect, ours.groups), "given"
        if isinstance(step.op, Move):
            result = _judge_move(current, after, step.op)
        else:
            result = judge(current.shards, after.shards, after.gids, timeout_ms=timeout_ms)
        reports.append(StepReport(index, step, current, after, judged, result))
        current = after
    return SequenceReport(source, tuple(reports))


def _judge_move(before: Configuration, after: Configuration, op: Move) -> Minimality:
    moved = cost(before.shards, after.shards)
    balanced = is_balanced(after.shards, after.gids)
    if after.shards != change(before, op).shards:
        return Minimality(Verdict.VIOLATION, moved, None, balanced,
                          f"a Move changes exactly shard {op.shard}, to group {op.gid}")
    return Minimality(Verdict.OK, moved, None, balanced, "as requested (balance not required)")
