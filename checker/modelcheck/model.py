"""Which spec a search explores: the spec's functions plus its compact canonical encoding.

`RAFT` is `spec.raft`; `raft_tla(keep_zero)` is `spec.raft_tla` (raft.tla's semantics, for the
comparison with TLC). The checker never looks inside a state except through a model: its
successors, its encoding, and `view`, which gives the `spec.raft.State` that the invariants of
`spec.raft` are evaluated on (the identity for `RAFT`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from checker.modelcheck.encoding import Encoding, canonical, canonical_tla, decode, decode_tla
from spec import raft, raft_tla
from spec.raft import Action, Config, State


@dataclass(frozen=True)
class Model:
    name: str
    initial_states: Callable[[Config], Iterable[Any]]
    successors: Callable[[Any, Config], Iterator[tuple[Action, Any]]]
    canonical: Callable[[Any, bool], Encoding]
    decode: Callable[[Encoding], Any]
    view: Callable[[Any], State]


def _identity(state: State) -> State:
    return state


RAFT = Model("raft", raft.initial_states, raft.successors, canonical, decode, _identity)


def raft_tla_model(keep_zero: bool = True) -> Model:
    def successors(state: Any, config: Config) -> Iterator[tuple[Action, Any]]:
        return raft_tla.successors(state, config, keep_zero)

    return Model(
        "raft-tla" if keep_zero else "raft-tla-clean-bag",
        raft_tla.initial_states,
        successors,
        canonical_tla,
        decode_tla,
        raft_tla.as_raft_state,
    )


MODELS: dict[str, Callable[[], Model]] = {
    "raft": lambda: RAFT,
    "raft-tla": partial(raft_tla_model, True),
    "raft-tla-clean-bag": partial(raft_tla_model, False),
}
