"""The Raft properties of a packed raft.tla-mode state, memoised on what they read.

Each property is evaluated by its own `spec.raft` definition; only the evaluation is shared.
A bounded configuration has far fewer distinct combinations of server variables than states
(the message bag multiplies them), so the properties that read only server variables
(`spec.raft_invariants.SERVER_ONLY`) are evaluated once per combination; TypeOK is split into
its server conjunct (per server variables), its message conjunct (per message) and its
restart-count conjunct.
"""

from __future__ import annotations

from typing import Any

from checker.modelcheck import packed_tla
from checker.modelcheck.model import StepCheck
from spec.raft import INVARIANTS, SOMETIMES, TRANSITION_INVARIANTS, State
from spec.raft_invariants import SERVER_ONLY, message_well_typed, servers_well_typed
from spec.raft_types import Snapshot


def servers_view(servers: tuple[Any, ...]) -> State:
    """A `spec.raft.State` with these packed server variables and an empty network: enough
    for the properties in SERVER_ONLY, which read nothing else."""
    n = len(servers)
    term, role, vote, log, commit, responded, granted, nxt, match = zip(
        *map(packed_tla.readable_server, servers), strict=True
    )
    snapshots = (Snapshot(),) * n
    return State(
        term, role, vote, log, snapshots, commit, responded, granted, nxt, match, frozenset(), 0
    )


# Well-typed bags remembered; past this the set starts afresh.
BAGS_LIMIT = 1_000_000
# Readable views of servers' variables kept; past this the memo starts afresh.
VIEWS_LIMIT = 500_000


class ServerMemo:
    """The three property evaluators of the packed model (see `Model`), memoised."""

    def __init__(self) -> None:
        assert set(INVARIANTS) - SERVER_ONLY == {"TypeOK"}, "a new invariant reads the network"
        assert set(TRANSITION_INVARIANTS) | set(SOMETIMES) <= SERVER_ONLY
        # Per combination of servers' variables: the invariant they break (None) and the
        # "sometimes" properties they satisfy. A search asks for both of a new state one
        # after the other: the last entry is kept by identity, so its servers' tuple is
        # hashed once.
        self.facts: dict[Any, tuple[str | None, tuple[str, ...]]] = {}
        self.last: tuple[Any, tuple[str | None, tuple[str, ...]]] = ((), (None, ()))
        self.message_ok: dict[int, bool] = {}
        # Bags judged well typed (few distinct bags under an in-flight bound).
        self.bags_ok: set[tuple[int, ...]] = set()
        self.steps: dict[Any, dict[Any, str | None]] = {}
        # Readable views of servers' variables, shared by the memos above: a combination is
        # judged as a state, as the source and as the target of steps.
        self.views: dict[Any, State] = {}

    def view(self, servers: Any) -> State:
        found = self.views.get(servers)
        if found is None:
            if len(self.views) >= VIEWS_LIMIT:
                self.views.clear()
            found = self.views[servers] = servers_view(servers)
        return found

    def _facts(self, servers: Any) -> tuple[str | None, tuple[str, ...]]:
        last_servers, facts = self.last
        if servers is last_servers:
            return facts
        found = self.facts.get(servers)
        if found is None:
            seen = self.view(servers)
            names = tuple(name for name, prop in SOMETIMES.items() if prop(seen))
            found = self.facts[servers] = (self._server_verdict(seen), names)
        self.last = (servers, found)
        return found

    def violated_invariant(self, state: Any) -> str | None:
        servers, bag = state[0], state[1]
        verdict = self._facts(servers)[0]
        if verdict is not None:
            return verdict
        if state[2] < 0:  # TypeOK's conjunct on the restart count
            return "TypeOK"
        if bag in self.bags_ok:
            return None
        n = len(servers)
        for item in bag:
            key = packed_tla.item_key(item)
            ok = self.message_ok.get(key)
            if ok is None:
                ok = message_well_typed(packed_tla.unpack_message(key), n)
                self.message_ok[key] = ok
            if not ok:
                return "TypeOK"
        if len(self.bags_ok) >= BAGS_LIMIT:
            self.bags_ok.clear()
        self.bags_ok.add(bag)
        return None

    @staticmethod
    def _server_verdict(seen: State) -> str | None:
        for name, holds in INVARIANTS.items():
            if name == "TypeOK":
                if not servers_well_typed(seen):
                    return name
            elif not holds(seen):
                return name
        return None

    def step_check(self, before: Any) -> StepCheck:
        servers_before = before[0]
        verdicts = self.steps.get(servers_before)
        if verdicts is None:
            verdicts = self.steps[servers_before] = {}
        # A step that changes no server variable (a message sent, a stale one received)
        # yields the very tuple `servers_before`: its verdict is looked up once per state,
        # not hashed again per successor.
        unchanged: list[str | None] = []
        view = self.view

        def check(after: Any) -> str | None:
            servers_after = after[0]
            if servers_after is servers_before and unchanged:
                return unchanged[0]
            try:
                verdict = verdicts[servers_after]
            except KeyError:
                seen_before, seen_after = view(servers_before), view(servers_after)
                verdict = None
                for name, holds in TRANSITION_INVARIANTS.items():
                    if not holds(seen_before, seen_after):
                        verdict = name
                        break
                verdicts[servers_after] = verdict
            if servers_after is servers_before:
                unchanged.append(verdict)
            return verdict

        return check

    def note_reached(self, state: Any, reached: dict[str, bool]) -> None:
        for name in self._facts(state[0])[1]:
            reached[name] = True
