"""The rest of Knossos's sequential models: a mutex, a register per key under transactions, a
grow-only set, and two queues (see `spec.sequential` for what a model is).

Inputs follow Jepsen's operations, as `(f, key, value)` triples with `key` None:
- mutex: `("acquire", None, None)`, `("release", None, None)`; acquiring a held lock or
  releasing a free one is `ILLEGAL`.
- multi-register: `("txn", None, ((f, k, v), ...))` with `f` "r" or "w"; the output is the
  transaction with every read's value filled in, as Jepsen's `:ok` records it
  (`[[:r :x 3] [:w :y 2]]`). Registers start nil.
- set: `("add", None, v)`, `("read", None, None)`; a read returns the whole set.
- queues: `("enqueue", None, v)`, `("dequeue", None, v)`: a dequeue's value is the element it
  returned, filled in from its `:ok` as Knossos does (nil when unknown). An unordered queue
  takes out any element present; a FIFO queue only its head. A dequeue that found the queue
  empty returns nil.

Why some calls with unknown outputs are left out: a dequeue from an unordered queue whose
element is unknown either took out some element nobody else dequeues, or nothing; nobody
looks at what stays in an unordered queue (an empty dequeue fails, and a failed call did not
happen), so leaving it out changes no verdict. A FIFO dequeue is kept: it takes the head,
which the next dequeue sees.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from spec.sequential import (
    ILLEGAL,
    Call,
    Input,
    Model,
    Refuted,
    _key_of,
    multiset_excess,
    observed,
)

# --- mutex ------------------------------------------------------------------------------


def _mutex_step(held: bool, inp: Input) -> tuple[bool, Any]:
    f = inp[0]
    if f == "acquire":
        return (True, None) if not held else (held, ILLEGAL)
    if f == "release":
        return (False, None) if held else (held, ILLEGAL)
    raise ValueError(f"mutex model: unknown operation {f!r} (expected acquire or release)")


MUTEX = Model(
    name="mutex",
    init=lambda: False,
    step=_mutex_step,
    describe_state=lambda held: "held" if held else "free",
)

# --- multi-register: registers by key, read and written by transactions -----------------

Registers = tuple[tuple[Hashable, Any], ...]  # sorted (key, value) pairs; absent = nil


def _micro_ops(inp: Input) -> tuple[tuple[str, Hashable, Any], ...]:
    f, _key, ops = inp
    if f != "txn":
        raise ValueError(f"multi-register model: unknown operation {f!r} (expected txn)")
    if not isinstance(ops, tuple) or not all(
        isinstance(op, tuple) and len(op) == 3 and op[0] in ("r", "w") for op in ops
    ):
        raise ValueError(
            f"a txn's value must be a list of [:r key value] and [:w key value], not {ops!r}"
        )
    return ops


def _txn_step(state: Registers, inp: Input) -> tuple[Registers, Any]:
    values = dict(state)
    out = []
    wrote = False
    for f, k, v in _micro_ops(inp):
        if f == "r":
            out.append(("r", k, values.get(k)))
        else:
            values[k] = v
            wrote = True
            out.append(("w", k, v))
    if wrote:
        state = tuple(sorted(values.items(), key=lambda kv: repr(kv[0])))
    return state, tuple(out)


def _txn_keys(inp: Input) -> Iterable[Hashable]:
    return [k for _f, k, _v in _micro_ops(inp)]


def _txn_read_only(inp: Input) -> bool:
    return all(f == "r" for f, _k, _v in _micro_ops(inp))


def _txn_reads(calls: Sequence[Call]) -> set[tuple[Hashable, Any]]:
    seen = set()
    for c in calls:
        if observed(c) and isinstance(c.output, tuple):
            for op in c.output:
                if isinstance(op, tuple) and len(op) == 3 and op[0] == "r":
                    seen.add((op[1], _key_of(op[2])))
    return seen


def _txn_needless(calls: Sequence[Call]) -> set[int]:
    """A transaction that never returned and none of whose writes any completed read saw:
    each key it writes holds the written value until the next write of the key, and nobody
    read it, so leaving the transaction out changes nothing anyone saw."""
    seen = _txn_reads(calls)
    return {
        i for i, c in enumerate(calls)
        if c.ret is None and all((k, _key_of(v)) not in seen
                                 for f, k, v in _micro_ops(c.input) if f == "w")
    }


def _txn_refute(calls: Sequence[Call]) -> Refuted | None:
    """A completed read of a value that no transaction writes to that key (and not nil)."""
    written = {(k, _key_of(v)) for c in calls for f, k, v in _micro_ops(c.input) if f == "w"}
    for i, c in enumerate(calls):
        if observed(c) and isinstance(c.output, tuple):
            for op in c.output:
                if isinstance(op, tuple) and len(op) == 3 and op[0] == "r" \
                        and op[2] is not None and (op[1], _key_of(op[2])) not in written:
                    return f"a txn read {op[2]!r} from {op[1]!r}, which no txn wrote there", (i,)
    return None


MULTI_REGISTER = Model(
    name="multi-register",
    init=tuple,
    step=_txn_step,
    keys=_txn_keys,
    read_only=_txn_read_only,
    describe_state=lambda regs: "{" + ", ".join(f"{k!r}: {v!r}" for k, v in regs) + "}",
    needless=_txn_needless,
    refute=_txn_refute,
)

# --- set: add and read the whole set ----------------------------------------------------


def _set_step(state: frozenset[Any], inp: Input) -> tuple[frozenset[Any], Any]:
    f, _key, value = inp
    if f == "add":
        return (state if value in state else state | {value}), None
    if f == "read":
        return state, state
    raise ValueError(f"set model: unknown operation {f!r} (expected add or read)")


def _as_set(inp: Input, output: Any) -> Any:
    """A read's output as a set, however the file wrote it (a vector, a list, a set)."""
    if inp[0] == "read" and isinstance(output, tuple | list | set | frozenset):
        try:
            return frozenset(output)
        except TypeError:
            return output
    return output


