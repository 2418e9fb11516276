"""What the search needs of a spec: a `Model`, configured once, carrying everything about it.

A model is one object that knows its own bounded configuration. It gives the search:

- the state space: `initial_states()` and `successors(state)` — every enabled
  `(action, next_state)`;
- its properties, by name: state `invariants` (checked at every state), `transition_invariants`
  (checked on every step) and `sometimes` properties (reported reached or not, to show the
  bounds are not vacuous). These mappings are the definitions; `violated_invariant`,
  `step_check` and `note_reached` evaluate them, and a model may override those three to
  evaluate the same definitions faster (memoised, say) but never to change a verdict;
- storage: `canonical(state)`, an encoding that is the same for every state of a symmetry
  orbit when the model was configured with symmetry (and the plain encoding otherwise), and
  `decode` back; `owner` picks a partition of a parallel search;
- a `replay_model()`: the model a counterexample is rebuilt and re-checked with (the readable
  spec, when the search ran a faster engine), whose canonical encoding must give the same
  fingerprints;
- presentation: named plain-JSON `variables(state)` for the counterexample's changes, JSON and
  ITF, a one-line `describe_initial`, and the `summary()` of its configuration.

The search (`search`, `parallel`) never looks inside a state except through its model, and a
model never calls the search: a new spec adds a `Model`, never a search of its own (Stateright's
`Model`; DESIGN.md section 4). A model that memoises keeps its memo between runs (verdicts are
the same, only faster): build a fresh one to time a run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

S = TypeVar("S")

Encoding = Hashable
StepCheck = Callable[[Any], str | None]  # after-state -> the transition invariant it breaks


class Model(Generic[S]):
    """A spec bound to one configuration, as the search sees it (see the module docstring).

    Subclasses set `name`, the three property mappings, and implement `initial_states`,
    `successors` and `variables`; the rest has defaults that suit a model whose states are
    hashable values without symmetry."""

    #: the spec's name ("raft", "mapreduce", ...), as `dscheck model-check NAME` takes it
    name: str = ""
    #: what a counterexample is rebuilt and re-checked with, as the report names it
    replayed_through: str = "the spec"
    invariants: Mapping[str, Callable[[S], bool]] = {}
    transition_invariants: Mapping[str, Callable[[S, S], bool]] = {}
    sometimes: Mapping[str, Callable[[S], bool]] = {}
    #: The canonical encoding is itself a state of the model (decode is the identity): the
    #: search may expand the encoding instead of the state it came from.
    encoding_is_state: bool = False
    #: Per-index variables (lists) show their changed positions with this prefix (s0, s1...).
    index_label: str = ""
    #: Variables whose value is a set, shown in a step as what was added and removed.
    set_variables: frozenset[str] = frozenset()
    #: CPython's hash of an encoding is the same in every process (ints and tuples of them:
    #: no strings, enums or None, whose hashes are seeded per process). Otherwise a search that
    #: crosses processes or files fingerprints with a digest instead (`plain`).
    hash_is_stable: bool = False
    #: `owner` is the fingerprint (the default). A model with its own partition key cannot
    #: have a checkpoint re-partitioned for another number of workers.
    partitioned_by_fingerprint: bool = True
    #: The name of that key, written in a checkpoint: one written under another key (by an
    #: older dscheck, say) is refused rather than resumed with states in the wrong partition.
    partition_key: str = "model"
    #: `owner(state, fingerprint)` ignores the fingerprint and is the same for every state of
    #: a symmetry orbit, canonical or not (needs `encoding_is_state`): a partitioned search
    #: then sends a successor to its owner as generated, and only the owner computes its
    #: canonical form (`partition.expand_batch`).
    owner_is_invariant: bool = False

    # ---- the state space

    def initial_states(self) -> Iterable[S]:
        raise NotImplementedError

    def successors(self, state: S) -> Iterable[tuple[Any, S]]:
        raise NotImplementedError

    # ---- evaluating the properties (defaults: the definitions, in order)

    def violated_invariant(self, state: S) -> str | None:
        """The name of the first state invariant `state` violates, or None."""
        for name, holds in self.invariants.items():
            if not holds(state):
                return name
        return None

    def step_check(self, before: S) -> StepCheck:
        """A function naming the transition invariant a step from `before` violates. Built
        once per expanded state, so that work on `before` is not repeated per successor."""
        checks = self.transition_invariants

        def check(after: Any) -> str | None:
            for name, holds in checks.items():
                if not holds(before, after):
                    return name
            return None

        return check

    def note_reached(self, state: S, reached: dict[str, bool]) -> None:
        """Mark in `reached` the "sometimes" properties `state` satisfies."""
        for name, holds in self.sometimes.items():
            if not reached[name] and holds(state):
                reached[name] = True

    # ---- storage

    def canonical(self, state: S) -> Encoding:
        return state

    def decode(self, encoding: Encoding) -> S:
        return encoding  # type: ignore[return-value]

    def intern(self, states: list[S]) -> list[S]:
        """States made outside this process (a parallel search's records and stolen
        states, a checkpoint's frontier), with the parts this process already holds as
        objects of its own replaced by those (equal values): a model whose memos are keyed
        by such parts then finds them by identity. The default keeps them as they are."""
        return states

    def owner(self, encoding: Encoding, fingerprint: int) -> int:
        """Which partition of a parallel search owns a state, as an int taken modulo the
        number of partitions: by default its fingerprint (see also `owner_is_invariant`)."""
        return fingerprint

    def replay_model(self) -> Model[Any]:
        """The model a counterexample is rebuilt and re-checked with."""
        return self

    def __reduce_ex__(self, protocol: Any) -> str | tuple[Any, ...]:
        # A model built from a dataclass's fields (its configuration) travels as those fields
        # and is built again where it lands (a Ray actor): its bound functions, closures and
        # memo stay behind, and the copy has a memo of its own.
        if dataclasses.is_dataclass(self):
            fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
            return (_rebuild, (type(self), fields))
        return super().__reduce_ex__(protocol)

    # ---- presentation

    def variables(self, state: S) -> dict[str, Any]:
        """The state as named variables of plain JSON values."""
        raise NotImplementedError

    def describe_initial(self, state: S) -> str:
        return "Init"

    def describe_action(self, action: Any) -> str:
        return str(action)

    def bounds_text(self) -> str:
        """The configuration in one line, for the text report."""
        return ""

    def summary(self) -> dict[str, Any]:
        """The configuration as JSON: at least `spec` and `config`."""
        return {"spec": self.name, "config": {}}

    def labels(self) -> list[tuple[str, str]]:
        """Extra rows for the text report (name, value)."""
        return []


def _rebuild(cls: type[Model[Any]], fields: dict[str, Any]) -> Model[Any]:
    return cls(**fields)


def fingerprint(encoding: Encoding) -> int:
    """A 64-bit fingerprint of a canonical encoding. CPython's hash of a tuple of ints is
    deterministic across processes; for encodings holding strings, the forked workers of a
    parallel search share their parent's hash seed, so they agree on partitions."""
    return hash(encoding)
