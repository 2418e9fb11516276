"""The built-in models: key/value, register, compare-and-set register.

Inputs are `(f, key, value)`; `nil` is `None`. Each model is a few pure functions.
"""

from __future__ import annotations

from typing import Any

from checker.linearizability.history import Input
from checker.linearizability.model import Model
from spec.errors import BadInput

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

# --- register: read and write one value, initially nil.


def _register_step(state: Any, inp: Input) -> tuple[Any, Any]:
    f, _key, value = inp
    if f == "read":
        return state, state
    if f == "write":
        return value, None
    raise ValueError(f"register model: unknown operation {f!r} (expected read or write)")


def _show(state: Any) -> str:
    return "nil" if state is None else str(state)


REGISTER = Model(
    name="register",
    init=lambda: None,
    step=_register_step,
    read_only=lambda inp: inp[0] == "read",
    describe_state=_show,
    reads_return_state=True,
)

# --- compare-and-set register (the etcd corpus): cas's output is whether it swapped.


def _cas_step(state: Any, inp: Input) -> tuple[Any, Any]:
    f, _key, value = inp
    if f == "cas":
        expected, new = value
        if state == expected:
            return new, True
        return state, False
    return _register_step(state, inp)


CAS_REGISTER = Model(
    name="cas-register",
    init=lambda: None,
    step=_cas_step,
    read_only=lambda inp: inp[0] == "read",
    describe_state=_show,
    reads_return_state=True,
)

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


def model_named(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise BadInput(f"unknown model {name!r} (expected one of {', '.join(MODELS)})") from None
