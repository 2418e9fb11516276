"""A model of a spec written as a module of functions that take its configuration first —
`initial_states(config)`, `successors(config, state)`, properties `(config, state...)` — as
`spec/mapreduce.py` and `spec/shardkv.py` are. The configuration is bound once, here; a
subclass names its module and adds only its presentation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any, ClassVar

from checker.modelcheck.model import Model


@dataclass(frozen=True, kw_only=True, eq=False)
class ConfiguredSpec(Model[Any]):
    """`module` bounded by `config`; `transitions` names the module's table of step
    properties (the specs name it differently)."""

    config: Any
    module: ClassVar[ModuleType]
    transitions: ClassVar[str] = "TRANSITION_INVARIANTS"

    def __post_init__(self) -> None:
        m, c = self.module, self.config
        object.__setattr__(self, "invariants", _bound(m.INVARIANTS, c))
        object.__setattr__(self, "transition_invariants", _bound(getattr(m, self.transitions), c))
        object.__setattr__(self, "sometimes", _bound(m.SOMETIMES, c))

    def initial_states(self) -> Iterable[Any]:
        result: Iterable[Any] = self.module.initial_states(self.config)
        return result

    def successors(self, state: Any) -> Iterable[tuple[Any, Any]]:
        result: Iterable[tuple[Any, Any]] = self.module.successors(self.config, state)
        return result


def _bound(
    properties: Mapping[str, Callable[..., bool]], config: Any
) -> dict[str, Callable[..., bool]]:
    return {name: partial(holds, config) for name, holds in properties.items()}
