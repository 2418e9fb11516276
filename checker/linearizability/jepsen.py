"""Reading what Jepsen, Knossos and Porcupine write: EDN histories (whole documents or one map
per line, Jepsen's `history.edn`), Jepsen's tab-separated `history.txt`, and Jepsen etcd
logs. Each reader streams lines and reports a malformed file as `BadInput(what, path, line)`.

Knossos semantics for EDN and `history.txt` (traces/HISTORY.md): a `:fail` did not happen;
an `:info`, or an invoke never completed, may take effect at any point after its call or
never; an invoke's missing value is completed from its `:ok` (a dequeue's element). Nemesis
operations (any non-integer `:process`) are kept apart for the report, not checked. The
order of the file is the order of time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from checker.linearizability.edn import EdnError, elements, read_values
from checker.linearizability.events import Pairing, Semantics
from checker.linearizability.history import Input, Operation
from spec.errors import BadInput


@dataclass(frozen=True, slots=True)
class NemesisEvent:
    """A fault injected during the test (`:process :nemesis`): shown, not checked."""

    line: int
    type: str
    f: str
    value: str  # as EDN-ish text, for the report


@dataclass(frozen=True)
class Read:
    operations: list[Operation]
    model: str | None
    nemesis: tuple[NemesisEvent, ...]


# --- which model a history follows, from the functions it calls -----------------------

_MODEL_BY_FUNCTIONS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"read", "write"}), "register"),
    (frozenset({"read", "write", "cas"}), "cas-register"),
    (frozenset({"acquire", "release"}), "mutex"),
    (frozenset({"txn"}), "multi-register"),
    (frozenset({"add", "read"}), "set"),
    (frozenset({"get", "put", "append"}), "kv"),
)


def infer_model(functions: set[str], keyed: bool) -> str | None:
    """The smallest model whose functions cover those called (None: ambiguous or unknown;
    the queues are, since a history does not say whether its queue is FIFO)."""
    if keyed:
        return "kv" if functions <= {"get", "put", "append"} else None
    for names, model in _MODEL_BY_FUNCTIONS:
        if functions <= names:
            return model
    return None


# --- values -----------------------------------------------------------------------------


def hashable(value: Any) -> Any:
    """A value as a hashable one (lists become tuples, maps sorted pairs)."""
    if isinstance(value, list | tuple):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted(((hashable(k), hashable(v)) for k, v in value.items()), key=repr))
    return value


def txn_value(value: Any, path: str, number: int) -> Any:
    """A transaction's micro-operations with their names as the model has them (`:r` → "r")."""
    if not isinstance(value, tuple):
        raise BadInput(f"a txn's value must be a vector of [:r k v] / [:w k v], not {value!r}",
                       path, number)
    ops = []
    for op in value:
        if not (isinstance(op, tuple) and len(op) == 3 and op[0] in (":r", ":w", "r", "w")):
            raise BadInput(f"a txn's micro-operation must be [:r k v] or [:w k v], not {op!r}",
                           path, number)
        ops.append((op[0].lstrip(":"), op[1], op[2]))
    return tuple(ops)


def operation_input(f: str, key: Any, value: Any, path: str, number: int) -> Input:
    """The model input of an invocation; the checks every format shares."""
    if f in ("read", "get"):
        return (f, key, None)
    if f == "cas" and not (isinstance(value, tuple) and len(value) == 2):
        raise BadInput(f"a cas needs [expected new] as its value, not {value!r}", path, number)
    if f == "txn":
        return (f, key, txn_value(value, path, number))
    return (f, key, hashable(value))


# --- EDN histories (Knossos, Jepsen's history.edn, Porcupine's key/value logs) ----------


def read_edn(lines: Iterable[str], path: str, keyed: bool) -> Read:
    """`keyed`: Porcupine's key/value logs, where every event names its `:key`."""
    pairing = Pairing(path, Semantics.DROP_FAILED)
    nemesis: list[NemesisEvent] = []
    functions: set[str] = set()
    seq = 0
    try:
        for event, number in elements(lines):
            seq += 1
            f = _edn_event(pairing, event, seq, path, number, keyed, nemesis)
            if f is not None:
                functions.add(f)
    except EdnError as error:
        raise BadInput(str(error), path, error.line) from None
    return Read(pairing.operations(), infer_model(functions, keyed), tuple(nemesis))


def _edn_event(
    pairing: Pairing, event: Any, seq: int, path: str, number: int, keyed: bool,
    nemesis: list[NemesisEvent],
) -> str | None:
    if not isinstance(event, dict):
        raise BadInput(
            "expected an EDN map like {:process 0, :type :invoke, :f :read, :value nil}, "
            f"not {_short(event)}",
            path,
            number,
        )
    process = event.get(":process")
    kind, f = event.get(":type"), event.get(":f")
    if isinstance(process, str):
        # Fault injection (`:nemesis`, or any named process): kept for the report.
        nemesis.append(NemesisEvent(number, str(kind), str(f), _short(event.get(":value"))))
        return None
    if not isinstance(process, int) or isinstance(process, bool):
        raise BadInput(f"expected :process to be an integer, not {_short(process)}", path,
                       number)
    if kind not in (":invoke", ":ok", ":fail", ":info"):
        raise BadInput(f"expected :type :invoke, :ok, :fail or :info, not {_short(kind)}", path,
                       number)
    if not (isinstance(f, str) and f.startswith(":")):
        raise BadInput(f"expected :f to be a keyword such as :read, not {_short(f)}", path,
                       number)
    name = f[1:]
    key = hashable(event.get(":key"))
    if keyed and key is None:
        raise BadInput("expected a :key in every key/value event", path, number)
    value = event.get(":value")
    if kind == ":invoke":
        pairing.invoke(process, operation_input(name, key, value, path, number), seq, number)
    else:
        if name == "txn" and kind == ":ok":
            value = txn_value(value, path, number)
        pairing.complete(process, kind[1:], name, hashable(value), seq, number)
    return name


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- Jepsen's history.txt: process, type, f, value[, error], tab-separated --------------

