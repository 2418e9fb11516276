"""Which spec a search explores, and how its properties are evaluated.

A `Model` is what the search needs of a spec: initial states, successors, a canonical
encoding (symmetry), and three property hooks — the state invariant a state violates, the
transition invariant a step violates, and the "sometimes" properties a state reaches. The
checker never looks inside a state except through a model.

- `raft`: `spec.raft`, whose states are the spec's own; the hooks evaluate `spec.raft`'s
  properties directly.
- `raft-tla`, `raft-tla-clean-bag`, `raft-tla-set`: raft.tla's semantics (`spec.raft_tla`) with
  its message bag, the bag without count-0 messages, or a set (with duplication), for the
  comparison with TLC, with two engines. `spec` runs the readable module and evaluates the properties on
  its `spec.raft.State` view. `packed` (the default) runs `packed_tla`, the same successor
  relation on packed states (tests keep the two equal), and evaluates the same property
  functions memoised on the server variables (`spec.raft_invariants.SERVER_ONLY`): a bounded
  configuration has far fewer distinct server-variable combinations than states, since the
  bag multiplies them.

A model's `replay` is the model a counterexample is rebuilt with: always the readable spec,
with the fast model's canonical encoding, so that the fingerprints of the search's path match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from checker.modelcheck import packed_tla
from checker.modelcheck.encoding import Encoding, canonical, canonical_tla, decode, decode_tla
from spec import raft, raft_tla
from spec.raft import INVARIANTS, SOMETIMES, TRANSITION_INVARIANTS, Config, State
from spec.raft_invariants import SERVER_ONLY, message_well_typed, servers_well_typed
from spec.raft_types import Snapshot

StepCheck = Callable[[Any], str | None]  # after-state -> violated transition invariant


@dataclass(frozen=True)
class Model:
    name: str
    initial_states: Callable[[Config], Iterable[Any]]
    successors: Callable[[Any, Config], Iterator[tuple[Any, Any]]]
    canonical: Callable[[Any, bool], Encoding]
    decode: Callable[[Encoding], Any]
    # The name of the first state invariant the state violates, or None.
    violated_invariant: Callable[[Any], str | None]
    # Given a state, a function naming the transition invariant a step from it violates.
    step_check: Callable[[Any], StepCheck]
    # Mark in the dict the "sometimes" properties the state satisfies.
    note_reached: Callable[[Any, dict[str, bool]], None]
    replay: Model | None = None  # None: replay with this model itself
    # The canonical encoding is itself a state of the model (decode is the identity): the
    # search may expand it instead of the state it came from.
    encoding_is_state: bool = False
    # Which partition of a parallel search owns a state, as an int taken modulo the number
    # of partitions: by default its fingerprint. The packed model partitions by the servers'
    # variables alone, so that all the states sharing them, and so the memoised verdicts of
    # the properties that read only them, live in one process.
    owner: Callable[[Encoding, int], int] = lambda encoding, fingerprint: fingerprint


def _view_hooks(
    view: Callable[[Any], State],
) -> tuple[
    Callable[[Any], str | None], Callable[[Any], StepCheck], Callable[[Any, dict[str, bool]], None]
]:
    """The property hooks of a model whose states are seen as `spec.raft.State` by `view`."""

    def violated_invariant(state: Any) -> str | None:
        seen = view(state)
        for name, holds in INVARIANTS.items():
            if not holds(seen):
                return name
        return None

    def step_check(before: Any) -> StepCheck:
        seen_before = view(before)  # once per expanded state, not once per successor

        def check(after: Any) -> str | None:
            seen_after = view(after)
            for name, holds in TRANSITION_INVARIANTS.items():
                if not holds(seen_before, seen_after):
                    return name
            return None

        return check

    def note_reached(state: Any, reached: dict[str, bool]) -> None:
        seen = None
        for name, prop in SOMETIMES.items():
            if not reached[name]:
                seen = seen or view(state)
                if prop(seen):
                    reached[name] = True

    return violated_invariant, step_check, note_reached


def _identity(state: State) -> State:
    return state


RAFT = Model(
    "raft", raft.initial_states, raft.successors, canonical, decode, *_view_hooks(_identity)
)


def raft_tla_spec_model(network: str) -> Model:
    """raft.tla's semantics run by the readable `spec.raft_tla`."""

    def successors(state: Any, config: Config) -> Iterator[tuple[Any, Any]]:
        return raft_tla.successors(state, config, network)

    return Model(
        _TLA_NAMES[network],
        raft_tla.initial_states,
        successors,
        canonical_tla,
        decode_tla,
        *_view_hooks(raft_tla.as_raft_state),
    )