def _set_needless(calls: Sequence[Call]) -> set[int]:
    """An add that never returned, of an element in no completed read: once added, every read
    holds it, so no completed read comes after it."""
    seen: set[Any] = set()
    for c in calls:
        if observed(c) and c.input[0] == "read" and isinstance(c.output, frozenset):
            seen |= c.output
    return {i for i, c in enumerate(calls)
            if c.ret is None and c.input[0] == "add" and c.input[2] not in seen}


def _set_refute(calls: Sequence[Call]) -> Refuted | None:
    added = {c.input[2] for c in calls if c.input[0] == "add"}
    for i, c in enumerate(calls):
        if observed(c) and c.input[0] == "read" and isinstance(c.output, frozenset):
            extra = c.output - added
            if extra:
                return f"a read returned {sorted(extra, key=repr)[0]!r}, which no add added", (i,)
    return None


SET = Model(
    name="set",
    init=frozenset,
    step=_set_step,
    read_only=lambda inp: inp[0] == "read",
    reads_return_state=True,
    describe_state=lambda s: "#{" + " ".join(repr(v) for v in sorted(s, key=repr)) + "}",
    needless=_set_needless,
    refute=_set_refute,
    output_form=_as_set,
    # A set only grows: a read that returns X fits later only if X holds the state.
    may_become=lambda state, output, _resets: not isinstance(output, frozenset) or state <= output,
)

# --- queues -----------------------------------------------------------------------------

Elements = tuple[Any, ...]


def _check_queue_f(f: str, name: str) -> None:
    if f not in ("enqueue", "dequeue"):
        raise ValueError(f"{name} model: unknown operation {f!r} (expected enqueue or dequeue)")


def _unordered_step(state: Elements, inp: Input) -> tuple[Elements, Any]:
    """The state is the multiset of elements, as a tuple sorted by repr."""
    f, _key, value = inp
    _check_queue_f(f, "unordered-queue")
    if f == "enqueue":
        items = list(state)
        insort(items, value, key=repr)
        return tuple(items), None
    if value is None:  # a dequeue that found the queue empty
        return state, (None if not state else ILLEGAL)
    for i, v in enumerate(state):
        if v == value:
            return state[:i] + state[i + 1:], value
    return state, ILLEGAL


def _fifo_step(state: Elements, inp: Input) -> tuple[Elements, Any]:
    f, _key, value = inp
    _check_queue_f(f, "fifo-queue")
    if f == "enqueue":
        return (*state, value), None
    if not state:
        return state, None
    if value is not None and state[0] != value:
        return state, ILLEGAL
    return state[1:], state[0]


def _enqueued(calls: Sequence[Call]) -> list[Any]:
    return [_key_of(c.input[2]) for c in calls if c.input[0] == "enqueue"]


def _dequeued(calls: Sequence[Call]) -> list[tuple[int, Any]]:
    return [(i, _key_of(c.output)) for i, c in enumerate(calls)
            if observed(c) and c.input[0] == "dequeue" and c.output is not None]


def _queue_needless(calls: Sequence[Call]) -> set[int]:
    """An enqueue that never returned, of an element no completed dequeue returned: in an
    unordered queue nobody looks at it; in a FIFO queue it would block every dequeue after
    it reached the head, so no linearization that uses it is needed."""
    seen = {v for _i, v in _dequeued(calls)}
    return {i for i, c in enumerate(calls)
            if c.ret is None and c.input[0] == "enqueue" and _key_of(c.input[2]) not in seen}


def _queue_refute(calls: Sequence[Call]) -> Refuted | None:
    taken = _dequeued(calls)
    v = multiset_excess([v for _i, v in taken], _enqueued(calls))
    if v is None:
        return None
    witnesses = tuple(i for i, w in taken if w == v)
    times = "more often than it was enqueued" if _enqueued(calls).count(v) else \
        "but it was never enqueued"
    return f"{v!r} was dequeued {times}", witnesses


def _queue(name: str, step: Any, droppable: Any) -> Model:
    return Model(
        name=name,
        init=tuple,
        step=step,
        droppable=droppable,
        describe_state=lambda items: "[" + " ".join(repr(v) for v in items) + "]",
        needless=_queue_needless,
        refute=_queue_refute,
    )


UNORDERED_QUEUE = _queue("unordered-queue", _unordered_step,
                         lambda inp: inp[0] == "dequeue")
FIFO_QUEUE = _queue("fifo-queue", _fifo_step, lambda inp: False)

KNOSSOS_MODELS = (MUTEX, MULTI_REGISTER, SET, UNORDERED_QUEUE, FIFO_QUEUE)
