"""The shard controller (lab 4A) as a sequential specification: the model its clients'
histories are judged against (`dscheck lin --model shardctrler`, checker/shardctrler/audit.py).

The state is the history of configurations; a call is applied by the spec itself
(spec.shardctrler: one definition of Join, Leave, Move, Query and the rebalancing rule), so
the model cannot drift from the controller's specification. Inputs: ("join", None, ((gid,
(servers, ...)), ...)), ("leave", None, (gid, ...)), ("move", None, (shard, gid)),
("query", None, num). Outputs: a query's configuration; for a change None, or the reason the
controller refuses it (a Join of a group already present, ...), which changes nothing.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from spec import shardctrler
from spec.sequential import Input, Model


class ConfigHistory:
    """The controller's history of configurations as a search state. A search keeps many
    states at once and hashes one at every step, and a history grows with the run, so a
    history is a chain that shares its prefix with the history it extends (one node per
    configuration, not a copy), with its hash kept incrementally and pointers 2^k
    configurations back, so that reading configuration `num` takes O(log n) steps. Two
    histories are compared exactly: their chains are walked back until they meet."""

    __slots__ = ("_hash", "config", "jumps", "length")
    _hash: int
    config: shardctrler.Configuration
    jumps: tuple[ConfigHistory, ...]
    length: int

    def __init__(self, config: shardctrler.Configuration, prev: ConfigHistory | None) -> None:
        self.config = config
        self.length = 1 if prev is None else prev.length + 1
        self._hash = hash(config) if prev is None else hash((prev._hash, config))
        jumps: list[ConfigHistory] = []
        if prev is not None:  # jumps[k] is the history 2^k configurations shorter
            jumps.append(prev)
            while len(jumps[-1].jumps) >= len(jumps):
                jumps.append(jumps[-1].jumps[len(jumps) - 1])
        self.jumps = tuple(jumps)

    @classmethod
    def initial(cls) -> ConfigHistory:
        return cls(shardctrler.initial(), None)

    def extended(self, config: shardctrler.Configuration) -> ConfigHistory:
        return ConfigHistory(config, self)

    def __getitem__(self, num: int) -> shardctrler.Configuration:
        """Configuration `num` (0 ≤ num < length)."""
        node, back = self, self.length - 1 - num
        k = 0
        while back:
            if back & 1:
                node = node.jumps[k]
            back >>= 1
            k += 1
        return node.config

    def query(self, num: int) -> shardctrler.Configuration:
        """spec.shardctrler.query: configuration `num`, the newest for -1 or past the end."""
        return self.config if num == -1 or num >= self.length else self[num]

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        a, b = self, other
        if not isinstance(b, ConfigHistory) or a.length != b.length or a._hash != b._hash:
            return False
        while a is not b:  # equal lengths: walk back together until the chains meet
            if a.config != b.config:
                return False
            if not a.jumps:
                return True
            a, b = a.jumps[0], b.jumps[0]
        return True

    def __repr__(self) -> str:
        return f"ConfigHistory({self.length} configurations)"


def _ctrl_step(state: ConfigHistory, inp: Input) -> tuple[Hashable, Any]:
    f, _key, arg = inp
    op: shardctrler.Op
    if f == "join":
        op = shardctrler.Join(tuple((int(g), tuple(s)) for g, s in arg))
    elif f == "leave":
        op = shardctrler.Leave(tuple(arg))
    elif f == "move":
        op = shardctrler.Move(*arg)
    elif f == "query":
        op = shardctrler.Query(max(-1, int(arg)))
    else:
        raise ValueError(f"shardctrler model: unknown operation {f!r} (expected join, leave, "
                         "move or query)")
    reason = shardctrler.invalid(state.config, op)
    if reason is not None:
        return state, reason
    if isinstance(op, shardctrler.Query):
        return state, state.query(op.num)
    return state.extended(shardctrler.change(state.config, op)), None


SHARDCTRLER = Model(
    name="shardctrler",
    init=ConfigHistory.initial,
    step=_ctrl_step,
    read_only=lambda inp: inp[0] == "query",
    describe_state=lambda state: state.config.describe(),
)
