"""`dscheck check-trace` on `shardctrler` and `shardkv` traces: one pass, one report.

Theory of operation
-------------------
A `shardctrler` trace is one Raft group (the controller's servers) running the controller; a
`shardkv` trace is that group plus one Raft group per replica group running the sharded
service, and the clerks. Each event goes to the judges it concerns, all reporting into one
list (`checker.trace_check.groups.Findings`):

* every server's Raft part, to its group's Raft checker (`RaftGroups`): each group judged as a
  `raft` trace is;
* the controller's servers' `ctrl` state and applies, to the controller's properties
  (`checker.trace_check.shardctrler`);
* (shardkv) each group server's `shardkv` state and applies, to its group's replay
  (`checker.trace_check.shard_groups`), and, once the group is consistent again, to the
  sharded KV invariants (`checker.trace_check.shard_judge`);
* (shardkv) the key/value properties of `spec.kv`, per group, on the group's replay (its
  `spec.kv.View`): ReplicasAgree (replicas of a group that applied the same index show the
  same configuration and shards), NoCallAppliedTwice (a call executes at no more than one
  index of a group's log), NoStaleRead (a call takes effect in a group at an index no lower
  than that group's commit index when it was invoked), and ReplyMatchesState (a get returns
  its key's value where it took effect, in some group; a write is acknowledged only once
  some group executed it). The key/value service's NoAckedWriteLost reads one store holding
  every key; across migrations a group's store loses the shards it hands off, so that
  property is the sharded one here (an acknowledged write stays in a copy some group serves
  or hands off).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, Any, TypeGuard

from checker.invariants import LEADER_APPEND_ONLY, TRACEABLE
from checker.trace_check.check import APPLIED_SMS, WELL_FORMED, TraceResult
from checker.trace_check.groups import Findings, RaftGroups
from checker.trace_check.reader import STATE_EVENTS, Header, read_events
from checker.trace_check.shard_groups import CLERK_KINDS, GroupReplay
from checker.trace_check.shard_judge import NAMES as SHARD_NAMES
from checker.trace_check.shard_judge import ShardJudge
from checker.trace_check.shardctrler import CtrlJudge, configuration
from checker.verdict import Verdict
from impl.shardkv.messages import key2shard
from spec import kv
from spec import shardctrler as ctrl_spec
from spec.errors import BadInput
from spec.kv import Call, Machine, Op

CTRL_NAMES = ["ConfigurationsInOrder", *ctrl_spec.INVARIANTS, *ctrl_spec.STEP_PROPERTIES]
KV_NAMES = ["ReplicasAgree", "NoCallAppliedTwice", "ReplyMatchesState", "NoStaleRead"]


def check_groups_trace(path: Path, stream: IO[str], header: Header,
                       max_violations: int) -> TraceResult:
    name = str(path)
    start = time.perf_counter()
    controllers, groups = _layout(header, name)
    findings = Findings(max_violations)
    raft = RaftGroups(name, {"controller": controllers,
                             **{f"group {gid}": names for gid, names in groups.items()}},
                      findings)
    ctrl = CtrlJudge(name, findings.report)
    service = _Service(name, list(groups), ctrl, findings) if header.system == "shardkv" \
        else None
    group_of = {n: gid for gid, names in groups.items() for n in names}
    events = 0
    for ev in read_events(stream, name, header):
        events += 1
        node, what, rec = ev.node, ev.event, ev.record
        if not raft.is_server(node):
            if service is not None and what == "invoke":
                service.invoke(rec, ev.line)
            elif service is not None and what == "return":
                service.returned(rec, ev.line, ev.seq)
            continue
        assert isinstance(node, str)
        gid = group_of.get(node)
        broken: list[str] = []  # the format's rules the service's part of a state breaks
        if what in STATE_EVENTS and "state" in rec and rec["state"] != raft.raw.get(node):
            state = rec["state"]
            if not isinstance(state, dict):
                raise BadInput("\"state\" must be an object", name, ev.line)
            if gid is None:
                ctrl.state(node, state, ev.line, ev.seq)
            elif service is not None:
                broken = service.state(gid, node, state, ev.line, ev.seq)
        elif what == "crash" and gid is None:
            ctrl.crash(node)
        elif what == "apply" and gid is None:
            ctrl.apply(node, rec, ev.line, ev.seq)
        elif what == "apply" and service is not None and gid is not None:
            service.apply(gid, rec, ev.line, ev.seq)
        raft.event(node, what, rec, ev.line, ev.seq, broken)
    names = [WELL_FORMED, *(inv.name for inv in TRACEABLE), LEADER_APPEND_ONLY.name,
             f"{APPLIED_SMS} (applied)", *CTRL_NAMES]
    if service is not None:
        # One name per property: NoCallAppliedTwice is judged per group (one index of its
        # log) and per shard's copy (across migrations); TypeOK of Raft and of the view.
        names = list(dict.fromkeys([*names, *KV_NAMES, *SHARD_NAMES]))
    verdict = Verdict.VIOLATION if findings.violations else Verdict.OK
    return TraceResult(name, verdict, len(raft.where), events, raft.states, raft.evaluated,
                       time.perf_counter() - start, names, findings.violations, header.system,
                       service.returns if service is not None else 0, len(groups))


def _layout(header: Header, path: str) -> tuple[list[str], dict[int, list[str]]]:
    """The controller's servers and each group's, in Raft's peer order (BadInput if the
    header's config does not give them)."""
    config = header.config
    key = "servers" if header.system == "shardctrler" else "controllers"
    controllers = config.get(key)
    if not (isinstance(controllers, list) and controllers
            and all(isinstance(n, str) for n in controllers)):
        raise BadInput(f"a {header.system} trace's config.{key} must list the controller's "
                       "server names", path, 1)
    groups: dict[int, list[str]] = {}
    if header.system == "shardkv":
        raw = config.get("groups")
        if not (isinstance(raw, dict) and all(
                k.isdigit() and int(k) > 0 and isinstance(v, list) and v
                and all(isinstance(n, str) for n in v) for k, v in raw.items())):
            raise BadInput("a shardkv trace's config.groups must map each gid (> 0) to its "
                           "server names", path, 1)
        groups = {int(k): list(v) for k, v in sorted(raw.items(), key=lambda kv: int(kv[0]))}
    every = [*controllers, *(n for names in groups.values() for n in names)]
    if len(set(every)) != len(every):
        raise BadInput("a server is named twice in config", path, 1)
    return controllers, groups


