"""Reading history files: our JSON Lines, Porcupine/Jepsen key/value EDN, Knossos and Jepsen
EDN (whole documents or one map per line), Jepsen's `history.txt`, Jepsen etcd logs — and our
traces (`dscheck-trace`), whose clients' invokes and returns are a history read directly
(DESIGN.md section 3; `checker.trace_check.history` says, per system, what they mean and
which model judges them). The format is detected from the content; a caller may name it
instead. Jepsen's and Knossos's formats are read in `jepsen.py`.

Files are streamed line by line, never held whole (histories run to hundreds of MB), and
`progress(characters read, characters in all)` is called now and then on the way.

Every reader reports a malformed or truncated file as `BadInput(what is wrong and what was
expected, path, line)`; none evaluates anything it reads.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from checker.linearizability.events import Pairing, Semantics
from checker.linearizability.history import Operation
from checker.linearizability.jepsen import (
    NemesisEvent,
    Read,
    hashable,
    looks_like_history_txt,
    operation_input,
    read_edn,
    read_etcd,
    read_history_txt,
)
from spec.errors import BadInput

__all__ = ["FORMATS", "Loaded", "detect", "hashable", "load", "parse"]

FORMATS = ("jsonl", "porcupine-kv", "knossos", "jepsen-txt", "jepsen-etcd", "dscheck-trace")
HISTORY_FORMAT_NAME = "dscheck-history"
TRACE_FORMAT_NAME = "dscheck-trace"
HISTORY_FORMAT_VERSION = 1
_HEAD = 1 << 16  # characters read to tell the format
_PROGRESS_EVERY = 1 << 14  # lines between progress calls

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Loaded:
    """A history read from a file, with the model its format implies (None: not implied),
    and the nemesis's faults it recorded (shown in reports, never checked)."""

    operations: list[Operation]
    format: str
    model: str | None
    nemesis: tuple[NemesisEvent, ...] = field(default=())


def load(path: str, fmt: str | None = None, progress: Progress | None = None) -> Loaded:
    """Read `path` in format `fmt`, or in the format its content shows."""
    try:
        with open(path, encoding="utf-8") as handle:
            total = os.fstat(handle.fileno()).st_size
            return _read(handle, path, fmt, total, progress)
    except UnicodeDecodeError as error:
        raise BadInput(
            f"not UTF-8 text (byte {error.start}); expected a history file", path
        ) from None
    except OSError as error:
        raise BadInput(f"cannot read the file ({error.strerror})", path) from None


def parse(text: str, path: str = "<history>", fmt: str | None = None) -> Loaded:
    return _read(io.StringIO(text), path, fmt, len(text), None)


def _read(
    stream: IO[str], path: str, fmt: str | None, total: int, progress: Progress | None
) -> Loaded:
    if fmt is None:
        fmt = detect(stream.read(_HEAD), path)
        stream.seek(0)
    if fmt == TRACE_FORMAT_NAME:
        return _read_trace(stream, path)
    if fmt not in _READERS:
        raise BadInput(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})", path)
    lines: Iterable[str] = stream if progress is None else _counted(stream, total, progress)
    return _READERS[fmt](lines, path)


def _counted(stream: IO[str], total: int, progress: Progress) -> Iterator[str]:
    done = 0
    for n, line in enumerate(stream, start=1):
        done += len(line)
        if n % _PROGRESS_EVERY == 0:
            progress(done, total)
        yield line
    progress(total, total)


def detect(head: str, path: str) -> str:
    """The format, from the first lines of a file."""
    lines = head.splitlines()
    first = next((line.strip() for line in lines if line.strip() and not
                  line.lstrip().startswith(";")), None)
    if first is None:
        raise BadInput("empty file: expected a history (JSON Lines, EDN or a Jepsen log)", path, 1)
    if first.startswith("{") and first[1:].lstrip().startswith('"'):
        return "dscheck-trace" if _names_format(first, TRACE_FORMAT_NAME) else "jsonl"
    if first.startswith(("{", "[", "(", "#")):
        return "porcupine-kv" if re.search(r":key[\s,]", head) else "knossos"
    if looks_like_history_txt(first + "\t"):
        return "jepsen-txt"
    if "jepsen.util" in head:
        return "jepsen-etcd"
    raise BadInput(
        "cannot tell the history format from the first line (expected a JSON object, EDN, "
        "Jepsen's history.txt or a Jepsen log line); name it with --format",
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


def _read_trace(stream: IO[str], path: str) -> Loaded:
    # Imported here: the trace reader imports this module's `hashable`.
    from checker.trace_check.history import trace_history

    model, operations = trace_history(stream, path)
    return Loaded(operations, TRACE_FORMAT_NAME, model)


# --- our JSON Lines (traces/HISTORY.md) -------------------------------------------------


def _read_jsonl(lines: Iterable[str], path: str) -> Loaded:
    pairing = Pairing(path, Semantics.DROP_FAILED, literal_outputs=True)
    model: str | None = None
    header_seen = False
    for number, raw in enumerate(lines, start=1):
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
        pairing.invoke(client, operation_input(f, key, value, path, number), time, number)
    elif kind in ("ok", "fail", "info"):
        pairing.complete(client, kind, f, value, time, number)
    else:
        raise BadInput(f'"type" must be invoke, ok, fail or info, not {kind!r}', path, number)


def _from_read(fmt: str, read: Callable[[Iterable[str], str], Read]) -> Reader:
    def reader(lines: Iterable[str], path: str) -> Loaded:
        got = read(lines, path)
        return Loaded(got.operations, fmt, got.model, got.nemesis)

    return reader


Reader = Callable[[Iterable[str], str], Loaded]
_READERS: dict[str, Reader] = {
    "jsonl": _read_jsonl,
    "porcupine-kv": _from_read("porcupine-kv", lambda lines, path: read_edn(lines, path, True)),
    "knossos": _from_read("knossos", lambda lines, path: read_edn(lines, path, False)),
    "jepsen-txt": _from_read("jepsen-txt", read_history_txt),
    "jepsen-etcd": _from_read("jepsen-etcd", read_etcd),
}