_TXT_LINE = re.compile(r"^(-?\d+|:[^\t]+|nil)\t(:[a-z]+)\t([^\t]*)\t")


def looks_like_history_txt(line: str) -> bool:
    return _TXT_LINE.match(line) is not None


def read_history_txt(lines: Iterable[str], path: str) -> Read:
    pairing = Pairing(path, Semantics.DROP_FAILED)
    nemesis: list[NemesisEvent] = []
    functions: set[str] = set()
    seq = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        fields = line.split("\t", 4)
        if len(fields) < 4:
            raise BadInput(
                "expected process, type, function and value separated by tabs (Jepsen's "
                "history.txt; truncated line?)",
                path,
                number,
            )
        process_text, kind, f_text, value_text = fields[:4]
        if kind not in (":invoke", ":ok", ":fail", ":info"):
            raise BadInput(
                f"expected a type :invoke, :ok, :fail or :info, not {kind!r}", path, number
            )
        try:
            value = _one_value(value_text)
        except EdnError as error:
            raise BadInput(f"the value {_short(value_text)} is {error}", path, number) from None
        if not process_text.lstrip("-").isdigit():
            nemesis.append(NemesisEvent(number, kind, f_text, _short(value)))
            continue
        if not f_text.startswith(":"):
            raise BadInput(f"expected a function keyword such as :read, not {f_text!r}", path,
                           number)
        f = f_text[1:]
        functions.add(f)
        seq += 1
        process = int(process_text)
        if kind == ":invoke":
            pairing.invoke(process, operation_input(f, None, value, path, number), seq, number)
        else:
            if f == "txn" and kind == ":ok":
                value = txn_value(value, path, number)
            pairing.complete(process, kind[1:], f, hashable(value), seq, number)
    return Read(pairing.operations(), infer_model(functions, False), tuple(nemesis))


def _one_value(text: str) -> Any:
    values = read_values(text)
    if len(values) != 1:
        raise EdnError(f"not one EDN value but {len(values)}", 0)
    return values[0]


# --- Jepsen etcd logs -------------------------------------------------------------------

_ETCD_LINE = re.compile(r"jepsen\.util\s+-\s+(.*)$")
_ETCD_FUNCTIONS = frozenset({"read", "write", "cas"})
_ETCD_TYPES = frozenset({":invoke", ":ok", ":fail", ":info"})


def read_etcd(lines: Iterable[str], path: str) -> Read:
    pairing = Pairing(path, Semantics.ETCD)
    seq = 0
    for number, raw in enumerate(lines, start=1):
        m = _ETCD_LINE.search(raw.rstrip("\r\n"))
        if m is None:
            continue  # other log lines
        fields = m.group(1).split(None, 3)
        if not fields or not fields[0].isdigit():
            continue  # e.g. the nemesis, or a message
        if len(fields) < 2 or fields[1] not in _ETCD_TYPES:
            raise BadInput(
                f"expected an event type (:invoke, :ok, :fail or :info) after process {fields[0]}",
                path,
                number,
            )
        if len(fields) < 4:
            raise BadInput(
                "expected process, type, function and value separated by tabs or spaces "
                "(truncated line?)",
                path,
                number,
            )
        process, kind, fname, value_text = int(fields[0]), fields[1][1:], fields[2], fields[3]
        if not fname.startswith(":"):
            raise BadInput(
                f"expected a function keyword such as :read, not {fname!r}", path, number
            )
        if fname[1:] not in _ETCD_FUNCTIONS:
            continue  # not about the register
        f = fname[1:]
        try:
            values = read_values(value_text)
        except EdnError as error:
            raise BadInput(f"the value {value_text!r} is {error}", path, number) from None
        if len(values) != 1:
            raise BadInput(f"expected one value, not {value_text!r}", path, number)
        value = values[0]
        seq += 1
        if kind == "invoke":
            pairing.invoke(process, _etcd_input(f, value, path, number), seq, number)
        else:
            if kind == "ok" and f == "read" and not (value is None or isinstance(value, int)):
                raise BadInput(
                    f"a read's :ok value must be an integer or nil, not {value_text!r}",
                    path,
                    number,
                )
            pairing.complete(process, kind, f, value, seq, number)
    return Read(pairing.operations(), "cas-register", ())


def _etcd_input(f: str, value: Any, path: str, number: int) -> Input:
    if f == "read":
        return ("read", None, None)
    if f == "write":
        if not (value is None or isinstance(value, int)):
            raise BadInput(f"a write's value must be an integer, not {value!r}", path, number)
        return ("write", None, value)
    if not (isinstance(value, tuple) and len(value) == 2):
        raise BadInput(f"a cas needs [expected new] as its value, not {value!r}", path, number)
    return ("cas", None, value)
