"""The shard controller's properties on a trace (a `shardctrler` trace, or the controller's
part of a `shardkv` trace), in the same pass as the Raft invariants of its servers.

Theory of operation
-------------------
The controller is one replicated state machine whose committed log holds the clerks' Join,
Leave, Move and Query calls (traces/README.md, "The shardctrler system"). From the trace the
judge keeps:

* the committed log — the command of the first `apply` of each index — and, replayed in
  index order, the changes that took effect (`executed`, no `error`): the k-th of them made
  configuration k;
* every configuration by number, as first shown by a server's `ctrl.latest`;
* each server's pending claim "applied through index i, my newest configuration is n".

And judges, each with the spec's own definitions (`spec.shardctrler`):

* ConfigurationsInOrder — configurations come one at a time, in log order: a server that
  applied through index i holds configuration n exactly when the log through i made n
  changes, and every server shows the same configuration under one number (judged once the
  log through i is known: a server's state is recorded before the applies of its step);
* Balanced and the rebalancing step's properties (MinimalMovement, JoinsGiveOldGroupsNothing,
  LeavesKeepSurvivorsShards) — on each configuration a Join or a Leave made, against the one
  before it (a Move puts one shard where it is told, and may unbalance: it is exempt, as in
  the spec), and GroupsWellFormed on every configuration.

What is bad input (a `ctrl` that is not `{applied, latest, dup}`, a configuration that is
not `{num, shards, groups}` of the right types, a command that is not `[kind, argument,
clerk, seq]`) raises BadInput.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any, TypeGuard

from spec import shardctrler as spec
from spec.errors import BadInput
from spec.shardctrler import Configuration

CHANGES = ("join", "leave", "move")
KINDS = (*CHANGES, "query")
Report = Callable[..., None]  # Findings.report
IN_ORDER = "ConfigurationsInOrder"


def configuration(raw: Any, path: str, line: int, what: str) -> Configuration:
    """A trace's configuration object as the spec's value; BadInput if it is not one."""
    try:
        num, shards, groups = raw["num"], raw["shards"], raw["groups"]
    except (KeyError, TypeError):
        raise BadInput(f"{what}: a configuration needs num, shards and groups", path,
                       line) from None
    if not (_is_int(num) and num >= 0 and isinstance(shards, list)
            and len(shards) == spec.NSHARDS and all(_is_int(g) and g >= 0 for g in shards)
            and isinstance(groups, dict) and all(
                k.isdigit() and isinstance(v, list) and all(isinstance(x, str) for x in v)
                for k, v in groups.items())):
        raise BadInput(f"{what}: a configuration is num (≥ 0), shards ({spec.NSHARDS} gids "
                       "≥ 0) and groups ({\"<gid>\": [server, …]})", path, line)
    return Configuration(num, tuple(shards),
                         tuple(sorted((int(g), tuple(v)) for g, v in groups.items())))


class CtrlJudge:
    """The controller's properties, event by event; violations go to `report`."""

    def __init__(self, path: str, report: Report) -> None:
        self.path = path
        self.report = report
        self.configs: dict[int, tuple[Configuration, int, str]] = {
            0: (spec.initial(), 0, "")}  # num -> (config, line, node) as first shown
        self.log: dict[int, tuple[list[Any], bool, bool, int]] = {}  # index -> cmd, exec, error, line
        self.replayed = 0
        self.changes: list[int] = []  # log indexes of the changes that took effect, in order
        self.made_by: dict[int, tuple[str, int]] = {}  # num -> (kind, line of its apply)
        self.judged: set[int] = set()  # configurations whose step was judged
        self.pending: dict[str, tuple[int, int, int, int]] = {}  # node -> applied, num, line, seq
        self.raw: dict[str, object] = {}

    @property
    def published(self) -> int:
        return max(self.configs)

    def state(self, node: str, state: dict[str, Any], line: int, seq: int) -> None:
        raw = state.get("ctrl")
        if raw is None:
            raise BadInput("state: a controller server's state needs \"ctrl\" (applied, latest, "
                           "dup)", self.path, line)
        if raw == self.raw.get(node):
            return
        self.raw[node] = raw
        applied = raw.get("applied") if isinstance(raw, dict) else None
        if not (_is_int(applied) and applied >= 0):
            raise BadInput("state.ctrl: applied must be an integer ≥ 0", self.path, line)
        latest = configuration(raw.get("latest"), self.path, line, "state.ctrl.latest")
        self.seen_config(latest, node, line, seq)
        self.pending[node] = (applied, latest.num, line, seq)
        self._settle(line, seq)

    def seen_config(self, config: Configuration, node: str, line: int, seq: int) -> None:
        """A configuration shown by a server (or carried by a message or a group's log)."""
        first = self.configs.get(config.num)
        if first is None:
            self.configs[config.num] = (config, line, node)
            self._judge_step(config.num, line, seq)
            self._judge_step(config.num + 1, line, seq)
        elif first[0] != config:
            self.report(IN_ORDER, line, seq, tuple(n for n in (first[2], node) if n),
                        f"configuration {config.num} is {config.describe()} here, but "
                        f"{first[0].describe()} at line {first[1]}", (first[1], line),
                        subject=f"#{config.num}")

    def crash(self, node: str) -> None:
        self.raw.pop(node, None)
        self.pending.pop(node, None)

    def apply(self, node: str, rec: dict[str, Any], line: int, seq: int) -> None:
        if rec.get("kind") != "command":
            return
        index, command, executed = rec.get("index"), rec.get("command"), rec.get("executed")
        if not (_is_int(index) and index >= 1 and isinstance(executed, bool)
                and isinstance(command, list) and len(command) == 4
                and command[0] in KINDS):
            raise BadInput("apply: a controller command's apply needs index ≥ 1, executed "
                           "(true/false) and command [kind (join|leave|move|query), argument, "
                           "clerk, seq]", self.path, line)
        if index in self.log:
            return
        self.log[index] = (command, executed, "error" in rec, line)
        while self.replayed + 1 in self.log:
            self.replayed += 1
            cmd, done, error, at = self.log[self.replayed]
            if cmd[0] in CHANGES and done and not error:
                self.changes.append(self.replayed)
                num = len(self.changes)
                self.made_by[num] = (cmd[0], at)
                self._judge_step(num, line, seq)
        self._settle(line, seq)

    def _settle(self, line: int, seq: int) -> None:
        """Judge every server's claim whose log is now known: its newest configuration is the
        number of changes the log made through its applied index."""
        for node, (applied, num, at, at_seq) in list(self.pending.items()):
            if applied > self.replayed:
                continue
            del self.pending[node]
            made = bisect.bisect_right(self.changes, applied)
            if made != num:
                self.report(IN_ORDER, at, at_seq, (node,),
                            f"{node} applied through index {applied}, where the log made "
                            f"{made} configuration change(s), but its newest configuration "
                            f"is {num}", (at,), subject=f"{node}@{applied}")

    def _judge_step(self, num: int, line: int, seq: int) -> None:
        if num in self.judged or num not in self.made_by or num not in self.configs \
                or num - 1 not in self.configs:
            return
        self.judged.add(num)
        kind, at = self.made_by[num]
        before, after = self.configs[num - 1][0], self.configs[num][0]
        shown = self.configs[num][1]
        checks: list[tuple[str, bool]] = [("GroupsWellFormed", spec.groups_kept(after))]
        if kind != "move":
            checks.append(("Balanced", spec.balanced(after)))
            checks += [(name, prop(before, after))
                       for name, prop in spec.STEP_PROPERTIES.items()]
        for name, ok in checks:
            if not ok:
                self.report(name, shown, seq, (self.configs[num][2],) if shown else (),
                            f"the {kind} applied at line {at} made {after.describe()} from "
                            f"{before.describe()}", (self.configs[num - 1][1], at, shown),
                            subject=f"#{num}")


def _is_int(x: object) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)
