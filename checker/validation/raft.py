"""Validating a Raft trace against `spec.raft`: every event matched to a spec action.

Theory of operation
-------------------
The validator holds one spec `State`: where the spec stands after the trace's prefix. For
each event it evaluates the spec's own action functions (`spec.raft_next`,
`spec.raft_receive`) on that state, with a configuration whose bounds never bind
(`step_config`: a trace's terms and indexes are unbounded, and it is judged by the spec's
transition rules, not by a model's bounds), and compares the result with what the trace
recorded, through the one mapping (`checker.validation.raft_mapping`). Events map to actions:

| event | spec action |
| --- | --- |
| `receive` of message m | `Receive(m)`: the term rule, the RPC's rule, and its reply, which must be the next message the server sends |
| `timer` election | `Timeout(i)` (a stutter at a leader, which ignores it) |
| `timer` heartbeat | a stutter; the AppendEntries it sends are each `AppendEntries(i→j)` |
| `send` of a request | `RequestVote(i→j)`, `AppendEntries(i→j)` or `InstallSnapshot(i→j)`, enabled in the sender's state |
| `send` of a reply | the reply of the step before (`Receive` puts it in flight) |
| `return` of `start` | `ClientRequest(i)` at a leader, a stutter elsewhere |
| `return` of `snapshot(k)` | `Compact(i)` of the prefix through k (a stutter when k is stale or not yet committed) |
| `crash` … `restart` | `Restart(i)`; the first `restart` of a server is its first boot, a stutter |
| `drop` of message m | `Drop(m)` |
| `network`, `invoke` | stutters (the tester's, not a server's) |
| `apply` | a stutter that must apply committed entries only, in order (ApplyCommitted) |

A step's state is compared field by field on the spec-visible projection (`ServerView`);
messages by their spec fields. The spec keeps bookkeeping the trace does not record (votes
gathered, `match_index`, `next_index`); the validator carries the spec's own values forward,
so a leader commits exactly when the spec would. Two places where the implementation chooses
on purpose, and the spec leaves the choice to its state:

* `next_index`: the core backs up a whole term at a time (§5.3's optimisation), the spec one
  entry. An AppendEntries is matched with the spec's `next_index[i][j]` set to the message's
  `prev_index + 1` — the choice read from the message — and its entries may be a prefix of
  the spec's (the core caps a batch): any prefix of a leader's entries after a matching
  `prev_index` is a message the spec's receiver handles by its rules.
* the compaction point: the service may snapshot any applied prefix; `Compact` is evaluated
  with the commit index read as the prefix's end.

Where the trace leaves a choice open, candidates are tried in order and the step matches the
first whose result equals the recording; an event that needed more than the first is counted
as searched. With the simulator's traces two such choices remain, both where a server's
snapshot already covers what a message is about: an InstallSnapshot it has committed past
(the core keeps its log, the spec takes the snapshot: the same committed entries either
way), and an AppendEntries wholly inside its snapshot (the core answers with the snapshot's
last index, the spec with the request's: both true of its log).

The persistence contract (`persist` on a step's line, traces/README.md): what a server
persisted must equal its persistent state (term, vote, log, snapshot) whenever it sends a
message (PersistBeforeSend), and a restart must recover exactly its last persisted state
(RestartRecoversPersisted).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from checker.trace_check.reader import Event, Header, server_rec
from checker.validation.engine import Binding
from checker.validation.raft_mapping import (
    INITIAL_VIEW,
    TRACE_OF_ROLE,
    UNKNOWN_VALUE,
    view_of_spec,
    view_of_trace,
)
from checker.validation.raft_mapping import spec_message as map_message
from checker.validation.raft_persist import (
    FIRST_BOOT,
    PersistentPart,
    durable_part,
    persistent_changed,
    runs_of,
)
from checker.validation.result import (
    APPLY_COMMITTED,
    PERSIST_BEFORE_SEND,
    REFINEMENT,
    RESTART_RECOVERS_PERSISTED,
    Mismatch,
    Tried,
)
from spec.errors import BadInput
from spec.raft import (
    AppendEntries,
    AppendEntriesReply,
    Config,
    InstallSnapshot,
    Message,
    RequestVote,
    RequestVoteReply,
    Role,
    State,
    client_request,
    compact,
    describe_message,
    initial_states,
    install_snapshot,
    last_index,
    receive,
    request_vote,
    restart,
    timeout,
)
from spec.raft_next import append_entries
from spec.raft_types import tuple_set, updated

STUTTER = "stutter"
_UNBOUNDED = sys.maxsize
_REPLIES = (RequestVoteReply, AppendEntriesReply)


def step_config(servers: int) -> Config:
    """The spec's configuration for judging steps: `servers` servers, every bound past what
    a trace can hold, drops and duplicates allowed, snapshots on, no fault flag. `Config`'s
    own check keeps a *model* within what a model checker can explore (1..5 servers, terms
    ≤ 10); it is not a rule of the protocol, so this instance is built past it."""
    config = object.__new__(Config)
    for name, value in (("servers", servers), ("max_term", _UNBOUNDED),
                        ("max_log", _UNBOUNDED), ("values", 1),
                        ("max_messages", _UNBOUNDED), ("max_restarts", _UNBOUNDED),
                        ("drops", True), ("duplicates", True), ("snapshots", True),
                        ("bugs", frozenset())):
        object.__setattr__(config, name, value)
    return config


class RaftStepper:
    """The action matcher for one Raft trace (see the module docstring)."""

    def __init__(self, header: Header, path: str) -> None:
        assert header.servers is not None
        self.path = path
        self.n = n = header.servers
        self.cfg = step_config(n)
        self.s: State = initial_states(self.cfg)[0]
        self.actions: Counter[str] = Counter()
        self.searched = 0
        self.check_types = True
        self.raw: list[Mapping[str, Any] | None] = [None] * n  # last recorded state
        self.state_line = [0] * n
        self.booted = [False] * n
        self.down = [False] * n
        self.crash_line = [0] * n
        self.inflight: dict[Any, tuple[Message, int]] = {}  # id → message, its send line
        self.reply_due: list[tuple[Message, int] | None] = [None] * n
        self.durable: list[Mapping[str, Any]] = [FIRST_BOOT] * n
        self.durable_line = [0] * n
        self.durable_ok = [True] * n
        self.dirty_line = [0] * n
        self.applied = [0] * n
        self.calls: dict[Any, Mapping[str, Any]] = {}
        self.inflight_seen: Message = RequestVote(0, 0, 0, 0, 0)  # the message being received
        # The last (spec log, recorded log) known equal, per server: most steps leave a log
        # as it was, and a C-level comparison of the recorded lists then settles it.
        self.known_logs: list[tuple[tuple[Any, ...], list[Any]]] = [((), [])] * n
        # The last recorded log of each server and its runs (the `persist` form): a log
        # mostly grows at its end, so the runs of the prefix it still holds are reused.
        self.known_runs: list[tuple[list[Any], list[list[int]]]] = [([], [])] * n
        self._handlers: dict[str, Callable[[Event, int], Mismatch | None]] = {
            "receive": self._receive, "send": self._send, "drop": self._drop,
            "timer": self._timer, "return": self._return, "restart": self._restart,
            "crash": self._crash, "apply": self._apply}

    # -- the engine's interface ------------------------------------------------------------
    def event(self, ev: Event) -> Mismatch | None:
        node = ev.node
        if type(node) is not int:
            self.actions[STUTTER] += 1  # the tester's network changes and clients' calls
            return None
        handler = self._handlers.get(ev.event)
        if handler is None:
            if ev.event == "invoke":
                self.calls[ev.record.get("call")] = ev.record.get("op") or {}
            self.actions[STUTTER] += 1  # invoke, network, and names a later version adds
            return None
        return handler(ev, node)

    def finish(self) -> Mismatch | None:
        for node, due in enumerate(self.reply_due):
            if due is not None:
                return self._unsent_reply(node, due, None)
        return None

    # -- steps of a server -----------------------------------------------------------------
    def _step(self, ev: Event, node: int, candidates: list[tuple[str, State | None, str]],
              extra_lines: tuple[int, ...] = ()) -> Mismatch | None:
        """The recorded state after the step must be one candidate's result (name, the spec
        state, a note); the first that fits is taken."""
        due = self.reply_due[node]
        if due is not None:
            return self._unsent_reply(node, due, ev)
        raw = ev.record.get("state")
        if raw is None:
            raise BadInput(f"{ev.event} event without \"state\"", self.path, ev.line)
        unchanged = raw == self.raw[node]
        if not unchanged and self.check_types:
            server_rec(raw, self.path, ev.line, self.n)  # the types, else bad input
        for k, (name, expected, _) in enumerate(candidates):
            # A stutter on a state recorded as it was: the state matched before, so it does.
            if expected is not None and ((expected is self.s and unchanged)
                                         or self._same(expected, node, raw)):
                if k:
                    self.searched += 1
                self.actions[name.partition("(")[0]] += 1
                self.s = expected
                return self._accept(ev, node, raw)
        if ev.event == "receive":
            sent = self.inflight_seen
            candidates = [(f"Receive({describe_message(sent)})", e, note)
                          for _, e, note in candidates]
        view = view_of_trace(raw)
        tried = [Tried(name, tuple(view_of_spec(expected, node).diff(view))
                       if expected is not None else (), note)
                 for name, expected, note in candidates]
        names = " or ".join(name for name, _, _ in candidates)
        return self._mismatch(REFINEMENT, ev, node,
                              f"s{node}'s state after this {ev.event} is not what the spec's "
                              f"{names} gives", tried,
                              (self.state_line[node], *extra_lines, ev.line))

    def _accept(self, ev: Event, node: int, raw: Mapping[str, Any]) -> Mismatch | None:
        before = self.raw[node]
        self.raw[node] = raw
        self.state_line[node] = ev.line
        persisted = ev.record.get("persist")
        if persisted is not None:
            self.durable[node] = persisted
            self.durable_line[node] = ev.line
            self._judge_durable(node, ev.line)
        elif before is None or persistent_changed(before, raw):
            self._judge_durable(node, ev.line)
        return None

    def _judge_durable(self, node: int, line: int) -> None:
        raw = self.raw[node]
        assert raw is not None
        ok = self._persistent_part(node, raw) == durable_part(self.durable[node], self.path,
                                                               line)
        if not ok and self.durable_ok[node]:
            self.dirty_line[node] = line
        self.durable_ok[node] = ok

    def _persistent_part(self, node: int, raw: Mapping[str, Any]) -> PersistentPart:
        """`raft_persist.persistent_part(raw)`, its runs extended from the last ones when the
        log only grew (tests hold the two equal)."""
        log = raw["log"]
        known_log, known_runs = self.known_runs[node]
        keep = len(known_log)
        if log is known_log:
            runs = known_runs
        elif keep and len(log) >= keep and log[:keep] == known_log:
            runs = runs_of(log[keep:], [*known_runs[:-1], list(known_runs[-1])])
        else:
            runs = runs_of(log)
        self.known_runs[node] = (log, runs)
        return (raw["term"], raw["voted_for"], raw["snapshot_index"], raw["snapshot_term"],
                runs)

    def _same(self, expected: State, i: int, raw: Mapping[str, Any]) -> bool:
        """`view_of_spec(expected, i) == view_of_trace(raw)`, fast (tests hold the two
        equal): scalars first, then the log, skipping what is known equal."""
        snapshot = expected.snapshot[i]
        if (expected.term[i] != raw["term"] or expected.voted_for[i] != raw["voted_for"]
                or expected.commit_index[i] != raw["commit_index"]
                or snapshot.index != raw["snapshot_index"]
                or snapshot.term != raw["snapshot_term"]
                or TRACE_OF_ROLE[expected.role[i]] != raw["role"]):
            return False
        log, recorded = expected.log[i], raw["log"]
        if len(log) != len(recorded):
            return False
        known_log, known_recorded = self.known_logs[i]
        if log is known_log and (recorded is known_recorded or recorded == known_recorded):
            return True
        # Entries the spec kept are the same objects: compare only past them.
        start = min(len(known_log), len(log))
        if not (log[:start] == known_log[:start] and recorded[:start] == known_recorded[:start]):
            start = 0
        if any(entry.term != pair[1] for entry, pair in zip(log[start:], recorded[start:],
                                                             strict=True)):
            return False
        self.known_logs[i] = (log, recorded)
        return True

    # -- events ----------------------------------------------------------------------------
    def _receive(self, ev: Event, node: int) -> Mismatch | None:
        sent = self.inflight.pop(ev.record.get("id"), None)
        if sent is None:
            return self._mismatch(REFINEMENT, ev, node,
                                  f"s{node} receives message {ev.record.get('id')!r}, which is "
                                  "not in flight (never sent, or already delivered or dropped)",
                                  [], (ev.line,))
        m, send_line = sent
        self.inflight_seen = m
        if m.dst != node:
            raise BadInput(f"message {ev.record.get('id')} was sent to s{m.dst}, "
                           f"not s{node}", self.path, ev.line)
        before = self.s
        post = receive(updated(before, network=frozenset({m})), self.cfg, m, keep=False)
        assert post is not None  # the network is unbounded
        reply = next(iter(post.network), None)
        name = "Receive"
        candidates: list[tuple[str, State | None, str]] = [(name, post, "")]
        if isinstance(m, InstallSnapshot) and m.last_index <= before.commit_index[node]:
            # The core ignores a snapshot it has committed past (its log holds those entries);
            # the spec installs it. Same committed entries, a different compaction point.
            kept = updated(post, snapshot=tuple_set(post.snapshot, node, before.snapshot[node]),
                           log=tuple_set(post.log, node, before.log[node]))
            candidates.append((name, kept, "the snapshot is already committed: log kept"))
        found = self._step(ev, node, candidates, (send_line,))
        if found is None and reply is not None:
            self.reply_due[node] = (reply, ev.line)
        return found

    def _timer(self, ev: Event, node: int) -> Mismatch | None:
        name = ev.record.get("timer")
        if name == "election":
            nxt = timeout(self.s, self.cfg, node)
            if nxt is not None:
                return self._step(ev, node, [(f"Timeout(s{node})", nxt, "")])
        elif name != "heartbeat":
            raise BadInput(f"timer {name!r} is not a Raft timer (election, heartbeat)",
                           self.path, ev.line)
        return self._step(ev, node, [(STUTTER, self.s, f"{name} timer")])

    def _return(self, ev: Event, node: int) -> Mismatch | None:
        op = self.calls.pop(ev.record.get("call"), None) or {}
        if "state" not in ev.record:
            self.actions[STUTTER] += 1
            return None
        kind, s = op.get("type"), self.s
        if kind == "start":
            output = ev.record.get("output") or {}
            if output.get("is_leader"):
                nxt = client_request(s, self.cfg, node, UNKNOWN_VALUE)
                return self._step(ev, node, [(f"ClientRequest(s{node})", nxt,
                                              "" if nxt else "not enabled: not a leader")])
            return self._step(ev, node, [(STUTTER, s, "start at a non-leader")])
        if kind == "snapshot":
            upto = op.get("index")
            if type(upto) is not int:
                raise BadInput("snapshot call without an integer index", self.path, ev.line)
            if s.snapshot[node].index < upto <= s.commit_index[node]:
                at = updated(s, commit_index=tuple_set(s.commit_index, node, upto))
                taken = compact(at, self.cfg, node)
                assert taken is not None
                nxt = updated(taken, commit_index=s.commit_index)
                return self._step(ev, node, [(f"Compact(s{node})", nxt, f"through {upto}")])
            return self._step(ev, node, [(STUTTER, s, f"snapshot({upto}): stale or "
                                          "not yet committed")])
        raise BadInput(f"call {ev.record.get('call')!r}: {kind!r} is not a Raft call "
                       "(start, snapshot)", self.path, ev.line)

    def _crash(self, ev: Event, node: int) -> Mismatch | None:
        due = self.reply_due[node]
        if due is not None:
            return self._unsent_reply(node, due, ev)
        self.down[node] = True
        self.crash_line[node] = ev.line
        self.actions[STUTTER] += 1
        return None

    def _restart(self, ev: Event, node: int) -> Mismatch | None:
        raw = ev.record.get("state")
        if not self.booted[node]:
            self.booted[node] = True  # first boot: the spec's initial state
            return self._step(ev, node, [(STUTTER, self.s, "first boot")])
        if not isinstance(raw, Mapping):
            raise BadInput("restart event without \"state\"", self.path, ev.line)
        if self.check_types:
            server_rec(raw, self.path, ev.line, self.n)
        durable = durable_part(self.durable[node], self.path, ev.line)
        recovered = self._persistent_part(node, raw)
        if recovered != durable:
            names = ("term", "voted_for", "snapshot_index", "snapshot_term", "log")
            diff = tuple((f, d, r) for f, d, r in zip(names, durable, recovered, strict=True)
                         if d != r)
            return self._mismatch(
                RESTART_RECOVERS_PERSISTED, ev, node,
                f"s{node} restarted with a state other than the one it last persisted",
                [Tried(f"Restart(s{node})", diff, "expected: what was persisted")],
                (self.durable_line[node], self.crash_line[node], ev.line))
        self.down[node] = False
        nxt = restart(self.s, self.cfg, node)
        # The spec's Restart is not a step when nothing volatile is lost (spec.raft_next).
        found = self._step(ev, node, [(f"Restart(s{node})", nxt or self.s, "")],
                           (self.crash_line[node],))
        if found is None:
            self.applied[node] = raw.get("last_applied", raw["snapshot_index"])
        return found

    def _send(self, ev: Event, node: int) -> Mismatch | None:
        rec = ev.record
        to, msg = rec.get("to"), rec.get("msg")
        if type(to) is not int or not 0 <= to < self.n or not isinstance(msg, Mapping):
            raise BadInput("send: \"to\" must be a server and \"msg\" an object",
                           self.path, ev.line)
        try:
            m = map_message(node, to, msg)
        except (KeyError, TypeError, IndexError) as e:
            raise BadInput(f"send: msg lacks field {e}", self.path, ev.line) from None
        if m is None:
            raise BadInput(f"msg type {msg.get('type')!r} cannot belong to a raft trace",
                           self.path, ev.line)
        if not self.durable_ok[node]:
            raw = self.raw[node]
            assert raw is not None
            names = ("term", "voted_for", "snapshot_index", "snapshot_term", "log")
            durable = durable_part(self.durable[node], self.path, ev.line)
            now = self._persistent_part(node, raw)
            diff = tuple((f, d, r) for f, d, r in zip(names, durable, now, strict=True)
                         if d != r)
            return self._mismatch(
                PERSIST_BEFORE_SEND, ev, node,
                f"s{node} sends {describe_message(m)} before persisting the state it sends "
                f"from (changed at line {self.dirty_line[node]})",
                [Tried("persisted state", diff, "expected: persisted; recorded: in the state")],
                (self.durable_line[node], self.dirty_line[node], ev.line))
        if isinstance(m, _REPLIES):
            found = self._sent_reply(ev, node, m)
        else:
            found = self._sent_request(ev, node, m)
        if found is None:
            self.inflight[rec.get("id")] = (m, ev.line)
        return found

    def _sent_reply(self, ev: Event, node: int, m: Message) -> Mismatch | None:
        due = self.reply_due[node]
        self.reply_due[node] = None
        if due is not None and due[0] == m:
            self.actions["Reply"] += 1
            return None
        if due is not None and _claims_snapshot(due[0], m, self.s.snapshot[node].index):
            # The second candidate: an AppendEntries wholly inside the receiver's snapshot is
            # answered with the snapshot's last index, all of it committed and so matching.
            self.actions["Reply"] += 1
            self.searched += 1
            return None
        tried = [Tried("the reply of the step before", _message_diff(due[0], m))] \
            if due is not None else []
        return self._mismatch(REFINEMENT, ev, node,
                              f"s{node} sends {describe_message(m)}, which is not the reply "
                              "the spec's step gives" if due is not None else
                              f"s{node} sends a reply, {describe_message(m)}, to no request",
                              tried, (due[1] if due else self.state_line[node], ev.line))

    def _sent_request(self, ev: Event, node: int, m: Message) -> Mismatch | None:
        s, i, j = self.s, node, m.dst
        expected: Message | None
        note = ""
        if isinstance(m, RequestVote):
            name = "RequestVote"
            expected = request_vote(s, self.cfg, i, j)
        elif isinstance(m, AppendEntries):
            name = "AppendEntries"
            expected, note = self._expected_append(s, i, j, m)
        else:
            name = "InstallSnapshot"
            expected = None
            if s.role[i] == Role.LEADER and s.snapshot[i].index > 0:
                # The choice the trace makes: next_index[i][j] at or below the snapshot.
                chosen = updated(s, next_index=tuple_set(
                    s.next_index, i, tuple_set(s.next_index[i], j, s.snapshot[i].index)))
                expected = install_snapshot(chosen, self.cfg, i, j)
        if expected is not None and _same_message(expected, m):
            self.actions[name] += 1
            return None
        action = f"{name}(s{i}→s{j})"
        tried = [Tried(action, _message_diff(expected, m) if expected is not None else (),
                       note or ("" if expected is not None else "not enabled"))]
        return self._mismatch(REFINEMENT, ev, node,
                              f"s{i} sends {describe_message(m)}, which the spec's {action} "
                              f"does not send from s{i}'s state", tried,
                              (self.state_line[node], ev.line))

    def _expected_append(self, s: State, i: int, j: int,
                         m: AppendEntries) -> tuple[Message | None, str]:
        if s.role[i] != Role.LEADER:
            return None, f"not enabled: s{i} is not a leader"
        chosen = m.prev_index + 1  # the next_index the core chose (fast back-off)
        if not s.snapshot[i].index < chosen <= last_index(s, i) + 1:
            return None, (f"prev_index {m.prev_index} is not in s{i}'s log "
                          f"({s.snapshot[i].index}..{last_index(s, i)})")
        if s.next_index[i][j] != chosen:
            s = updated(s, next_index=tuple_set(s.next_index, i,
                                                 tuple_set(s.next_index[i], j, chosen)))
        expected = append_entries(s, self.cfg, i, j)
        assert isinstance(expected, AppendEntries)
        if len(m.entries) < len(expected.entries):
            # A batch stops short of the log's end: compare with the spec's prefix.
            return AppendEntries(expected.src, expected.dst, expected.term,
                                 expected.prev_index, expected.prev_term,
                                 expected.entries[:len(m.entries)],
                                 expected.leader_commit), "entries: a prefix of the spec's"
        return expected, ""

    def _drop(self, ev: Event, node: int) -> Mismatch | None:
        if self.inflight.pop(ev.record.get("id"), None) is None:
            return self._mismatch(REFINEMENT, ev, node,
                                  f"the network drops message {ev.record.get('id')!r}, which "
                                  "is not in flight", [], (ev.line,))
        self.actions["Drop"] += 1
        return None

    def _apply(self, ev: Event, node: int) -> Mismatch | None:
        rec, raw = ev.record, self.raw[node]
        index = rec.get("index")
        if type(index) is not int or raw is None:
            raise BadInput("apply: index must be an integer, after the server's first state",
                           self.path, ev.line)
        commit, base = raw["commit_index"], raw["snapshot_index"]
        if rec.get("kind") == "snapshot":
            wrong = None if index <= commit else (
                f"s{node} hands its service a snapshot through {index} with commit_index "
                f"{commit}")
        elif index != self.applied[node] + 1 or index > commit:
            wrong = (f"s{node} applies entry {index} after entry {self.applied[node]}, with "
                     f"commit_index {commit}: only committed entries, in order")
        elif index > base and index - base <= len(raw["log"]) and \
                raw["log"][index - base - 1][1] != rec.get("term"):
            wrong = (f"s{node} applies entry {index} of term {rec.get('term')}, but its log "
                     f"holds term {raw['log'][index - base - 1][1]} there")
        else:
            wrong = None
        if wrong is not None:
            return self._mismatch(APPLY_COMMITTED, ev, node, wrong, [],
                                  (self.state_line[node], ev.line))
        self.applied[node] = index
        self.actions["Apply"] += 1
        return None

    # -- reports ---------------------------------------------------------------------------
    def _unsent_reply(self, node: int, due: tuple[Message, int],
                      ev: Event | None) -> Mismatch:
        m, line = due
        detail = (f"s{node} never sent the reply its step at line {line} owes: "
                  f"{describe_message(m)}")
        if ev is None:  # the trace ended first
            return Mismatch(REFINEMENT, line, 0, node, "end", detail, [], (line,))
        return Mismatch(REFINEMENT, ev.line, ev.seq, node, ev.event, detail, [],
                        (line, ev.line))

    def _mismatch(self, rule: str, ev: Event, node: int, detail: str, tried: list[Tried],
                  lines: tuple[int, ...]) -> Mismatch:
        excerpt = tuple(sorted({n for n in lines if n > 0} | {ev.line}))
        return Mismatch(rule, ev.line, ev.seq, node, ev.event, detail, tried, excerpt)


# -- messages ----------------------------------------------------------------------------


def _same_message(expected: Message, recorded: Message) -> bool:
    if isinstance(expected, InstallSnapshot) and isinstance(recorded, InstallSnapshot):
        # The spec's snapshot carries its values; the trace records only the snapshot's size.
        return (expected.src, expected.dst, expected.term, expected.last_index,
                expected.last_term) == (recorded.src, recorded.dst, recorded.term,
                                        recorded.last_index, recorded.last_term)
    if isinstance(expected, AppendEntries) and isinstance(recorded, AppendEntries):
        return (expected.src, expected.dst, expected.term, expected.prev_index,
                expected.prev_term, expected.leader_commit) == (
            recorded.src, recorded.dst, recorded.term, recorded.prev_index,
            recorded.prev_term, recorded.leader_commit) and \
            [e.term for e in expected.entries] == [e.term for e in recorded.entries]
    return expected == recorded


def _claims_snapshot(expected: Message, recorded: Message, snapshot_index: int) -> bool:
    """`recorded` is the spec's successful AppendEntriesReply `expected` with its match index
    raised to the receiver's snapshot index: the core's answer to a request that lies wholly
    inside its snapshot (the spec answers with the request's last index). Both are true of
    the receiver's log, since a snapshot holds only committed entries."""
    return (isinstance(expected, AppendEntriesReply) and isinstance(recorded, AppendEntriesReply)
            and expected.success and recorded.success
            and expected.match_index < recorded.match_index == snapshot_index
            and (expected.src, expected.dst, expected.term) ==
            (recorded.src, recorded.dst, recorded.term))


def _message_diff(expected: Message, recorded: Message) -> tuple[tuple[str, object, object], ...]:
    if type(expected) is not type(recorded):
        return (("type", type(expected).__name__, type(recorded).__name__),)
    out = []
    for name in expected.__slots__:
        if name == "values":
            continue
        e, r = getattr(expected, name), getattr(recorded, name)
        if name == "entries":
            e, r = tuple(x.term for x in e), tuple(x.term for x in r)
            name = "entry_terms"
        if e != r:
            out.append((name, e, r))
    return tuple(out)


def _replay(header: Header, path: str) -> list[str]:
    """The commands that re-run the simulation that wrote the trace, and validate it again."""
    config = header.config
    if header.seed is None or header.system != "raft":
        return []
    scenario = config.get("scenario")
    words = ["dscheck", "sim", "raft"]
    if "schedule" in config:  # the faults were the file's, not the seed's draws
        return [" ".join([*words, "--schedule", str(config["schedule"]), "--trace", path]),
                f"dscheck check-trace {path}"]
    if scenario and scenario != "random":
        words += ["--scenario", str(scenario)]
    elif scenario == "random":
        words += ["--servers", str(header.servers),
                  "--unreliable" if config.get("unreliable") else "--reliable",
                  "--snapshots" if config.get("snapshot") else "--no-snapshots"]
        if "duration_ms" in config:
            words += ["--duration", f"{config['duration_ms'] / 1000:g}"]
    else:
        return []
    if "drop_rate" in config:
        words += ["--drop-rate", str(config["drop_rate"])]
    words += ["--seed", str(header.seed)]
    for bug in config.get("bugs") or ():
        words += ["--bug", str(bug)]
    words += ["--trace", path]
    return [" ".join(words), f"dscheck check-trace {path}"]


BINDING = Binding(system="raft", spec="spec.raft", start=RaftStepper, replay=_replay)

__all__ = ["BINDING", "INITIAL_VIEW", "RaftStepper", "step_config"]
