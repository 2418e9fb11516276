"""Naive twins of every sequential model (STYLE.md 9), for the tests.

Each twin replays calls on plain mutable Python data, written apart from `spec.sequential`'s
models, and returns every (output, state) a call may give, so a nondeterministic call (a
dequeue from an unordered queue whose element is unknown) is all its outcomes, with no
shortcut. `naive_linearizable` tries every order consistent with real time, leaving out any
subset of the calls that never returned. Exponential: for histories of a handful of calls.

`generated` draws (Hypothesis) a history that is linearizable as built: each call gets a
point inside its span, calls are applied in point order, and each input is chosen there so
that it can take effect (a release only while the lock is held).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from checker.linearizability import Operation
from spec import shardctrler

Outcome = tuple[Any, Any]  # (output, state after)
NOT_SEEN = object()  # a call that never returned, or returned an unknown output


def _register(state: Any, inp: tuple[str, Any, Any]) -> list[Outcome]:
    f, _k, v = inp
    if f == "read":
        return [(state, state)]
    if f == "write":
        return [(None, v)]
    expected, new = v
    return [(True, new)] if state == expected else [(False, state)]


def _kv(state: dict[Any, str], inp: tuple[str, Any, Any]) -> list[Outcome]:
    f, k, v = inp
    after = dict(state)
    old = state.get(k, "")
    if f == "get":
        return [(old, state)]
    after[k] = v if f == "put" else old + v
    return [(None, after)]


def _log(state: list[Any], inp: tuple[str, Any, Any]) -> list[Outcome]:
    return [(len(state) + 1, [*state, inp[2]])]


def _mutex(state: bool, inp: tuple[str, Any, Any]) -> list[Outcome]:
    if inp[0] == "acquire":
        return [] if state else [(None, True)]
    return [(None, False)] if state else []


def _txn(state: dict[Any, Any], inp: tuple[str, Any, Any]) -> list[Outcome]:
    regs = dict(state)
    out = []
    for f, k, v in inp[2]:
        if f == "r":
            out.append(("r", k, regs.get(k)))
        else:
            regs[k] = v
            out.append(("w", k, v))
    return [(tuple(out), regs)]


def _set(state: set[Any], inp: tuple[str, Any, Any]) -> list[Outcome]:
    if inp[0] == "add":
        return [(None, state | {inp[2]})]
    return [(frozenset(state), state)]


def _unordered(state: list[Any], inp: tuple[str, Any, Any]) -> list[Outcome]:
    f, _k, v = inp
    if f == "enqueue":
        return [(None, [*state, v])]
    if v is not None:  # the element the dequeue returned, completed from its :ok
        if v not in state:
            return []
        rest = list(state)
        rest.remove(v)
        return [(v, rest)]
    if not state:
        return [(None, state)]
    # Unknown element: any one of them (a dequeue known to have found it empty cannot).
    outcomes: list[Outcome] = []
    for i, x in enumerate(state):
        outcomes.append((x, state[:i] + state[i + 1:]))
    outcomes.append(("nonempty", state))  # marks "found nothing" on a non-empty queue
    return outcomes


def _fifo(state: list[Any], inp: tuple[str, Any, Any]) -> list[Outcome]:
    f, _k, v = inp
    if f == "enqueue":
        return [(None, [*state, v])]
    if not state:
        return [(None, state)]
    if v is not None and state[0] != v:
        return []
    return [(state[0], state[1:])]


def _shardctrler(state: list[Any], inp: tuple[str, Any, Any]) -> list[Outcome]:
    # The configurations as a plain list; each change made by the controller's spec itself
    # (the one definition of the rebalancing rule), the rest — refusals, queries, the
    # history — by hand, apart from spec.sequential_shardctrler's chain of histories.
    f, _k, arg = inp
    op: shardctrler.Op = (shardctrler.Join(arg) if f == "join" else shardctrler.Leave(arg)
                          if f == "leave" else shardctrler.Move(*arg) if f == "move"
                          else shardctrler.Query(arg))
    reason = shardctrler.invalid(state[-1], op)
    if reason is not None:
        return [(reason, state)]
    if f == "query":
        return [(state[-1] if arg == -1 or arg >= len(state) else state[arg], state)]
    return [(None, [*state, shardctrler.change(state[-1], op)])]


TWINS: dict[str, tuple[Callable[[Any, Any], list[Outcome]], Callable[[], Any]]] = {
    "register": (_register, lambda: None),
    "cas-register": (_register, lambda: None),
    "kv": (_kv, dict),
    "kv-unique": (_kv, dict),  # the kv model with every value written unique (Jepsen's way)
    "log": (_log, list),
    "mutex": (_mutex, lambda: False),
    "multi-register": (_txn, dict),
    "set": (_set, set),
    "unordered-queue": (_unordered, list),
    "fifo-queue": (_fifo, list),
    "shardctrler": (_shardctrler, lambda: [shardctrler.initial()]),
}


def _fits(model: str, op: Operation, output: Any) -> bool:
    if not (op.output_known and op.ret is not None):
        # Unknown: anything, except that an unordered dequeue that certainly returned
        # nothing is a different call (its value is None and its output known).
        return True
    if model == "set" and op.f == "read":
        return frozenset(op.output) == output
    return bool(op.output == output)


def naive_linearizable(ops: list[Operation], model: str) -> bool:
    apply, init = TWINS[model]

    def extend(remaining: frozenset[int], state: Any) -> bool:
        if all(ops[i].ret is None for i in remaining):
            return True  # the rest never returned: they may never take effect
        for i in remaining:
            op = ops[i]
            if any(ops[j].ret is not None and ops[j].ret < op.call for j in remaining if j != i):
                continue
            for output, after in apply(copy.deepcopy(state), op.input):
                if output == "nonempty":
                    if op.output_known and op.ret is not None:
                        continue  # found nothing on a non-empty queue: not this call
                    continue  # unknown dequeue taking nothing is "never happened", below
                if _fits(model, op, output) and extend(remaining - {i}, after):
                    return True
        return False

    return extend(frozenset(range(len(ops))), init())


# --- generated histories ----------------------------------------------------------------

VALUES = (0, 1, 2)


def _choose(draw: st.DrawFn, model: str, state: Any) -> tuple[str, Any, Any]:
    """An input that can take effect in `state` (for the generator)."""
    v = draw(st.sampled_from(VALUES))
    if model == "register":
        return draw(st.sampled_from([("read", None, None), ("write", None, v)]))
    if model == "cas-register":
        w = draw(st.sampled_from(VALUES))
        return draw(st.sampled_from([("read", None, None), ("write", None, v), ("cas", None, (v, w))]))
    if model == "kv":
        k = draw(st.sampled_from(["x", "y"]))
        return draw(st.sampled_from([("get", k, None), ("put", k, str(v)), ("append", k, "ab"[v % 2])]))
    if model == "kv-unique":
        k = draw(st.sampled_from(["x", "y"]))
        token = f"<{draw(st.integers(0, 10**9))}>"
        return draw(st.sampled_from([("get", k, None), ("put", k, token), ("append", k, token)]))
    if model == "log":
        return ("append", None, v)
    if model == "mutex":
        return ("release", None, None) if state else ("acquire", None, None)
    if model == "multi-register":
        n = draw(st.integers(1, 2))
        micro = tuple(
            (draw(st.sampled_from(["r", "w"])), draw(st.sampled_from(["x", "y", "z"])),
             draw(st.sampled_from(VALUES)))
            for _ in range(n)
        )
        return ("txn", None, tuple((f, k, None if f == "r" else x) for f, k, x in micro))
    if model == "set":
        return draw(st.sampled_from([("read", None, None), ("add", None, v)]))
    if model == "shardctrler":  # refused calls too: a Join of a present group, ...
        gid = draw(st.integers(1, 3))
        return draw(st.sampled_from([
            ("join", None, ((gid, (f"s{gid}",)),)), ("leave", None, (gid,)),
            ("move", None, (draw(st.integers(0, shardctrler.NSHARDS - 1)), gid)),
            ("query", None, draw(st.integers(-1, len(state))))]))
    # queues: unique elements, so that a dequeue names what it took
    if draw(st.booleans()) or not state:
        return ("enqueue", None, draw(st.integers(0, 10**6)))
    return ("dequeue", None, None)


@st.composite
def generated(draw: st.DrawFn, model: str, max_ops: int = 6) -> list[Operation]:
    apply, init = TWINS[model]
    n = draw(st.integers(1, max_ops))
    spans = []
    for i in range(n):
        call = draw(st.integers(0, 12))
        ret = None if draw(st.integers(0, 6)) == 0 else call + draw(st.integers(0, 8))
        point = call + draw(st.integers(0, 8 if ret is None else ret - call)) + i / 100
        happens = ret is not None or draw(st.booleans())
        spans.append((point, happens, i, call, ret))
    state = init()
    inputs: dict[int, Any] = {}
    outputs: dict[int, Any] = {}
    for _point, happens, i, _call, _ret in sorted(spans):
        inp = _choose(draw, model, state)
        if happens:
            outcomes = apply(copy.deepcopy(state), inp)
            outcomes = [o for o in outcomes if o[0] != "nonempty"]
            outputs[i], state = outcomes[0]
        inputs[i] = inp
    ops = []
    for _point, _happens, i, call, ret in sorted(spans, key=lambda s: s[2]):
        inp, out = inputs[i], outputs.get(i)
        known = ret is not None and draw(st.integers(0, 7)) > 0
        if inp[0] == "dequeue" and known and out is not None:
            inp = ("dequeue", None, out)  # completed from its :ok, as Knossos does
        ops.append(Operation(client=i, input=inp, output=out if known else None, call=call,
                             ret=ret, output_known=known, index=i))
    return ops


def tampered(draw: st.DrawFn, model: str, ops: list[Operation]) -> list[Operation]:
    """One known output (and a dequeue's completed value with it) changed to a plausible one."""
    known = [i for i, op in enumerate(ops) if op.output_known]
    if not known:
        return ops
    i = draw(st.sampled_from(known))
    op = ops[i]
    if model == "kv-unique" and op.f == "get":
        # A plausible wrong read: what another get of the key returned (stale or early).
        others = [o.output for o in ops if o.f == "get" and o.input[1] == op.input[1]
                  and o.output is not None]
        out = draw(st.sampled_from([*others, ""]))
    elif model == "multi-register" and op.output is not None:
        out = tuple((f, k, draw(st.sampled_from((None, *VALUES))) if f == "r" else v)
                    for f, k, v in op.output)
    elif model == "set" and op.f == "read":
        out = frozenset(draw(st.sets(st.sampled_from(VALUES), max_size=3)))
    elif model == "shardctrler":  # a plausible wrong answer: another call's, or nothing
        out = draw(st.sampled_from([None, shardctrler.initial(), "group 1 is not present",
                                    *(o.output for o in ops if o.output is not None)]))
    else:
        out = draw(st.sampled_from([None, 0, 1, 2, 3, True, False, "", "a", "ab", "1"]))
    inp = op.input
    if op.f == "dequeue":
        others = [o.input[2] for o in ops if o.f == "enqueue"]
        out = draw(st.sampled_from([None, 7, *others]))
        inp = ("dequeue", None, out)
    ops = list(ops)
    ops[i] = Operation(client=op.client, input=inp, output=out, call=op.call, ret=op.ret,
                       output_known=True, index=i)
    return ops
