"""The MapReduce coordinator's spec (`spec/mapreduce.py`) as a model for the one search.

States are the spec's own frozen dataclasses, stored as they are (no symmetry: the count of
distinct states is the spec's own, 19,831 for the default job). The spec's invariants and step
properties take the configuration first; the model binds it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar

from checker.modelcheck.models.configured import ConfiguredSpec
from spec import mapreduce as spec


@dataclass(frozen=True, kw_only=True, eq=False)
class MapReduceModel(ConfiguredSpec):
    """`spec.mapreduce` for one bounded job (`spec.mapreduce.Config`, validated there)."""

    config: spec.Config = field(default_factory=spec.Config)

    name = "mapreduce"
    module: ClassVar[ModuleType] = spec
    transitions: ClassVar[str] = "STEP_PROPERTIES"

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