def raft_tla_packed_model(network: str) -> Model:
    """raft.tla's semantics run by `packed_tla`, properties memoised on server variables."""
    memo = _ServerMemo()

    def initial_states(config: Config) -> list[Any]:
        return [packed_tla.pack(s) for s in raft_tla.initial_states(config)]

    def successors(state: Any, config: Config) -> Iterator[tuple[Any, Any]]:
        return packed_tla.successors(state, config, network)

    def identity(encoding: Encoding) -> Any:
        return encoding

    readable = raft_tla_spec_model(network)

    def canonical_of_readable(state: Any, symmetry: bool) -> Encoding:
        return packed_tla.canonical(packed_tla.pack(state), symmetry)

    replay = Model(
        readable.name,
        readable.initial_states,
        readable.successors,
        canonical_of_readable,
        readable.decode,
        readable.violated_invariant,
        readable.step_check,
        readable.note_reached,
    )
    return Model(
        _TLA_NAMES[network],
        initial_states,
        successors,
        packed_tla.canonical,
        identity,
        memo.violated_invariant,
        memo.step_check,
        memo.note_reached,
        replay,
        encoding_is_state=True,
        owner=_servers_hash,
    )


def _servers_hash(encoding: Encoding, fingerprint: int) -> int:
    return hash(encoding[0])


# The raft.tla-mode semantics by their network (spec.raft_tla.NETWORKS).
_TLA_NAMES = {"bag": "raft-tla", "clean-bag": "raft-tla-clean-bag", "set": "raft-tla-set"}


def _servers_view(servers: tuple[Any, ...]) -> State:
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


class _ServerMemo:
    """The properties of a packed state, each evaluated by its `spec.raft` definition and
    memoised on what it reads: server variables for those in SERVER_ONLY; for TypeOK, its
    server conjunct per server variables, its message conjunct per message, and the restart
    count's directly."""

    def __init__(self) -> None:
        assert set(INVARIANTS) - SERVER_ONLY == {"TypeOK"}, "a new invariant reads the network"
        assert set(TRANSITION_INVARIANTS) | set(SOMETIMES) <= SERVER_ONLY
        self.state_verdicts: dict[Any, str | None] = {}
        self.message_ok: dict[int, bool] = {}
        self.reached: dict[Any, tuple[str, ...]] = {}
        self.steps: dict[Any, dict[Any, str | None]] = {}

    def violated_invariant(self, state: Any) -> str | None:
        servers, bag = state[0], state[1]
        try:
            verdict = self.state_verdicts[servers]
        except KeyError:
            verdict = self.state_verdicts[servers] = self._server_verdict(servers)
        if verdict is not None:
            return verdict
        if state[2] < 0:  # TypeOK's conjunct on the restart count
            return "TypeOK"
        n = len(servers)
        for item in bag:
            key = packed_tla.item_key(item)
            ok = self.message_ok.get(key)
            if ok is None:
                ok = message_well_typed(packed_tla.unpack_message(key), n)
                self.message_ok[key] = ok
            if not ok:
                return "TypeOK"
        return None

    @staticmethod
    def _server_verdict(servers: Any) -> str | None:
        seen = _servers_view(servers)
        for name, holds in INVARIANTS.items():
            if name == "TypeOK":
                if not servers_well_typed(seen):
                    return name
            elif not holds(seen):
                return name
        return None

    def step_check(self, before: Any) -> StepCheck:
        servers_before = before[0]
        verdicts = self.steps.setdefault(servers_before, {})
        seen_before: list[State] = []

        def check(after: Any) -> str | None:
            servers_after = after[0]
            try:
                return verdicts[servers_after]
            except KeyError:
                if not seen_before:
                    seen_before.append(_servers_view(servers_before))
                seen_after = _servers_view(servers_after)
                verdict = None
                for name, holds in TRANSITION_INVARIANTS.items():
                    if not holds(seen_before[0], seen_after):
                        verdict = name
                        break
                verdicts[servers_after] = verdict
                return verdict

        return check

    def note_reached(self, state: Any, reached: dict[str, bool]) -> None:
        servers = state[0]
        names = self.reached.get(servers)
        if names is None:
            seen = _servers_view(servers)
            names = tuple(name for name, prop in SOMETIMES.items() if prop(seen))
            self.reached[servers] = names
        for name in names:
            reached[name] = True


def model_named(name: str, engine: str = "auto") -> Model:
    """The model of semantics `name` run by `engine` ("auto": the fastest there is)."""
    if name == "raft":
        if engine == "packed":
            raise ValueError("the packed engine exists for the raft-tla semantics only")
        return RAFT
    network = {semantics: network for network, semantics in _TLA_NAMES.items()}[name]
    if engine == "spec":
        return raft_tla_spec_model(network)
    return raft_tla_packed_model(network)


def engine_name(semantics: str, engine: str) -> str:
    """The engine that `model_named(semantics, engine)` runs: "spec" or "packed"."""
    return "spec" if semantics == "raft" or engine == "spec" else "packed"


SEMANTICS = ("raft", *_TLA_NAMES.values())
ENGINES = ("auto", "packed", "spec")
