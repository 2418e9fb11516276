"""Reading history files: our JSON Lines, Porcupine/Jepsen key/value EDN, Knossos EDN, and
Jepsen etcd logs — and our traces (`dscheck-trace`), whose clients' invokes and returns are a
history read directly (DESIGN.md section 3; `checker.trace_check.history` says, per system,
what they mean and which model judges them). The format is detected from the content; a
caller may name it instead.

Every reader reports a malformed or truncated file as `BadInput(what is wrong and what was
expected, path, line)`; none evaluates anything it reads.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from checker.linearizability.edn import EdnError, read_values
from checker.linearizability.events import READS, Pairing, Semantics
from checker.linearizability.history import Input, Operation
from spec.errors import BadInput

FORMATS = ("jsonl", "porcupine-kv", "knossos", "jepsen-etcd", "dscheck-trace")
HISTORY_FORMAT_NAME = "dscheck-history"
TRACE_FORMAT_NAME = "dscheck-trace"
HISTORY_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Loaded:
    """A history read from a file, with the model its format implies (None: not implied)."""

    operations: list[Operation]
    format: str
    model: str | None


def load(path: str, fmt: str | None = None) -> Loaded:
    """Read `path` in format `fmt`, or in the format its content shows."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise BadInput(
            f"not UTF-8 text (byte {error.start}); expected a history file", path
        ) from None
    except OSError as error:
        raise BadInput(f"cannot read the file ({error.strerror})", path) from None
    return parse(text, path, fmt)


def parse(text: str, path: str = "<history>", fmt: str | None = None) -> Loaded:
    fmt = fmt or detect(text, path)
    if fmt not in _READERS:
        raise BadInput(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})", path)
    return _READERS[fmt](text, path)


def detect(text: str, path: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise BadInput("empty file: expected a history (JSON Lines, EDN or a Jepsen log)", path, 1)
    if first.startswith("{") and first[1:].lstrip().startswith('"'):
        return "dscheck-trace" if _names_format(first, TRACE_FORMAT_NAME) else "jsonl"
    if first.startswith(("{:", "[", "{ :")):
        return "porcupine-kv" if re.search(r":key[\s,]", text) else "knossos"
    if "jepsen.util" in text:
        return "jepsen-etcd"
    raise BadInput(
        "cannot tell the history format from the first line (expected a JSON object, an EDN "
        "map or a Jepsen log line); name it with --format",
        path,
        1,
    )


def _names_format(line: str, name: str) -> bool:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(header, dict) and header.get("format") == name


# --- our traces (traces/README.md): the clients' history they record -------------------


def _read_trace(text: str, path: str) -> Loaded:
    # Imported here: the trace reader imports this module's `hashable`.
    from checker.trace_check.history import trace_history

    model, operations = trace_history(io.StringIO(text), path)
    return Loaded(operations, TRACE_FORMAT_NAME, model)


# --- our JSON Lines (traces/HISTORY.md) -------------------------------------------------


def _read_jsonl(text: str, path: str) -> Loaded:
    pairing = Pairing(path, Semantics.DROP_FAILED, literal_outputs=True)
    model: str | None = None
    header_seen = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except json.JSONDecodeError as error:
            raise BadInput(
                f"not JSON ({error.msg} at column {error.colno}); expected one JSON object per line",
                path,
                number,
            ) from None
        if not isinstance(event, dict):
            raise BadInput("expected a JSON object", path, number)
        if not header_seen:
            if event.get("format") != HISTORY_FORMAT_NAME:
                raise BadInput(
                    f'expected the header {{"format": "{HISTORY_FORMAT_NAME}", "version": 1}} on the first line',
                    path,
                    number,
                )
            if event.get("version") != HISTORY_FORMAT_VERSION:
                raise BadInput(
                    f"unsupported version {event.get('version')!r} (expected 1)", path, number
                )
            model = event.get("model")
            if model is not None and not isinstance(model, str):
                raise BadInput("the header's model must be a string", path, number)
            header_seen = True
            continue
        _json_event(pairing, event, path, number)
    if not header_seen:
        raise BadInput("empty file: expected a header line", path, 1)
    return Loaded(pairing.operations(), "jsonl", model)


def _json_event(pairing: Pairing, event: dict[str, Any], path: str, number: int) -> None:
    kind = event.get("type")
    client = event.get("client")
    if not isinstance(client, int | str) or isinstance(client, bool):
        raise BadInput('expected "client": an integer or a string', path, number)
    time = event.get("time", number)
    if not isinstance(time, int | float) or isinstance(time, bool):
        raise BadInput(f'"time" must be a number, not {time!r}', path, number)
    f = event.get("f")
    if f is not None and not isinstance(f, str):
        raise BadInput(f'"f" must be a string, not {f!r}', path, number)
    value = hashable(event.get("value"))
    if kind == "invoke":
        if f is None:
            raise BadInput('an invoke needs "f" (the operation, e.g. "put")', path, number)
        key = hashable(event.get("key"))
        pairing.invoke(client, _input(f, key, value, path, number), time, number)
    elif kind in ("ok", "fail", "info"):
        pairing.complete(client, kind, f, value, time, number)
    else:
        raise BadInput(f'"type" must be invoke, ok, fail or info, not {kind!r}', path, number)


def hashable(value: Any) -> Any:
    """A JSON value as a hashable one (lists become tuples, objects sorted pairs)."""
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, hashable(v)) for k, v in value.items()))
    return value


