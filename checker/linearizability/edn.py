"""A streaming EDN reader for histories: whole documents, one top-level element at a time.

Jepsen and Knossos write a history as EDN maps, one per line (`history.edn`), or as one
vector or list of maps, spread over as many lines as a pretty-printer likes, with `;`
comments, `#_` discards, tagged literals (`#inst "…"`, `#jepsen.history.Op{…}` records) and
sets (`#{…}`) in values. Files run to hundreds of MB, so the text is read line by line and
never held whole: `elements(lines)` yields each top-level form, and each element of a
top-level vector or list (the history's wrapper), as soon as it is complete, with the line
it starts on.

Values: keywords become strings with their colon (":invoke"); symbols their name; strings,
integers, floats (and `M` decimals), ratios, characters, nil and booleans the Python values;
vectors and lists tuples; maps dicts; sets frozensets; a tagged literal is its form (a
record is its map, an `#inst` its string). Nothing is evaluated.

Why not `edn_format` for the documents: it reads a whole text at about 0.4 ms a line, more
than checking the history, and cannot stream. It is this reader's twin in the tests
(tests/linearizability/test_edn.py): on generated documents the two must agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

_DELIM = r"""\s,\[\](){}"';@^`~\\"""
_TOKEN = re.compile(
    rf"""(?:
      (?P<ws>[\s,]+)
    | (?P<comment>;.*)
    | (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<openstr>"(?:[^"\\]|\\.)*\\?$)
    | (?P<discard>\#_)
    | (?P<special>\#\#(?:Inf|-Inf|NaN))
    | (?P<set>\#\{{)
    | (?P<tag>\#[A-Za-z][^{_DELIM}\#]*)
    | (?P<open>[\[({{])
    | (?P<close>[\])}}])
    | (?P<kw>:[^{_DELIM}]+)
    | (?P<num>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?[NM]?)(?=[{_DELIM}]|$)
    | (?P<ratio>[-+]?\d+/\d+)(?=[{_DELIM}]|$)
    | (?P<char>\\(?:newline|space|tab|return|formfeed|backspace|u[0-9a-fA-F]{{4}}|\S))
    | (?P<sym>[^{_DELIM}\#\d:][^{_DELIM}]*)
    )""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}
_CHARS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r", "formfeed": "\f",
          "backspace": "\b"}
_WORDS: dict[str, Any] = {"nil": None, "true": True, "false": False}
_CLOSER = {"[": "]", "(": ")", "{": "}", "#{": "}"}
_NAME = {"[": "vector", "(": "list", "{": "map", "#{": "set"}


class EdnError(ValueError):
    """The text is not EDN; `line` is where (the line a form that is not closed starts on)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


class _Frame:
    """An open collection: its opener, items so far, the line it starts on, and the prefixes
    (`#_`, tags) waiting for its next item."""

    __slots__ = ("items", "line", "opener", "own", "prefixes", "wrapper")

    def __init__(self, opener: str, line: int, own: list[str], wrapper: bool) -> None:
        self.opener = opener
        self.items: list[Any] = []
        self.line = line
        self.prefixes: list[str] = []
        self.own = own  # the prefixes that apply to this collection once closed
        self.wrapper = wrapper


def elements(lines: Iterable[str], *, unwrap: bool = True) -> Iterator[tuple[Any, int]]:
    """Each complete top-level form of the EDN text in `lines` with the line it starts on;
    with `unwrap`, a top-level vector or list yields its elements instead. Raises EdnError."""
    root = _Frame("", 0, [], False)
    stack = [root]
    string: list[str] | None = None  # a string that goes on past its first line
    string_line = 0
    number = 0
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        pos = 0
        end = len(text)
        if string is not None:
            close = _string_end(text)
            if close < 0:
                string += (text, "\n")
                continue
            string.append(text[:close])
            pos = close + 1
            value = _unescape("".join(string))
            string = None
            yield from _add(stack, value, string_line, unwrap)
        while pos < end:
            m = _TOKEN.match(text, pos)
            if m is None:
                raise EdnError(f"not valid EDN (unexpected {text[pos:pos + 12]!r})", number)
            pos = m.end()
            kind = m.lastgroup or "ws"
            if kind == "ws" or kind == "comment":
                continue
            top = stack[-1]
            if kind == "kw":
                yield from _add(stack, m.group(kind), number, unwrap)
            elif kind == "str":
                raw = m.group(kind)[1:-1]
                yield from _add(stack, _unescape(raw) if "\\" in raw else raw, number, unwrap)
            elif kind == "num":
                yield from _add(stack, _number(m.group(kind)), number, unwrap)
            elif kind == "open" or kind == "set":
                opener = m.group(kind)
                wrapper = unwrap and top is root and opener in "[(" and not top.prefixes
                stack.append(_Frame(opener, number, top.prefixes, wrapper))
                top.prefixes = []
            elif kind == "close":
                closer = m.group(kind)
                if top is root:
                    raise EdnError(f"not valid EDN (unexpected {closer!r}: nothing is open)",
                                   number)
                if _CLOSER[top.opener] != closer:
                    raise EdnError(
                        f"not valid EDN (the {_NAME[top.opener]} that starts on this line is "
                        f"closed by {closer!r} on line {number}; expected "
                        f"{_CLOSER[top.opener]!r})", top.line)
                if top.prefixes:
                    raise EdnError(f"not valid EDN ({top.prefixes[-1]} before {closer!r})",
                                   number)
                stack.pop()
                if top.wrapper:
                    continue
                value = _collection(top)
                stack[-1].prefixes += top.own
                yield from _add(stack, value, top.line, unwrap)
            elif kind == "sym":
                word = m.group(kind)
                yield from _add(stack, _WORDS.get(word, word), number, unwrap)
            elif kind == "discard":
                top.prefixes.append("#_")
            elif kind == "tag":
                top.prefixes.append(m.group(kind))
            elif kind == "openstr":
                string = [m.group(kind)[1:], "\n"]
                string_line = number
                pos = end
            elif kind == "special":
                yield from _add(stack, float(m.group(kind)[2:].replace("Inf", "inf")), number,
                                unwrap)
            elif kind == "ratio":
                yield from _add(stack, Fraction(m.group(kind)), number, unwrap)
            else:  # char
                c = m.group(kind)[1:]
                value = _CHARS.get(c) or (chr(int(c[1:], 16)) if len(c) == 5 else c)
                yield from _add(stack, value, number, unwrap)
    if string is not None:
        raise EdnError("not valid EDN (a string that starts on this line is not closed; "
                       "truncated?)", string_line)
    if len(stack) > 1:
        top = stack[-1]
        raise EdnError(
            f"not valid EDN (the {_NAME[top.opener]} that starts on this line is not closed: "
            f"expected {_CLOSER[top.opener]!r}; truncated?)", top.line)
    if root.prefixes:
        raise EdnError(f"not valid EDN ({root.prefixes[-1]} at the end of the text)", number)


def _add(stack: list[_Frame], value: Any, line: int, unwrap: bool) -> Iterator[tuple[Any, int]]:
    """Hand a complete form to its collection, or out, after its prefixes apply."""
    top = stack[-1]
    prefixes = top.prefixes
    if prefixes:
        # The nearest prefix applies first (`#_ #inst "…"` discards the tagged form).
        while prefixes:
            p = prefixes.pop()
            if p == "#_":
                top.prefixes = prefixes
                return
            # A tag: the form as it is (a record's map, an #inst's string).
        top.prefixes = []
    if len(stack) == 1 or top.wrapper:
        yield value, line
    else:
        top.items.append(value)


def _collection(frame: _Frame) -> Any:
    items = frame.items
    if frame.opener == "{":
        if len(items) % 2:
            raise EdnError("not valid EDN (a map that starts on this line has a key without "
                           "a value)", frame.line)
        try:
            return dict(zip(items[::2], items[1::2], strict=True))
        except TypeError:
            raise EdnError("not valid EDN (a map key that is itself a map)",
                           frame.line) from None
    if frame.opener == "#{":
        try:
            return frozenset(items)
        except TypeError:
            raise EdnError("not valid EDN (a set that holds a map)", frame.line) from None
    return tuple(items)


def _string_end(text: str) -> int:
    """Where the open string closes on this line (-1: it does not)."""
    i = 0
    while True:
        i = text.find('"', i)
        if i < 0:
            return -1
        backslashes = 0
        j = i - 1
        while j >= 0 and text[j] == "\\":
            backslashes += 1
            j -= 1
        if backslashes % 2 == 0:
            return i
        i += 1


def _unescape(raw: str) -> str:
    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if len(e) == 5:
            return chr(int(e[1:], 16))
        return _ESCAPES.get(e, e)

    return _ESCAPE.sub(one, raw)


def _number(text: str) -> Any:
    if text.endswith("N"):
        return int(text[:-1])
    if text.endswith("M"):
        return Decimal(text[:-1])
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


def read_values(text: str) -> list[Any]:
    """Every top-level EDN value of `text` (one line of a log, usually one value)."""
    return [value for value, _line in elements([text], unwrap=False)]
