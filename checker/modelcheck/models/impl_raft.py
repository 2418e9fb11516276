"""The Raft *implementation* as a model: the simulator's sans-I/O cores, driven by the search.

Theory of operation
-------------------
A state (`impl_raft_state`) holds every server's core (as `RaftCore.image()` packs it), its
armed timers, what its driver last persisted, what its service was handed, and the messages
in flight as a bag. Each action is one input to one core, through the core's public driving
surface — exactly what the simulator's `RaftNode` calls — and its effects are carried out in
the order `impl.raft.effects` prescribes (persist, send, apply, timers):

- `Timer(i, election|heartbeat)` — an armed timer fires (`RaftCore.timeout`). The driver's
  random election timeout is abstracted: any armed timer may fire next.
- `Deliver(m)` — `RaftCore.step`; `Drop(m)` and `Duplicate(m)` (deliver, keep a copy) when
  the bounds allow them. Reordering is free: any message in flight may be delivered next.
- `Start(i, v)` — the lab's Start(v) on a leader (`RaftCore.start`).
- `Snapshot(i, k)` — the service snapshots what it applied through index k
  (`RaftCore.snapshot`), with `snapshots` on.
- `Crash(i)` / `Restart(i)` — the core and its timers are lost, and so is every message to
  or from it (the simulator's incarnations); a restart builds a core from what was persisted
  and boots it, and its service restores its snapshot.
- `Durable(i)` — only with `parallel_write` (RaftConfig.parallel_write, thesis §10.2.1): the
  driver's disk finishes writing what server i staged, and the driver reports it to the core
  (`RaftCore.persisted`), carrying out what that returns (a leader may commit and apply).
  With the option on, a step's persist is *staged*, not written: its `early` messages (a
  leader's AppendEntries) enter the network at once; if it has any other message, the driver
  writes everything staged first (a flush: those messages depend on it), sends them and
  reports the write at once, as `Durable` would. A crash loses what was staged and not
  written. The
  per-server part of the state gains `pending = (staged, durable index)`: the latest state
  staged and not yet reported (packed like `persisted`, or ()), and the core's durable index
  (which its packing leaves out). One simplification: the report is always of the latest
  staged state, never of an older one while newer ones wait (tests/raft/test_parallel_write
  checks the core on such late reports).

Bounds (`ImplRaftConfig`, shaped like `spec.raft.BOUNDS`) are guards: an election timeout
past `max_term`, a request past `requests` or `max_log`, a step whose sends would put more
than `max_messages` in flight, a crash past `max_restarts`, a heartbeat or an election timeout
past `max_heartbeats` or `max_elections` — none of these is enabled, so every bounded behaviour is a real behaviour of the cores (the
driver's timers are abstract: a heartbeat timer that has not fired yet is a real prefix).

Properties are `impl_raft_view`'s: the spec's invariants on the cores' spec-visible
projection, plus what only an implementation shows (format rules, what services applied).

Every core step is a pure function of (server id, packed core, input), so it is memoised:
most global states share most of their servers' states, and a step is computed once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from checker.modelcheck.model import Encoding, Model, StepCheck
from checker.modelcheck.models import impl_raft_state as st
from checker.modelcheck.models import impl_raft_view as view
from impl.raft.bugs import BUGS, bug_config, core_class
from impl.raft.core import ELECTION, HEARTBEAT, CoreImage, RaftConfig, RaftCore
from impl.raft.effects import ApplyCommand, ApplySnapshot, Effects, SetTimer
from spec.bounds import Bound, check_bounds
from spec.raft import INVARIANTS as SPEC_INVARIANTS
from spec.raft import SOMETIMES as SPEC_SOMETIMES
from spec.raft import TRANSITION_INVARIANTS as SPEC_TRANSITION_INVARIANTS
from spec.raft_invariants import SERVER_ONLY, servers_well_typed

# The bounds of the core's model, in the shape of `spec.raft.BOUNDS` (the CLI's options are
# generated from it). The ranges keep one byte for a term and a value (`snapshot_bytes`).
BOUNDS: dict[str, Bound] = {
    "servers": Bound(3, 1, 5, "Servers, ids 0..N-1."),
    "max_term": Bound(2, 0, 10, "No election timer fires past this term."),
    "max_log": Bound(1, 0, 10, "A leader accepts a client request only below this log length."),
    "values": Bound(1, 1, 5, "Client requests carry values 1..V."),
    "requests": Bound(1, 0, 10, "Client requests (Start calls) per behaviour."),
    "max_messages": Bound(3, 0, 10, "Messages in flight at once (a bag: copies count)."),
    "max_restarts": Bound(0, 0, 10, "Crash/restarts per behaviour."),
    "max_heartbeats": Bound(-1, -1, 10, "Heartbeat timer firings per behaviour (-1: no bound)."),
    "max_elections": Bound(-1, -1, 10, "Election timer firings per behaviour (-1: no bound)."),
}
# Flags that cannot show without a restart (what the restart reads is what was persisted),
# or without the service's snapshots: a model with one gets them unless told otherwise.
NEEDS_RESTART = frozenset({"unpersisted-vote", "grant-before-persist"})
NEEDS_SNAPSHOTS = frozenset({"snapshot-off-by-one"})
_DESCRIPTIONS = {name: bug.description for name, bug in BUGS.items()}

# Bounds at which each fault flag is found (the shortest counterexample within them), as
# measured by bench/impl_modelcheck.py; the correct core checks clean at every one of them.
# All are cheap enough for the default suite (seconds).
_DROPS = {"max_term": 2, "max_messages": 2, "drops": True}
_TWO = {**_DROPS, "max_term": 1, "max_log": 2, "requests": 2}  # one term, two entries
FLAG_BOUNDS: dict[str, dict[str, Any]] = {
    "no-step-down": _DROPS,
    "vote-without-log-check": _DROPS,
    "apply-before-commit": _DROPS,
    "unpersisted-vote": {**_DROPS, "max_restarts": 1},
    "stale-append-truncates": {**_TWO, "duplicates": True},
    "commit-past-held": _TWO,
    "snapshot-off-by-one": {**_TWO, "snapshots": True},
    # Figure 8 takes three elections and two leaders' entries at one index (26 steps). With
    # drops, two messages in flight suffice; unbounded heartbeats (each a retransmission to
    # every follower) made the space deep, so one heartbeat is allowed.
    "figure8-commit": {**_DROPS, "max_term": 3, "requests": 2, "max_heartbeats": 1},
    # A term-1 leader learns term 2 from a follower's refusal (no vote), then grants a vote
    # in a step that persists nothing; it crashes after its reply is delivered, restarts with
    # no vote and grants again (17 steps). No entry is needed; three messages in flight are.
    "grant-before-persist": {**_DROPS, "max_messages": 3, "requests": 0, "max_restarts": 1,
                             "max_heartbeats": 1},
    # A follower with a stale entry commits it on the flag's empty heartbeat (prev 0, the
    # leader's commit 1), 21 steps. The heartbeat sends four messages, hence four in flight;
    # the scenario takes two elections, and capping them keeps the space small (the find
    # takes seconds, the correct core's clean check a minute: CLEAN_IN_CAMPAIGN).
    "commit-to-last-index": {**_DROPS, "max_messages": 4, "requests": 2, "max_heartbeats": 1,
                             "max_elections": 2},
}
# Flags found only in the campaign (none now), and flags found in the default suite whose
# clean check at the same bounds takes minutes (the service snapshots at any applied index;
# four messages in flight), which the campaign runs.
CAMPAIGN_FLAGS: frozenset[str] = frozenset()
CLEAN_IN_CAMPAIGN = frozenset({"snapshot-off-by-one", "commit-to-last-index"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ImplRaftConfig:
    """The bounds of one model of the cores; checked when built (ValueError names the field).
    `reduce`: erase the variables the core never reads again (`impl_raft_state`)."""

    servers: int = BOUNDS["servers"].default
    max_term: int = BOUNDS["max_term"].default
    max_log: int = BOUNDS["max_log"].default
    values: int = BOUNDS["values"].default
    requests: int = BOUNDS["requests"].default
    max_messages: int = BOUNDS["max_messages"].default
    max_restarts: int = BOUNDS["max_restarts"].default
    max_heartbeats: int = BOUNDS["max_heartbeats"].default
    max_elections: int = BOUNDS["max_elections"].default
    drops: bool = False
    duplicates: bool = False
    snapshots: bool = False
    parallel_write: bool = False
    bugs: frozenset[str] = field(default_factory=frozenset)
    reduce: bool = True

    def __post_init__(self) -> None:
        check_bounds(self, BOUNDS, self.bugs, _DESCRIPTIONS)
        if NEEDS_SNAPSHOTS & self.bugs and not self.snapshots:
            raise ValueError(f"bug {sorted(NEEDS_SNAPSHOTS & self.bugs)[0]} shows only with "
                             "snapshots; add --snapshots")

    def core_config(self) -> RaftConfig:
        config = bug_config(self.bugs)
        return dataclasses.replace(config, parallel_write=True) if self.parallel_write else config


class Event(NamedTuple):
    """One action: `kind` (Timer, Deliver, Drop, Duplicate, Start, Snapshot, Crash, Restart),
    the server that takes it (a message's destination), the message, and a timer's name or
    a request's value."""

    kind: str
    node: int
    message: st.Packed | None = None
    arg: Any = None

    def __str__(self) -> str:
        if self.message is not None:
            return f"{self.kind}({st.describe_packed(self.message)})"
        if self.kind == "Timer":
            return f"Timer(s{self.node}, {self.arg})"
        if self.kind == "Start":
            return f"Start(s{self.node}, v{self.arg})"
        if self.kind == "Snapshot":
            return f"Snapshot(s{self.node}, {self.arg})"
        if self.kind == "Durable":
            return f"Durable(s{self.node})"
        return f"{self.kind}(s{self.node})"


class _Out(NamedTuple):
    """What one core step did, in packed form: the core after it, its sends (those that must
    wait for the persist; `early`: those that need not, only under parallel write), applies,
    persist ((hard state, snapshot bytes or None for unchanged) or None), timer ops, and the
    core's durable index after it (parallel write; 0 otherwise)."""

    core: st.Packed
    sends: tuple[st.Packed, ...]
    applies: tuple[tuple[Any, ...], ...]
    persist: tuple[st.Packed, bytes | None] | None
    timers: tuple[tuple[str, bool], ...]
    early: tuple[st.Packed, ...] = ()
    durable: int = 0


@dataclass(frozen=True, kw_only=True, eq=False)
class ImplRaftModel(Model[Any]):
    """The Raft cores of `impl.raft` (with `config.bugs` on) bounded by `config`."""

    config: ImplRaftConfig = field(default_factory=ImplRaftConfig)
    symmetry: bool = True

    name = "impl-raft"
    replayed_through = "the cores"
    index_label = "s"
    set_variables = frozenset({"network"})
    encoding_is_state = True
    invariants = view.INVARIANTS
    transition_invariants = view.TRANSITION_INVARIANTS
    sometimes = view.SOMETIMES

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cls", core_class(self.config.bugs))
        object.__setattr__(self, "_core_config", self.config.core_config())
        object.__setattr__(self, "_peers", tuple(range(self.config.servers)))
        object.__setattr__(self, "_memo", {})
        object.__setattr__(self, "_server_memo", {})
        object.__setattr__(self, "_step_memo", {})

    # ---------------------------------------------------------------- cores
    def _core(self, i: int, core: st.Packed, durable: int = 0) -> RaftCore:
        cls: type[RaftCore] = self._cls  # type: ignore[attr-defined]
        image = st.unpack_core(core, i)
        if self.config.parallel_write:
            image = image._replace(durable_index=durable)
        return cls.from_image(image, i, self._peers,  # type: ignore[attr-defined]
                              self._core_config)  # type: ignore[attr-defined]

    def _pack(self, core: RaftCore, i: int, effects: Effects) -> _Out:
        # ReadIndex (`read_index`, opt-in for a service) is not among this model's actions,
        # so no step confirms a read; its state is still part of every image.
        assert not effects.reads, "the model issues no ReadIndex reads"
        n = self.config.servers
        persist = None
        if effects.persist is not None:
            hard = st.pack_hard(effects.persist.state, b"")[:-1]
            persist = (hard, effects.persist.snapshot)
        applies: list[tuple[Any, ...]] = []
        for a in effects.applies:
            if isinstance(a, ApplyCommand):
                applies.append(("cmd", a.index, a.term, a.command))
            else:
                assert isinstance(a, ApplySnapshot)
                applies.append(("snap", a.index, a.term, a.data))
        image = core.image()
        return _Out(core=st.pack_core(image, n, self.config.reduce),
                    sends=tuple(st.pack_message(i, s.to, s.message) for s in effects.messages
                                if not s.early),
                    applies=tuple(applies), persist=persist,
                    timers=tuple((op.name, isinstance(op, SetTimer)) for op in effects.timers),
                    early=tuple(st.pack_message(i, s.to, s.message) for s in effects.messages
                                if s.early),
                    durable=self._durable(image))

    def _durable(self, image: CoreImage) -> int:
        """The durable index kept beside the core (parallel write only). The core reads it
        only where it is above the commit index (`RaftCore._advance_commit`), and the commit
        index of a live core never decreases, so every value at or below it is the same to
        the core: erased to the commit index (with `reduce`)."""
        if not self.config.parallel_write:
            return 0
        if self.config.reduce:
            return max(image.durable_index, image.commit_index)
        return image.durable_index

    def _step(self, i: int, core: st.Packed, event: tuple[Any, ...], durable: int = 0) -> _Out:
        memo: dict[tuple[Any, ...], _Out] = self._memo  # type: ignore[attr-defined]
        key = (i, core, event, durable)
        out = memo.get(key)
        if out is not None:
            return out
        kind = event[0]
        if kind == "Restart":
            hard, data = st.unpack_hard(core)  # `core` is the persisted state here
            cls: type[RaftCore] = self._cls  # type: ignore[attr-defined]
            live = cls(i, self._peers, self._core_config, restored=hard,  # type: ignore[attr-defined]
                       snapshot=data)
            effects = live.boot()
        else:
            live = self._core(i, core, durable)
            if kind == "Timer":
                effects = live.timeout(event[1])
            elif kind == "Deliver":
                effects = live.step(event[1][1], st.unpack_message(event[1]))
            elif kind == "Start":
                _, effects = live.start(event[1])
            elif kind == "Durable":
                effects = live.persisted(st.unpack_hard(event[1])[0])
            else:
                assert kind == "Snapshot"
                effects = live.snapshot(event[1], event[2])
        out = self._pack(live, i, effects)
        memo[key] = out
        return out

    # ---------------------------------------------------------------- the state space
    def initial_states(self) -> list[st.Packed]:
        n = self.config.servers
        servers = []
        for i in range(n):
            out = self._step(i, st.FRESH_PERSISTED, ("Restart",))
            server = (out.core, _timers(0, out.timers), st.FRESH_PERSISTED, (), 0)
            servers.append((*server, ((), out.durable)) if n and self.config.parallel_write
                           else server)
        return [(tuple(servers), (), 0, 0, 0, 0)]

    def successors(self, state: st.Packed) -> Iterator[tuple[Event, st.Packed]]:
        c = self.config
        servers, network, restarts, requests, heartbeats, elections = state
        beat = c.max_heartbeats < 0 or heartbeats < c.max_heartbeats
        elect = c.max_elections < 0 or elections < c.max_elections
        for i, server in enumerate(servers):
            core, timers = server[0], server[1]
            if not core:
                yield from self._result(state, Event("Restart", i), i, ("Restart",), None)
                continue
            term, role = core[0], core[2]
            if timers & st.ELECTION_BIT and elect and (role == 2 or term < c.max_term):
                yield from self._result(state, Event("Timer", i, arg=ELECTION), i,
                                        ("Timer", ELECTION), None)
            if timers & st.HEARTBEAT_BIT and beat:
                yield from self._result(state, Event("Timer", i, arg=HEARTBEAT), i,
                                        ("Timer", HEARTBEAT), None)
            if role == 2 and requests < c.requests and core[4] + len(core[6]) < c.max_log:
                for v in range(1, c.values + 1):
                    yield from self._result(state, Event("Start", i, arg=v), i, ("Start", v),
                                            None)
            if c.snapshots:
                # The service may snapshot at any index it applied: the lab's applier does
                # so inside its apply loop, while later entries of the same step are applied.
                for index in range(core[4] + 1, core[9] + 1):
                    data = st.snapshot_bytes(server[3][:index])
                    yield from self._result(state, Event("Snapshot", i, arg=index), i,
                                            ("Snapshot", index, data), None)
            if c.parallel_write and server[5][0]:
                yield from self._result(state, Event("Durable", i), i,
                                        ("Durable", server[5][0]), None)
            if restarts < c.max_restarts:
                yield Event("Crash", i), _crash(state, i)
        for m, _ in network:
            dst = m[2]
            yield from self._result(state, Event("Deliver", dst, m), dst, ("Deliver", m), m)
            if c.duplicates:
                yield from self._result(state, Event("Duplicate", dst, m), dst, ("Deliver", m),
                                        None)
            if c.drops:
                yield Event("Drop", dst, m), (servers, _bag_remove(network, m), restarts,
                                              requests, heartbeats, elections)

    def _result(self, state: st.Packed, event: Event, i: int, step: tuple[Any, ...],
                consumed: st.Packed | None) -> Iterator[tuple[Event, st.Packed]]:
        """The successor by `event` on server i (`step` is its input to the core; `consumed`
        the message it takes out of the network), if the bounds allow it."""
        servers, network, restarts, requests, heartbeats, elections = state
        core, timers, persisted, applied, gap = servers[i][:5]
        parallel = self.config.parallel_write
        staged: st.Packed = servers[i][5][0] if parallel else ()
        if event.kind == "Restart":
            out = self._step(i, persisted, step)
            timers = 0
        else:
            out = self._step(i, core, step, servers[i][5][1] if parallel else 0)
        if event.kind == "Timer":
            timers &= ~(st.ELECTION_BIT if event.arg == ELECTION else st.HEARTBEAT_BIT)
        bag = dict(network)
        if consumed is not None:
            bag[consumed] -= 1
            if not bag[consumed]:
                del bag[consumed]
        if event.kind == "Durable":
            persisted, staged = staged, ()  # written and reported
        if out.persist is not None:
            hard, data = out.persist
            if parallel:  # staged: the snapshot bytes are the last staged or written ones
                staged = (*hard, (staged or persisted)[5] if data is None else data)
            else:
                persisted = (*hard, persisted[5] if data is None else data)
        sends, applies, core, timer_ops, durable = (
            (*out.early, *out.sends), out.applies, out.core, out.timers, out.durable)
        if parallel and out.sends and staged:
            # A flush: these messages depend on what is staged, so it is written first; the
            # driver reports it at once (what `Durable` would do next), which may commit.
            persisted = staged
            then = self._step(i, out.core, ("Durable", staged), out.durable)
            staged = ()
            sends = (*sends, *then.early, *then.sends)
            applies = (*applies, *then.applies)
            core, timer_ops, durable = then.core, (*timer_ops, *then.timers), then.durable
        for m in sends:
            if servers[m[2]][0]:  # the network drops what is sent to a crashed server
                bag[m] = bag.get(m, 0) + 1
        if sum(bag.values()) > self.config.max_messages:
            return
        if event.kind == "Restart":
            applied = st.snapshot_pairs(persisted[5])
        for a in applies:
            applied, gap = _apply(applied, gap, a)
        new_server: st.Packed = (core, _timers(timers, timer_ops), persisted, applied, gap)
        if parallel:
            new_server = (*new_server, (staged, durable))
        new_servers = (*servers[:i], new_server, *servers[i + 1:])
        # Timers are counted only where they are bounded (a count would split states).
        beats = heartbeats + (event.arg == HEARTBEAT and self.config.max_heartbeats >= 0)
        elected = elections + (event.arg == ELECTION and self.config.max_elections >= 0)
        new = (new_servers, tuple(sorted(bag.items())), restarts,
               requests + (event.kind == "Start"), beats, elected)
        if new != state:
            yield event, new

    # ---------------------------------------------------------------- properties
    def violated_invariant(self, state: st.Packed) -> str | None:
        # The spec's properties that read only the servers' variables are evaluated once per
        # distinct combination of servers (the same definitions, memoised).
        memo: dict[Any, str | None] = self._server_memo  # type: ignore[attr-defined]
        servers = state[0]
        if servers in memo:
            name = memo[servers]
        else:
            name = self._servers_violation(state)
            memo[servers] = name
        if name is not None:
            return name
        n = len(servers)
        if not all(view.message_typed(m, n) for m, _ in state[1]):
            return "TypeOK"
        return None

    def _servers_violation(self, state: st.Packed) -> str | None:
        seen = view.servers_view(state[0])
        for name in self.invariants:
            if name == "TypeOK":
                if not servers_well_typed(seen) or seen.restarts < 0:
                    return name
            elif name in SPEC_INVARIANTS:
                assert name in SERVER_ONLY
                if not SPEC_INVARIANTS[name](seen):
                    return name
            elif not self.invariants[name](state):
                return name
        return None

    def step_check(self, before: st.Packed) -> StepCheck:
        holds = self.transition_invariants
        if not holds or 2 not in (s[0][2] for s in before[0] if s[0]):
            return _no_violation  # LeaderAppendOnly constrains leaders only
        # The step properties read only the servers (SERVER_ONLY), so a verdict is one of a
        # pair of server tuples: memoised, as many steps change only the network.
        memo: dict[tuple[st.Packed, st.Packed], str | None] = self._step_memo  # type: ignore[attr-defined]
        servers = before[0]
        check = super().step_check(before)

        def memoised(after: st.Packed) -> str | None:
            key = (servers, after[0])
            if key in memo:
                return memo[key]
            if len(memo) >= _STEP_MEMO_SIZE:
                memo.clear()
            name = memo[key] = check(after)
            return name

        return memoised

    def note_reached(self, state: st.Packed, reached: dict[str, bool]) -> None:
        if all(reached.values()):
            return
        seen = view.servers_view(state[0])
        for name, prop in SPEC_SOMETIMES.items():
            if not reached[name] and prop(seen):  # both read only the servers
                reached[name] = True

    # ---------------------------------------------------------------- storage
    def canonical(self, state: st.Packed) -> Encoding:
        return st.canonical(state) if self.symmetry else state

    # ---------------------------------------------------------------- presentation
    def variables(self, state: st.Packed) -> dict[str, Any]:
        servers = state[0]
        seen = view.spec_state(state)
        return {
            "alive": [bool(s[0]) for s in servers],
            "term": list(seen.term),
            "role": [r.name.lower() for r in seen.role],
            "voted_for": list(seen.voted_for),
            "log": [[f"t{e.term}:v{e.value}" for e in log] for log in seen.log],
            "snapshot_index": [s.index for s in seen.snapshot],
            "commit_index": list(seen.commit_index),
            "last_applied": [s[0][9] if s[0] else None for s in servers],
            "timers": [_timer_names(s[1]) for s in servers],
            "persisted": [_persisted_text(s[2]) for s in servers],
            "applied": [[f"t{t}:v{v}" for t, v in s[3]] for s in servers],
            "network": sorted(st.describe_packed(m) + (f" ×{c}" if c > 1 else "")
                              for m, c in state[1]),
            "restarts": state[2],
            "requests": state[3],
            "heartbeats": state[4],
            "elections": state[5],
            **({"staged": [_persisted_text(s[5][0]) if s[5][0] else "-" for s in servers],
                "durable_index": [s[5][1] for s in servers]}
               if self.config.parallel_write else {}),
        }

    def describe_initial(self, state: st.Packed) -> str:
        return "Init: every core booted fresh (followers, election timers armed)"

    def describe_action(self, action: Any) -> str:
        return str(action)

    def bounds_text(self) -> str:
        c = self.config
        return (f"{c.servers} servers, terms ≤ {c.max_term}, logs ≤ {c.max_log}, "
                f"{c.values} value(s), ≤ {c.requests} request(s), ≤ {c.max_messages} in "
                f"flight, ≤ {c.max_restarts} restarts"
                + (f", ≤ {c.max_heartbeats} heartbeats" if c.max_heartbeats >= 0 else "")
                + (f", ≤ {c.max_elections} elections" if c.max_elections >= 0 else "")
                + (", drops" if c.drops else "") + (", duplicates" if c.duplicates else "")
                + (", snapshots" if c.snapshots else "")
                + (", parallel write" if c.parallel_write else "")
                + (f", bugs: {', '.join(sorted(c.bugs))}" if c.bugs else ""))

    def summary(self) -> dict[str, Any]:
        c = self.config
        return {"spec": self.name, "config": {
            "servers": c.servers, "max_term": c.max_term, "max_log": c.max_log,
            "values": c.values, "requests": c.requests, "max_messages": c.max_messages,
            "max_restarts": c.max_restarts, "max_heartbeats": c.max_heartbeats,
            "max_elections": c.max_elections, "drops": c.drops, "duplicates": c.duplicates,
            "snapshots": c.snapshots, "bugs": sorted(c.bugs), "reduce": c.reduce,
            **({"parallel_write": True} if c.parallel_write else {})},
            "symmetry": self.symmetry}

    def labels(self) -> list[tuple[str, str]]:
        return [("system", "impl.raft cores (the simulator's), driven through their API"),
                ("symmetry", "on" if self.symmetry else "off")]


# The step memo's size: past it, it starts again (a cache, never part of a verdict).
_STEP_MEMO_SIZE = 1 << 18
assert set(SPEC_TRANSITION_INVARIANTS) <= SERVER_ONLY, "step_check's memo reads only servers"


def _no_violation(after: Any) -> str | None:
    return None


def _timers(mask: int, ops: tuple[tuple[str, bool], ...]) -> int:
    for name, on in ops:
        bit = st.ELECTION_BIT if name == ELECTION else st.HEARTBEAT_BIT
        mask = mask | bit if on else mask & ~bit
    return mask


def _timer_names(mask: int) -> list[str]:
    return [name for name, bit in ((ELECTION, st.ELECTION_BIT), (HEARTBEAT, st.HEARTBEAT_BIT))
            if mask & bit]


def _persisted_text(p: st.Packed) -> str:
    term, voted, snap_index, _, entries, _ = p
    vote = "-" if voted == 0 else f"s{voted - 1}"
    log = " ".join(f"t{t}:v{v}" for t, v in entries)
    return f"t{term} vote={vote} snap={snap_index} [{log}]"


def _apply(applied: tuple[tuple[int, int], ...], gap: int,
           a: tuple[Any, ...]) -> tuple[tuple[tuple[int, int], ...], int]:
    """The service's state machine after one ApplyMsg (the lab's applier)."""
    if a[0] == "snap":
        return st.snapshot_pairs(a[3]), gap
    _, index, term, value = a
    if index <= len(applied):  # handed again: the later hand-over is what it now holds
        return (*applied[:index - 1], (term, value), *applied[index:]), gap
    if index > len(applied) + 1:  # past a gap: placeholders, and the gap is recorded
        applied = applied + ((0, 0),) * (index - len(applied) - 1)
        gap = 1
    return (*applied, (term, value)), gap


def _bag_remove(network: st.Packed, m: st.Packed) -> st.Packed:
    bag = dict(network)
    bag[m] -= 1
    if not bag[m]:
        del bag[m]
    return tuple(sorted(bag.items()))


def _crash(state: st.Packed, i: int) -> st.Packed:
    servers, network, restarts, requests, *timeouts = state
    _, _, persisted, applied, gap = servers[i][:5]
    crashed: st.Packed = ((), 0, persisted, applied, gap)
    if len(servers[i]) > 5:  # parallel write: what was staged and not written is lost
        crashed = (*crashed, ((), 0))
    net = tuple((m, c) for m, c in network if m[1] != i and m[2] != i)
    return ((*servers[:i], crashed, *servers[i + 1:]), net, restarts + 1, requests, *timeouts)
