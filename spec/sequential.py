"""Sequential specifications: what a concurrent object must look like when its calls are
taken one at a time (DESIGN.md section 2). Linearizability is judged against them.

A model is a handful of pure functions. `step(state, input)` returns the next state and the
output the object must have returned; it is deterministic, so a checker compares that output
with the recorded one (and skips the comparison for unknown outcomes): a model never needs to
know about time-outs, crashes or pending calls. States and inputs must be hashable: a checker
memoises (linearized set, state) pairs (Lowe's improvement to Wing & Gong).

Inputs are `(f, key, value)` triples for every built-in model, e.g. `("append", "k1", "x")`,
`("read", None, None)`, `("cas", None, (3, 0))`; `nil` is `None`.

Optional hooks make a search faster without changing its answers:
- `partition(input)`: a key; operations with different keys never interact, so each part is
  checked on its own (P-compositionality, Horn & Kroening 2015). Key/value splits per key.
- `read_only(input)`: the operation never changes the state, whatever the state. A search
  then places such an operation as soon as it fits instead of branching on it, and drops
  read-only operations with unknown outputs altogether (they constrain nothing).
- `reads_return_state`: read-only operations return exactly the state (see below).

A new model, e.g. a counter:

    COUNTER = Model(name="counter", init=lambda: 0,
                    step=lambda n, i: (n + i[2], None) if i[0] == "add" else (n, n),
                    read_only=lambda i: i[0] == "get")

The built-in models: `KV` (6.5840's key/value service and Porcupine's kv model), `REGISTER`,
`CAS_REGISTER` (the etcd corpus), `LOG` (Raft seen by its clients) and `SHARDCTRLER` (the
shard controller: its spec, spec.shardctrler, taken one call at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from spec import shardctrler

Input = tuple[str, Hashable, Any]


def _never(_input: Input) -> bool:
    return False


@dataclass(frozen=True)
class Model:
    name: str
    init: Callable[[], Hashable]
    step: Callable[[Any, Input], tuple[Hashable, Any]]
    partition: Callable[[Input], Hashable] | None = None
    read_only: Callable[[Input], bool] = _never
    describe_state: Callable[[Any], str] = repr
    # The model's promise that a read-only operation returns the whole state (kv per key,
    # registers): a search then finds the reads that fit a state by one dictionary lookup
    # instead of stepping every pending read at every node.
    reads_return_state: bool = False

    def unpartitioned(self, keys: Sequence[Hashable] = ()) -> Model:
        """The same object as one whole: the state is a tuple of every part's state.

        Used to check that partitioned and whole-history searches agree, and to measure a
        search on the harder unpartitioned problem (Porcupine's "no partition" benchmark).
        `keys` lists the parts' keys in advance (a fixed tuple is cheaper than a mapping);
        keys not listed are added as they appear.
        """
        if self.partition is None:
            return self
        part, step, init, describe_state = self.partition, self.step, self.init, self.describe_state
        known = tuple(keys)
        slot = {key: i for i, key in enumerate(known)}

        def whole_step(state: Any, inp: Input) -> tuple[Hashable, Any]:
            key = part(inp)
            i = slot.get(key)
            if i is None:  # a key not listed in advance: look for it in the extra pairs
                extra = dict(state[len(known) :])
                new, out = step(extra.get(key, init()), inp)
                extra[key] = new
                ordered = tuple(sorted(extra.items(), key=lambda kv: repr(kv[0])))
                return state[: len(known)] + ordered, out
            new, out = step(state[i], inp)
            return (*state[:i], new, *state[i + 1 :]), out

        def describe(state: Any) -> str:
            pairs = list(zip(known, state, strict=False)) + list(state[len(known) :])
            return "{" + ", ".join(f"{k!r}: {describe_state(s)}" for k, s in pairs) + "}"

        return Model(
            name=f"{self.name} (unpartitioned)",
            init=lambda: tuple(init() for _ in known),
            step=whole_step,
            partition=None,
            read_only=self.read_only,
            describe_state=describe,
        )


# --- key/value (6.5840 kvraft and Porcupine's kv model): per key, a string, initially "".


def _kv_step(state: str, inp: Input) -> tuple[str, Any]:
    f, _key, value = inp
    if f == "get":
        return state, state
    if f == "put":
        return value, None
    if f == "append":
        return state + value, None
    raise ValueError(f"kv model: unknown operation {f!r} (expected get, put or append)")


def _kv_partition(inp: Input) -> Any:
    return inp[1]


KV = Model(
    name="kv",
    init=str,
    step=_kv_step,
    partition=_kv_partition,
    read_only=lambda inp: inp[0] == "get",
    describe_state=repr,
    reads_return_state=True,
)

# --- registers: read and write one value, initially nil; the compare-and-set register (the
# etcd corpus) adds `cas`, whose output is whether it swapped.


def _register_step(state: Any, inp: Input) -> tuple[Any, Any]:
    f, _key, value = inp
    if f == "read":
        return state, state
    if f == "write":
        return value, None
    raise ValueError(f"register model: unknown operation {f!r} (expected read or write)")


def _cas_step(state: Any, inp: Input) -> tuple[Any, Any]:
    f, _key, value = inp
    if f == "cas":
        expected, new = value
        if state == expected:
            return new, True
        return state, False
    return _register_step(state, inp)


def _show(state: Any) -> str:
    return "nil" if state is None else str(state)


def _register(name: str, step: Callable[[Any, Input], tuple[Any, Any]]) -> Model:
    return Model(
        name=name,
        init=lambda: None,
        step=step,
        read_only=lambda inp: inp[0] == "read",
        describe_state=_show,
        reads_return_state=True,
    )


REGISTER = _register("register", _register_step)
CAS_REGISTER = _register("cas-register", _cas_step)

# --- log: an append-only log whose append returns the index the entry landed at, as a
# replicated log (Raft seen by its clients) answers. The state is the log's length: the
# index an append gets does not depend on what earlier entries hold.


def _log_step(length: int, inp: Input) -> tuple[int, Any]:
    if inp[0] != "append":
        raise ValueError(f"log model: unknown operation {inp[0]!r} (expected append)")
    return length + 1, length + 1


LOG = Model(
    name="log",
    init=int,
    step=_log_step,
    describe_state=lambda length: f"{length} entries",
)

# --- the shard controller (lab 4A): the state is the history of configurations; a call is
# applied by the spec itself (spec.shardctrler.apply: one definition of Join, Leave, Move,
# Query and the rebalancing rule). Inputs: ("join", None, ((gid, (servers, ...)), ...)),
# ("leave", None, (gid, ...)), ("move", None, (shard, gid)), ("query", None, num). Outputs: a
# query's configuration; for a change None, or the reason the controller refuses it (a Join
# of a group already present, ...), which changes nothing.


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

MODELS: dict[str, Model] = {m.name: m for m in (KV, REGISTER, CAS_REGISTER, LOG, SHARDCTRLER)}
