"""The Raft spec as a model: one object holding the bounds, the semantics, the engine and
whether symmetry is on, validated when it is built.

Semantics (which successor relation):

- `raft`: `spec.raft` — Figure 2 with atomic message handling, the network as a set, bug flags
  and snapshots;
- `raft-tla`, `raft-tla-clean-bag`, `raft-tla-set`: raft.tla's actions (`spec.raft_tla`) with
  its message bag, the bag without count-0 messages, or a set whose messages stay after
  delivery (it stands for a network that duplicates), for the comparison with TLC.

Engines (how it is run): `spec` runs the readable spec's own functions; `packed` (raft.tla
semantics only) runs `packed_tla`, the same successor relation on packed states, kept equal to
the readable spec by tests, with the spec's property definitions evaluated memoised on the
server variables (`raft_memo`); `auto` picks packed where it exists. Whatever the engine, the
properties are `spec.raft`'s definitions, and a counterexample is rebuilt and re-checked by
the readable spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from checker.modelcheck import packed_tla
from checker.modelcheck.encoding import canonical, canonical_tla, decode, decode_tla
from checker.modelcheck.model import Encoding, Model, StepCheck
from checker.modelcheck.models.raft_memo import ServerMemo
from spec import raft, raft_tla
from spec.raft import INVARIANTS, SOMETIMES, TRANSITION_INVARIANTS, Config, State
from spec.raft_types import Entry, Snapshot, describe_message

# Semantics -> the network of spec.raft_tla it runs (None: spec.raft).
SEMANTICS: dict[str, str | None] = {
    "raft": None,
    "raft-tla": "bag",
    "raft-tla-clean-bag": "clean-bag",
    "raft-tla-set": "set",
}
ENGINES = ("auto", "packed", "spec")


@dataclass(frozen=True, kw_only=True, eq=False)
class RaftModel(Model[Any]):
    """`spec.raft` (or raft.tla's semantics) bounded by `config`; see the module docstring.
    Raises ValueError, naming the option to change, for a combination that cannot run."""

    config: Config = field(default_factory=Config)
    semantics: str = "raft"
    engine: str = "auto"
    symmetry: bool = True

    name = "raft"
    index_label = "s"
    set_variables = frozenset({"network"})
    # Every engine encodes a state as tuples of ints and the specs' int-only entries and
    # snapshots (a vote for nobody is -1, never None): `hash` is the same in every process
    # (tests/modelcheck/test_distributed.py runs two interpreters with different seeds).
    hash_is_stable = True

    def __post_init__(self) -> None:
        if self.semantics not in SEMANTICS:
            raise ValueError(f"unknown semantics {self.semantics!r}; known: {', '.join(SEMANTICS)}")
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; known: {', '.join(ENGINES)}")
        network = SEMANTICS[self.semantics]
        if network is None:
            if self.engine == "packed":
                raise ValueError(
                    "the packed engine exists for the raft-tla semantics only, not for raft"
                )
            self._set_up_raft()
            return
        problem = raft_tla.config_error(self.config, network)
        if problem is not None:
            raise ValueError(f"semantics {self.semantics}: {problem}")
        if self.engine == "spec":
            self._set_up_tla_spec(network)
        else:
            self._set_up_tla_packed(network)

    # The engines bind the hot functions as instance attributes (a frozen dataclass, hence
    # object.__setattr__), so that the search calls them without a layer of dispatch.

    def _bind(self, **attributes: Any) -> None:
        for key, value in attributes.items():
            object.__setattr__(self, key, value)

    def _set_up_raft(self) -> None:
        config = self.config
        self._bind(
            initial_states=partial(raft.initial_states, config),
            successors=partial(_raft_successors, config),
            canonical=partial(canonical, symmetry=self.symmetry),
            decode=decode,
            invariants=INVARIANTS,
            transition_invariants=TRANSITION_INVARIANTS,
            sometimes=SOMETIMES,
        )

    def _set_up_tla_spec(self, network: str) -> None:
        config = self.config
        viewed = _Viewed(raft_tla.as_raft_state)
        self._bind(
            initial_states=partial(raft_tla.initial_states, config),
            successors=partial(_tla_successors, config, network),
            canonical=partial(canonical_tla, symmetry=self.symmetry),
            decode=decode_tla,
            **viewed.attributes(),
        )

    def _set_up_tla_packed(self, network: str) -> None:
        config = self.config
        memo = ServerMemo()
        viewed = _Viewed(_packed_view)
        readable = RaftModel(
            config=config, semantics=self.semantics, engine="spec", symmetry=self.symmetry
        )
        # The readable spec, fingerprinting its states as the packed search did, so that a
        # counterexample's path of fingerprints can be followed.
        symmetry = self.symmetry

        def canonical_of_readable(state: Any) -> Encoding:
            return packed_tla.canonical(packed_tla.pack(state), symmetry)

        readable._bind(canonical=canonical_of_readable)
        properties = viewed.attributes()  # the definitions, for the record and for replay
        properties.update(
            violated_invariant=memo.violated_invariant,
            step_check=memo.step_check,
            note_reached=memo.note_reached,
        )
        self._bind(
            initial_states=lambda: [packed_tla.pack(s) for s in raft_tla.initial_states(config)],
            successors=packed_tla.successor_function(config, network),
            canonical=partial(packed_tla.canonical, symmetry=symmetry),
            decode=_identity,
            encoding_is_state=True,
            partitioned_by_fingerprint=False,
            # Packed states are partitioned by the servers' variables alone, so that all the
            # states sharing them, and so the memoised verdicts of the properties that read
            # only them, live in one process; with symmetry, by a key of them that is the
            # same for the whole orbit, so that a successor is routed before its canonical
            # form (`Model.owner_is_invariant`).
            intern=packed_tla.intern,
            owner=packed_tla.orbit_owner() if symmetry else _servers_hash,
            owner_is_invariant=symmetry,
            partition_key="servers-orbit-key" if symmetry else "servers-hash",
            _replay=readable,
            **properties,
        )

    # ---- what the search asks besides the bound functions

    def replay_model(self) -> Model[Any]:
        replay: Model[Any] | None = getattr(self, "_replay", None)
        return replay if replay is not None else self

    @property
    def engine_used(self) -> str:
        """The engine that runs: "spec" or "packed"."""
        return "spec" if self.semantics == "raft" or self.engine == "spec" else "packed"

    # ---- presentation

    def variables(self, state: Any) -> dict[str, Any]:
        return variables(_as_raft(state))

    def describe_initial(self, state: Any) -> str:
        return "Init: every server a follower, empty logs, nothing in flight"

    def bounds_text(self) -> str:
        c = self.config
        return (
            f"{c.servers} servers, terms ≤ {c.max_term}, logs ≤ {c.max_log}, "
            f"{c.values} value(s), ≤ {c.max_messages} in flight, ≤ {c.max_restarts} restarts"
            + (", drops" if c.drops else "")
            + (", duplicates" if c.duplicates else "")
            + (", snapshots" if c.snapshots else "")
            + (f", bugs: {', '.join(sorted(c.bugs))}" if c.bugs else "")
        )

    def summary(self) -> dict[str, Any]:
        c = self.config
        return {
            "spec": "raft",
            "semantics": self.semantics,
            "engine": self.engine_used,
            "config": {
                "servers": c.servers,
                "max_term": c.max_term,
                "max_log": c.max_log,
                "values": c.values,
                "max_messages": c.max_messages,
                "max_restarts": c.max_restarts,
                "drops": c.drops,
                "duplicates": c.duplicates,
                "snapshots": c.snapshots,
                "bugs": sorted(c.bugs),
            },
            "symmetry": self.symmetry,
        }

    def labels(self) -> list[tuple[str, str]]:
        return [
            ("semantics", f"{self.semantics}, {self.engine_used} engine"),
            ("symmetry", "on" if self.symmetry else "off"),
        ]


def _raft_successors(config: Config, state: State) -> Iterator[tuple[Any, State]]:
    return raft.successors(state, config)


def _tla_successors(config: Config, network: str, state: Any) -> Iterator[tuple[Any, Any]]:
    return raft_tla.successors(state, config, network)


def _identity(encoding: Any) -> Any:
    return encoding


def _servers_hash(state: Any, fingerprint: int) -> int:
    return hash(state[0])


def _packed_view(state: Any) -> State:
    return raft_tla.as_raft_state(packed_tla.unpack(state))


class _Viewed:
    """`spec.raft`'s properties for states seen as a `spec.raft.State` through `view`, with
    evaluators that compute the view once per state rather than once per property."""

    def __init__(self, view: Callable[[Any], State]) -> None:
        self.view = view

    def attributes(self) -> dict[str, Any]:
        view = self.view
        invariants: Mapping[str, Callable[[Any], bool]] = {
            name: _through(view, holds) for name, holds in INVARIANTS.items()
        }
        transition: Mapping[str, Callable[[Any, Any], bool]] = {
            name: _through2(view, holds) for name, holds in TRANSITION_INVARIANTS.items()
        }
        sometimes: Mapping[str, Callable[[Any], bool]] = {
            name: _through(view, holds) for name, holds in SOMETIMES.items()
        }
        return {
            "invariants": invariants,
            "transition_invariants": transition,
            "sometimes": sometimes,
            "violated_invariant": self.violated_invariant,
            "step_check": self.step_check,
            "note_reached": self.note_reached,
        }

    def violated_invariant(self, state: Any) -> str | None:
        seen = self.view(state)
        for name, holds in INVARIANTS.items():
            if not holds(seen):
                return name
        return None

    def step_check(self, before: Any) -> StepCheck:
        seen_before = self.view(before)  # once per expanded state, not once per successor
        view = self.view

        def check(after: Any) -> str | None:
            seen_after = view(after)
            for name, holds in TRANSITION_INVARIANTS.items():
                if not holds(seen_before, seen_after):
                    return name
            return None

        return check

    def note_reached(self, state: Any, reached: dict[str, bool]) -> None:
        seen = None
        for name, prop in SOMETIMES.items():
            if not reached[name]:
                seen = seen or self.view(state)
                if prop(seen):
                    reached[name] = True


def _through(view: Callable[[Any], State], holds: Callable[[State], bool]) -> Callable[[Any], bool]:
    return lambda state: holds(view(state))


def _through2(
    view: Callable[[Any], State], holds: Callable[[State, State], bool]
) -> Callable[[Any, Any], bool]:
    return lambda before, after: holds(view(before), view(after))


# ---------------------------------------------------------------- presentation


def _as_raft(state: Any) -> State:
    """A raft.tla-mode state as its `spec.raft.State` view; a `spec.raft.State` as itself."""
    return raft_tla.as_raft_state(state) if isinstance(state, raft_tla.TlaState) else state


def variables(state: State) -> dict[str, Any]:
    """The state as named variables of plain JSON values (per-server ones as lists by id),
    under the spec's own names (docs/vocabulary.md); they are also the ITF variables."""
    return {
        "term": list(state.term),
        "role": [r.name.lower() for r in state.role],
        "voted_for": list(state.voted_for),
        "log": [[_entry(e) for e in log] for log in state.log],
        "snapshot": [_snapshot(s) for s in state.snapshot],
        "commit_index": list(state.commit_index),
        "votes_responded": [sorted(v) for v in state.votes_responded],
        "votes_granted": [sorted(v) for v in state.votes_granted],
        "next_index": [list(r) for r in state.next_index],
        "match_index": [list(r) for r in state.match_index],
        "network": sorted(describe_message(m) for m in state.network),
        "restarts": state.restarts,
    }


def _entry(e: Entry) -> str:
    return f"t{e.term}:v{e.value}"


def _snapshot(s: Snapshot) -> dict[str, Any]:
    return {"index": s.index, "term": s.term, "values": list(s.values)}
