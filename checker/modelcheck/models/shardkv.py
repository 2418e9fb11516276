"""The sharded KV spec (`spec/shardkv.py`) as a model for the one search.

States are the spec's frozen dataclasses, stored as they are: no symmetry (groups and shards
are named by the configurations, and each clerk's calls go to different shards). The spec's
properties take the configuration first; the model binds it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, ClassVar

from checker.modelcheck.models.configured import ConfiguredSpec
from spec import shardkv as spec
from spec.shardkv import Status

STATUS_WORDS = {
    Status.ABSENT: "-",
    Status.SERVING: "serving",
    Status.WAITING: "waiting",
    Status.SENDING: "sending",
}


@dataclass(frozen=True, kw_only=True, eq=False)
class ShardKVModel(ConfiguredSpec):
    """`spec.shardkv` bounded by `config` (`spec.shardkv.Config`, validated there)."""

    config: spec.Config = field(default_factory=spec.Config)

    name = "shardkv"
    module: ClassVar[ModuleType] = spec
    set_variables = frozenset({"network"})

    def variables(self, state: spec.State) -> dict[str, Any]:
        return variables(self.config, state)

    def describe_initial(self, state: spec.State) -> str:
        return "Init: every group in configuration 0, no shard held, nothing in flight"

    def bounds_text(self) -> str:
        return self.config.describe()

    def summary(self) -> dict[str, Any]:
        c = self.config
        return {
            "spec": "shardkv",
            "config": {
                "groups": c.groups,
                "shards": c.shards,
                "configs": [list(x) for x in c.configs],
                "clerks": c.clerks,
                "calls": c.calls,
                "max_messages": c.max_messages,
                "drops": c.drops,
                "duplicates": c.duplicates,
                "bugs": sorted(c.bugs),
            },
        }


def variables(config: spec.Config, state: spec.State) -> dict[str, Any]:
    """The state as named plain-JSON variables: per group its configuration, per group and
    shard what it holds (status, the calls in its data, its duplicate table), per clerk the
    calls acknowledged, and the messages in flight."""
    shards: dict[str, str] = {}
    for g, group in enumerate(state.groups):
        for s in range(config.shards):
            held = STATUS_WORDS[group.status[s]]
            if group.status[s] in (Status.SERVING, Status.SENDING):
                held += f" {{{spec.describe_data(config, group.data[s])}}}"
                held += f" dup {spec.describe_dup(group.dup[s])}"
            shards[f"g{g + 1}.s{s}"] = held
    return {
        "published": state.published,
        "num": {f"g{g + 1}": group.num for g, group in enumerate(state.groups)},
        "shards": shards,
        "acked": {f"c{c}": n for c, n in enumerate(state.acked)},
        "network": sorted(spec.describe_message(config, m) for m in state.network),
    }

