"""The sharded KV invariants on a `shardkv` trace: the definitions of
`checker.invariants.shardkv` (the ones the model checker and the proof use), evaluated on a
`ShardView` rebuilt from the trace after every step that changes it.

Theory of operation
-------------------
The view (docs/shardkv-spec.md, "Evaluating the invariants on traces") is filled from the
groups (`checker.trace_check.shard_groups`: each group's most advanced replica's state, its
committed log replayed for the calls each shard's copy holds), the clerks' returns (a write
returned is acknowledged) and the controller (`published`: its newest configuration; the
configurations themselves as the controller's servers and the groups' `config` applies show
them). A trace records no messages in flight, so the invariants judged are
`checker.invariants.shardkv.TRACEABLE` (the four safety properties and the lemmas about the
groups alone) and ConfigurationsInOrder on each group's successive states.

Every one of those invariants is a conjunction over shards, and what it says of shard s
reads only shard s: its owner in each configuration, each group's status, copy and duplicate
table for it, and the calls on its keys. So the view is judged one shard at a time — for
shard s, a view of one shard (`S = 1`) whose configurations are column s, and whose "clerks"
are calls on s, one call each (`Q = 1`; a call is its own write id, acknowledged or not,
and a copy's duplicate table shows it when the shard's table has its clerk at its seq or
later). What the whole view says of shard s is what this one says.

Within a shard the same holds of calls: each invariant is a conjunction of terms about one
call (its count in each copy, its bit in each duplicate table, acknowledged or not, read
with the groups' statuses) and terms about no call (statuses, configuration numbers,
owners). So a step re-judges, on the view of shard s, only the calls whose terms it changed:

* a group's status of s changed, or its copy of s was reset: every call on s;
* a call executed, or was acknowledged, or moved a clerk's entry in a duplicate table: that
  call (for a table, the clerk's calls between the old and the new seq);
* a group's configuration number changed: the terms without calls, for every shard.

Every other term reads only what did not change, so its verdict stands: each state of the
trace is judged completely, at the size of what changed. ConfigurationsInOrder reads every
shard of a group (`settled`) and no calls: it is judged on a view of all shards without
calls, when a group's configuration number changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from checker.invariants import CONCRETE
from checker.invariants.shardkv import CONFIGURATIONS_IN_ORDER, TRACEABLE
from checker.invariants.shardkv_view import ABSENT, SENDING, SERVING, WAITING, ShardView
from checker.trace_check.shard_groups import Frozen, GroupReplay, Ident
from checker.trace_check.shardctrler import CtrlJudge
from spec.errors import BadInput
from spec.shardctrler import NSHARDS

STATUS_NAMES = {ABSENT: "absent", SERVING: "serving", WAITING: "waiting", SENDING: "sending"}
NAMES = [CONFIGURATIONS_IN_ORDER.name, *(inv.name for inv in TRACEABLE)]
Report = Callable[..., None]


class ShardJudge:
    def __init__(self, path: str, gids: list[int], ctrl: CtrlJudge, report: Report) -> None:
        self.path = path
        self.gids = gids
        self.groups = {gid: GroupReplay(gid, i, path) for i, gid in enumerate(gids)}
        self.index1 = {gid: i + 1 for i, gid in enumerate(gids)}  # gid -> the view's 1..G
        self.ctrl = ctrl
        self.report = report
        self.calls_of: list[list[Ident]] = [[] for _ in range(NSHARDS)]
        self.seqs_of: dict[tuple[int, int], list[int]] = {}  # (shard, clerk) -> its calls' seqs
        self.shard_of: dict[Ident, int] = {}
        self.acked: set[Ident] = set()  # writes acknowledged (their clerk took the reply)
        self.last_num: dict[int, int] = dict.fromkeys(gids, 0)
        self.last_status: dict[int, list[int]] = {gid: [ABSENT] * NSHARDS for gid in gids}
        self._configs: tuple[tuple[int, ...], ...] = ()
        self._configs_key = (-1, -1)
        self.evaluated = 0  # shard views judged

    def call(self, ident: Ident, shard: int) -> None:
        if ident not in self.shard_of:
            self.shard_of[ident] = shard
            self.calls_of[shard].append(ident)
            self.seqs_of.setdefault((shard, ident[0]), []).append(ident[1])

    def frozen_of(self, src: int, num: int, s: int, line: int) -> Frozen:
        """The copy of shard s that group `src` froze handing it off in configuration `num`
        (its current copy if it never did: a trace of a broken run)."""
        group = self.groups.get(src)
        if group is None:
            raise BadInput(f"apply: install from group {src}, which is not a group of this "
                           "trace (config.groups)", self.path, line)
        frozen = group.frozen.get((num, s))
        return frozen if frozen is not None else Frozen(dict(group.data[s]),
                                                        dict(group.store[s]))

    # ---- judging

    def group_changed(self, g: GroupReplay, line: int, seq: int) -> None:
        """Group g is consistent again: judge what its step changed."""
        best = g.best
        assert best is not None
        moved = best.num != self.last_num[g.gid]
        if moved:
            self._judge_order(g, line, seq)
        self.last_num[g.gid] = best.num
        self.last_status[g.gid] = list(best.status)
        for s in range(NSHARDS):
            if s in g.dirty_all:
                self.judge_shard(s, self.calls_of[s], line, seq, by=g)
                continue
            calls = set(g.dirty_calls.get(s, ()))
            for clerk, low, high in g.dirty_dup.get(s, ()):
                calls.update((clerk, q) for q in self.seqs_of.get((s, clerk), ())
                             if low < q <= high)
            if calls or moved:  # a new configuration number: the conjuncts without calls
                self.judge_shard(s, sorted(calls), line, seq, by=g)
        g.dirty_all.clear()
        g.dirty_calls.clear()
        g.dirty_dup.clear()

    def acknowledged(self, ident: Ident, line: int, seq: int) -> None:
        self.acked.add(ident)
        self.judge_shard(self.shard_of[ident], [ident], line, seq)

    def configs(self) -> tuple[tuple[int, ...], ...]:
        """Configurations 1..K as the view's group numbers (0: no group), K covering the
        controller's newest and every group's; one never shown repeats the one before."""
        known = self.ctrl.configs
        top = max([self.ctrl.published, *self.last_num.values()])
        if (top, len(known)) == self._configs_key:
            return self._configs
        out: list[tuple[int, ...]] = []
        last = tuple([0] * NSHARDS)
        for n in range(1, top + 1):
            config = known.get(n)
            if config is not None:
                last = tuple(self.index1.get(gid, 0) for gid in config[0].shards)
            out.append(last)
        self._configs, self._configs_key = tuple(out), (top, len(known))
        return self._configs

    def view(self, s: int, calls: Sequence[Ident]) -> ShardView:
        """The view of shard s alone with the calls `calls` (see the theory of operation)."""
        groups = [self.groups[gid] for gid in self.gids]
        status, data, dup, num = [], [], [], []
        for g in groups:
            best = g.best
            held = g.data[s]
            table = best.dup[s] if best is not None else {}
            num.append(best.num if best is not None else 0)
            status.append([best.status[s] if best is not None else ABSENT])
            data.append([[held.get(c, 0) for c in calls]])
            dup.append([[1 if table.get(c[0], 0) >= c[1] else 0 for c in calls]])
        configs = tuple((c[s],) for c in self.configs())
        return ShardView(G=len(groups), S=1, C=len(calls), Q=1, configs=configs,
                         published=self.ctrl.published, num=num,
                         status=status, data=data, dup=dup,
                         acked=[1 if c in self.acked else 0 for c in calls], messages=[])

    def judge_shard(self, s: int, calls: Sequence[Ident], line: int, seq: int,
                    only: str = "", by: GroupReplay | None = None) -> None:
        """Every traceable invariant's conjuncts about shard s and the calls `calls` (those
        without calls included): the rest of shard s's conjuncts read nothing that changed.
        `by`: the group whose step is judged (named in a violation)."""
        self.evaluated += 1
        v = self.view(s, calls)
        for inv in TRACEABLE:
            if only and inv.name != only:
                continue
            if not inv.holds(v, CONCRETE):
                self._report_shard(inv.name, s, calls, v, line, seq, by)

    def _judge_order(self, g: GroupReplay, line: int, seq: int) -> None:
        assert g.best is not None
        configs = self.configs()

        def whole(num: int, status: list[int]) -> ShardView:
            nums = [self.last_num[gid] for gid in self.gids]
            statuses = [[[st] for st in self.last_status[gid]] for gid in self.gids]
            nums[g.index] = num
            statuses[g.index] = [[st] for st in status]
            return ShardView(G=len(self.gids), S=NSHARDS, C=0, Q=0, configs=configs,
                             published=len(configs), num=nums,
                             status=[[row[0] for row in st] for st in statuses],
                             data=[[[] for _ in range(NSHARDS)] for _ in self.gids],
                             dup=[[[] for _ in range(NSHARDS)] for _ in self.gids],
                             acked=[], messages=[])

        before = whole(self.last_num[g.gid], self.last_status[g.gid])
        after = whole(g.best.num, g.best.status)
        if not CONFIGURATIONS_IN_ORDER.holds(before, after, CONCRETE):
            was = self.last_num[g.gid]
            unsettled = [s for s in range(NSHARDS) if self.last_status[g.gid][s] != (
                SERVING if configs and was >= 1 and configs[was - 1][s] == g.index + 1
                else ABSENT)]
            why = (f"from configuration {was} to {g.best.num}" if g.best.num != was + 1 else
                   f"to configuration {g.best.num} while shards {unsettled} of configuration "
                   f"{was} were not settled")
            self.report(CONFIGURATIONS_IN_ORDER.name, line, seq, (g.best.node,),
                        f"group {g.gid} went {why}", (g.best.line,), subject=f"g{g.gid}")

    def _report_shard(self, name: str, s: int, calls: Sequence[Ident], v: ShardView, line: int,
                      seq: int, by: GroupReplay | None) -> None:
        groups = [self.groups[gid] for gid in self.gids]
        holders = [g for g in groups if v.status[g.index][0] != ABSENT and g.best is not None]
        state = "; ".join(f"group {g.gid} in #{v.num[g.index]} "
                          f"{STATUS_NAMES[v.status[g.index][0]]}"
                          for g in holders) or "no group holds it"
        detail = f"shard {s}: {state}"
        if name == "NoCallAppliedTwice":
            twice = next(((g.gid, calls[w]) for g in groups
                          for w, n in enumerate(v.data[g.index][0]) if n > 1), None)
            if twice is not None:
                detail += (f"; group {twice[0]}'s copy holds call c{twice[1][0]}#{twice[1][1]} "
                           "applied twice")
        elif name == "NoAckedWriteLost":
            lost = [c for w, c in enumerate(calls) if v.acked[w] and not any(
                v.status[g.index][0] in (SERVING, SENDING) and v.data[g.index][0][w]
                for g in groups)]
            if lost:
                detail += (f"; acknowledged write c{lost[0][0]}#{lost[0][1]} is in no copy that "
                           "a group serves or hands off")
        if by is not None and by.best is not None:
            detail += f" (after group {by.gid}'s step through index {by.best.applied})"
            if by not in holders:
                holders.append(by)
        nodes = tuple(g.best.node for g in holders if g.best is not None)
        lines = tuple(g.best.line for g in holders if g.best is not None)
        self.report(name, line, seq, nodes, detail, lines, subject=f"shard {s}")