def _input(f: str, key: Any, value: Any, path: str, number: int) -> Input:
    if f in READS:
        return (f, key, None)
    if f == "cas" and not (isinstance(value, tuple) and len(value) == 2):
        raise BadInput(f"a cas needs [expected new] as its value, not {value!r}", path, number)
    return (f, key, value)


# --- EDN: Porcupine/Jepsen key/value logs and Knossos histories -------------------------


def _read_edn(fmt: str) -> Callable[[str, str], Loaded]:
    def read(text: str, path: str) -> Loaded:
        pairing = Pairing(path, Semantics.DROP_FAILED)
        lines = text.splitlines()
        _strip_outer_vector(lines, path)
        seq = 0
        has_cas = False
        for number, raw in enumerate(lines, start=1):
            if not raw.strip() or raw.lstrip().startswith(";"):
                continue
            try:
                values = read_values(raw)
            except EdnError as error:
                raise BadInput(
                    f"{error}; expected one EDN map per operation event", path, number
                ) from None
            for event in values:
                seq += 1
                has_cas |= _edn_event(pairing, event, seq, path, number, fmt)
        model = "kv" if fmt == "porcupine-kv" else ("cas-register" if has_cas else "register")
        return Loaded(pairing.operations(), fmt, model)

    return read


def _strip_outer_vector(lines: list[str], path: str) -> None:
    """Knossos writes a history as one EDN vector of maps, one map per line: unwrap it."""
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank or not lines[nonblank[0]].lstrip().startswith("["):
        return
    first, last = nonblank[0], nonblank[-1]
    if not lines[last].rstrip().endswith("]"):
        raise BadInput(
            "the history vector is not closed (expected ']' at the end; truncated?)", path, last + 1
        )
    lines[first] = lines[first].lstrip()[1:]
    lines[last] = lines[last].rstrip()[:-1]


def _edn_event(pairing: Pairing, event: Any, seq: int, path: str, number: int, fmt: str) -> bool:
    if not isinstance(event, dict):
        raise BadInput(
            "expected an EDN map like {:process 0, :type :invoke, :f :read, :value nil}",
            path,
            number,
        )
    process = event.get(":process")
    if process == ":nemesis" or (isinstance(process, str) and process.startswith(":")):
        return False  # fault injection, not a client operation
    if not isinstance(process, int) or isinstance(process, bool):
        raise BadInput(f"expected :process to be an integer, not {process!r}", path, number)
    kind, f = event.get(":type"), event.get(":f")
    if kind not in (":invoke", ":ok", ":fail", ":info"):
        raise BadInput(f"expected :type :invoke, :ok, :fail or :info, not {kind!r}", path, number)
    if not (isinstance(f, str) and f.startswith(":")):
        raise BadInput(f"expected :f to be a keyword such as :read, not {f!r}", path, number)
    name = f[1:]
    key = event.get(":key")
    if fmt == "porcupine-kv" and key is None:
        raise BadInput("expected a :key in every key/value event", path, number)
    value = event.get(":value")
    if kind == ":invoke":
        pairing.invoke(process, _input(name, key, value, path, number), seq, number)
    else:
        pairing.complete(process, kind[1:], name, value, seq, number)
    return name == "cas"


# --- Jepsen etcd logs -------------------------------------------------------------------

_ETCD_LINE = re.compile(r"jepsen\.util\s+-\s+(.*)$")
_ETCD_FUNCTIONS = frozenset({"read", "write", "cas"})
_ETCD_TYPES = frozenset({":invoke", ":ok", ":fail", ":info"})


def _read_etcd(text: str, path: str) -> Loaded:
    pairing = Pairing(path, Semantics.ETCD)
    seq = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        m = _ETCD_LINE.search(raw)
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
    return Loaded(pairing.operations(), "jepsen-etcd", "cas-register")


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


_READERS: dict[str, Callable[[str, str], Loaded]] = {
    "jsonl": _read_jsonl,
    "porcupine-kv": _read_edn("porcupine-kv"),
    "knossos": _read_edn("knossos"),
    "jepsen-etcd": _read_etcd,
    "dscheck-trace": _read_trace,
}
