"""A fast reader for the small EDN subset that Jepsen histories use, backed by `edn_format`.

`edn_format` reads any EDN but costs ~0.4 ms a line, more than checking the history. Lines of
Jepsen/Knossos/Porcupine histories use only maps, vectors, keywords, strings, integers, nil and
booleans; this reader handles those and hands anything else to `edn_format`, so every valid
EDN line is read and every invalid one is reported by a real EDN parser.
Keywords become strings with their colon (":invoke"), vectors and lists tuples, maps dicts.
"""

from __future__ import annotations

import re
from typing import Any

import edn_format

_TOKEN = re.compile(
    r"""[\s,]*(?:
      (?P<kw>:[A-Za-z_*!?$%&=<>+\-.][\w*!?$%&=<>+\-.:/]*)
    | (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<int>[-+]?\d+)(?![\w.])
    | (?P<word>nil|true|false)(?![\w])
    | (?P<open>[\[{(])
    | (?P<close>[\]})])
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_WORDS: dict[str, Any] = {"nil": None, "true": True, "false": False}
_CLOSERS = {"[": "]", "(": ")", "{": "}"}


class EdnError(ValueError):
    """The text is not EDN; the message says what was expected."""


def read_values(text: str) -> list[Any]:
    """Every top-level EDN value of `text` (one line of a history, usually one map)."""
    fast = _read_fast(text)
    if fast is not None:
        return fast
    return _read_slow(text)


def _read_fast(text: str) -> list[Any] | None:
    pos, end = 0, len(text.rstrip())
    stack: list[tuple[str, list[Any]]] = []
    values: list[Any] = []
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            return None
        pos = m.end()
        kind = m.lastgroup
        if kind == "open":
            stack.append((m.group("open"), []))
            continue
        if kind == "close":
            if not stack or _CLOSERS[stack[-1][0]] != m.group("close"):
                return None
            opener, items = stack.pop()
            if opener == "{":
                if len(items) % 2:
                    return None
                try:
                    value: Any = dict(zip(items[::2], items[1::2], strict=True))
                except TypeError:
                    return None
            else:
                value = tuple(items)
        elif kind == "kw":
            value = m.group("kw")
        elif kind == "str":
            raw = m.group("str")[1:-1]
            value = re.sub(r"\\(.)", lambda e: _ESCAPES.get(e.group(1), "\\" + e.group(1)), raw)
        elif kind == "int":
            value = int(m.group("int"))
        else:
            value = _WORDS[m.group("word")]
        if stack:
            stack[-1][1].append(value)
        else:
            values.append(value)
    return None if stack else values


def _read_slow(text: str) -> list[Any]:
    try:
        parsed = edn_format.loads_all(text)
    except Exception as error:  # edn_format raises bare Exceptions and ply errors
        raise EdnError(f"not valid EDN ({_first_line(error)})") from None
    return [_plain(v) for v in parsed]


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _plain(value: Any) -> Any:
    if isinstance(value, edn_format.Keyword):
        return ":" + value.name
    if isinstance(value, edn_format.Symbol):
        return value.name
    if isinstance(value, dict | edn_format.ImmutableDict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | edn_format.ImmutableList):
        return tuple(_plain(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_plain(v) for v in value)
    return value
