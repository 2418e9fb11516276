"""The MapReduce coordinator's spec (`spec/mapreduce.py`) as a model for the one search.

States are the spec's own frozen dataclasses, stored as they are (no symmetry: the count of
distinct states is the spec's own, 19,831 for the default job). The spec's invariants and step
properties take the configuration first; the model binds it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from checker.modelcheck.model import Model
from spec import mapreduce as spec


@dataclass(frozen=True, kw_only=True, eq=False)
class MapReduceModel(Model[spec.State]):
    """`spec.mapreduce` for one bounded job (`spec.mapreduce.Config`, validated there)."""

    config: spec.Config = field(default_factory=spec.Config)

    name = "mapreduce"

    def __post_init__(self) -> None:
        c = self.config
        object.__setattr__(self, "invariants", _bound(spec.INVARIANTS, c))
        object.__setattr__(self, "transition_invariants", _bound(spec.STEP_PROPERTIES, c))
        object.__setattr__(self, "sometimes", _bound(spec.SOMETIMES, c))

    def initial_states(self) -> list[spec.State]:
        return spec.initial_states(self.config)

    def successors(self, state: spec.State) -> Iterator[tuple[str, spec.State]]:
        return spec.successors(self.config, state)

    def variables(self, state: spec.State) -> dict[str, Any]:
        return spec.variables(self.config, state)

    def describe_initial(self, state: spec.State) -> str:
        return f"Init: {spec.describe(self.config, state)}"

    def bounds_text(self) -> str:
        return self.config.describe()

    def summary(self) -> dict[str, Any]:
        c = self.config
        return {
            "spec": "mapreduce",
            "config": {
                "maps": c.n_map,
                "reduces": c.n_reduce,
                "workers": c.n_workers,
                "attempts": c.max_attempts,
                "mutation": c.mutation,
            },
        }


def _bound(
    properties: dict[str, Callable[..., bool]], config: spec.Config
) -> dict[str, Callable[..., bool]]:
    return {name: partial(holds, config) for name, holds in properties.items()}