class _Service:
    """The sharded service's judges: each group's replay and key/value properties, and the
    sharded KV invariants over all of them."""

    def __init__(self, path: str, gids: list[int], ctrl: CtrlJudge, findings: Findings) -> None:
        self.path = path
        self.ctrl = ctrl
        self.findings = findings
        self.judge = ShardJudge(path, gids, ctrl, findings.report)
        self.groups: dict[int, GroupReplay] = self.judge.groups
        self.calls: dict[tuple[int, int], Call] = {}
        self.fresh: dict[tuple[int, int], dict[int, int]] = {}  # per group, at invoke
        self.call_ids: dict[int, tuple[int, int]] = {}
        self.call_lines: dict[tuple[int, int], int] = {}
        self.returns = 0

    def state(self, gid: int, node: str, state: dict[str, Any], line: int,
              seq: int) -> list[str]:
        """A group server's new state; the format's rules its `shardkv` part breaks (judged
        as WellFormedState with the Raft part's)."""
        g = self.groups[gid]
        commit = state.get("commit_index")
        if isinstance(commit, int):
            g.max_commit = max(g.max_commit, commit)
        raw = state.get("shardkv")
        if raw is None:
            raise BadInput("state: a group server's state needs \"shardkv\" (gid, num, "
                           "applied, shards)", self.path, line)
        rec = g.state(node, raw, line)
        first = g.first.setdefault(rec.applied, (rec.canonical, node, line))
        if not kv.replicas_agree(g, Machine(rec.applied, rec.canonical, ())):
            self.findings.report(
                "ReplicasAgree", line, seq, (first[1], node),
                f"group {gid}: {node} applied through index {rec.applied} shows configuration "
                f"{rec.num} and shards {_shards(raw)}, but {first[1]} showed "
                f"{_short(first[0])} there", (first[2], line), subject=f"g{gid}")
        self._settle(g, line, seq)
        if rec.applied != state.get("last_applied", rec.applied):
            return [f"shardkv.applied {rec.applied} is not last_applied {state['last_applied']}"]
        return []

    def apply(self, gid: int, rec: dict[str, Any], line: int, seq: int) -> None:
        if rec.get("kind") != "command":
            return
        g = self.groups[gid]
        command = rec.get("command")
        if isinstance(command, list) and command and command[0] in CLERK_KINDS \
                and len(command) == 5 and isinstance(command[1], str):
            self.judge.call((command[3], command[4]), key2shard(command[1]))
        first = g.apply(rec, line, self.judge.frozen_of)
        if first is not None and first[1].command[0] == "config" and first[1].executed:
            cmd = first[1].command
            self.ctrl.seen_config(configuration(
                {"num": cmd[1], "shards": cmd[2], "groups": cmd[3]}, self.path, line,
                "apply"), g.best.node if g.best is not None else "", line, seq)
        for s in sorted(g.twice):
            # A copy that holds a call twice breaks NoCallAppliedTwice whatever the rest of the
            # step does: judged at once (a run may stop mid-step, its trace with it).
            self.judge.judge_shard(s, self.judge.calls_of[s], line, seq,
                                   only="NoCallAppliedTwice")
        g.twice.clear()
        for ident in g.new_effects:
            self._judge_effect(g, ident, line, seq)
        g.new_effects.clear()
        self._settle(g, line, seq)

    def _settle(self, g: GroupReplay, line: int, seq: int) -> None:
        if g.consistent() and (g.dirty() or (
                g.best is not None and g.best.num != self.judge.last_num[g.gid])):
            self.judge.group_changed(g, line, seq)

    # ---- clerk calls

    def invoke(self, rec: dict[str, Any], line: int) -> None:
        op, call = rec.get("op"), rec.get("call")
        if not isinstance(op, dict) or op.get("type") not in CLERK_KINDS:
            return  # a controller call (the tester's joins and leaves)
        kind = op["type"]
        key, value, clerk, q = op.get("key"), op.get("value"), op.get("clerk"), op.get("seq")
        if not (isinstance(key, str) and (kind == "get" or isinstance(value, str))
                and _is_int(clerk) and _is_int(q) and q >= 1 and _is_int(call)):
            raise BadInput(f"invoke: a {kind} needs call, op.key and op.clerk, op.seq ≥ 1"
                           f"{'' if kind == 'get' else ' and op.value'} of the right types",
                           self.path, line)
        ident = (clerk, q)
        self.calls[ident] = Call(Op(kind, key, None if kind == "get" else value, clerk, q), 0)
        self.fresh[ident] = {gid: g.max_commit for gid, g in self.groups.items()}
        self.call_ids[call] = ident
        self.call_lines[ident] = line
        self.judge.call(ident, key2shard(key))

    def returned(self, rec: dict[str, Any], line: int, seq: int) -> None:
        ident = self.call_ids.pop(rec.get("call"), None)  # type: ignore[arg-type]
        if ident is None:
            return  # not a key/value call
        call = self.calls[ident]
        output = rec.get("output")
        value = output.get("value") if isinstance(output, dict) else None
        if call.op.kind == "get" and not isinstance(value, str):
            raise BadInput("return: a get's output needs value (a string)", self.path, line)
        self.returns += 1
        call = Call(call.op, 0, True, value if call.op.kind == "get" else None)
        self.calls[ident] = call
        # Some group where the call took effect must show what the clerk was told.
        views = [g for g in self.groups.values() if g.effects_of(*ident)] or \
            [next(iter(self.groups.values()))]
        if not any(kv.reply_matches_state(g, call) for g in views):
            self._report_call("ReplyMatchesState", call, views, line, seq)
        if call.op.kind != "get":
            self.judge.acknowledged(ident, line, seq)

    def _judge_effect(self, g: GroupReplay, ident: tuple[int, int], line: int,
                      seq: int) -> None:
        call = self.calls.get(ident)
        if call is None:
            return  # a call whose invoke the trace does not show: nothing to hold it to
        if not kv.no_call_applied_twice(g, call):
            self._report_call("NoCallAppliedTwice", call, [g], line, seq)
        fresh = Call(call.op, self.fresh[ident][g.gid], call.returned, call.output)
        if not kv.no_stale_read(g, fresh):
            self._report_call("NoStaleRead", fresh, [g], line, seq)

    def _report_call(self, name: str, call: Call, views: list[GroupReplay], line: int,
                     seq: int) -> None:
        op = call.op
        who = f"c{op.clerk}#{op.seq} ({op.kind} {op.key!r})"
        where = "; ".join(f"group {g.gid} at indexes {[e.index for e in g.effects_of(op.clerk, op.seq)]}"
                          for g in views if g.effects_of(op.clerk, op.seq)) or "no group"
        if name == "NoCallAppliedTwice":
            detail = f"{who} executed more than once: {where}"
        elif name == "NoStaleRead":
            detail = (f"{who} took effect ({where}) below group {views[0].gid}'s commit index "
                      f"{call.fresh} when it was invoked")
        elif op.kind != "get":
            detail = f"{who} was acknowledged, but no group executed it"
        else:
            made = {(g.gid, e.index): g.value_at(e.index, op.key) or "" for g in views
                    for e in g.effects_of(op.clerk, op.seq) if e.index <= g.known_through()}
            detail = (f"{who} returned {call.output!r}, but where it took effect ({where}) the "
                      f"logs make {', '.join(f'{v!r}' for v in made.values()) or 'nothing'}")
        lines = [self.call_lines.get((op.clerk, op.seq), 0)]
        lines += [n for g in views for n in g.effect_lines.get((op.clerk, op.seq), [])][-3:]
        self.findings.report(name, line, seq, (), detail, tuple(lines),
                             call=f"c{op.clerk}#{op.seq}")


def _shards(raw: Any) -> str:
    shards = raw.get("shards", {}) if isinstance(raw, dict) else {}
    return "{" + ", ".join(f"{s}: {v.get('status')} {v.get('digest')}"
                           for s, v in sorted(shards.items())) + "}"


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."


def _is_int(x: object) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)
