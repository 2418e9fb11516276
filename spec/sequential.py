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
`CAS_REGISTER` (the etcd corpus) and `LOG` (Raft seen by its clients).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

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

MODELS: dict[str, Model] = {m.name: m for m in (KV, REGISTER, CAS_REGISTER, LOG)}
