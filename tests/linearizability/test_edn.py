"""The streaming EDN reader against its twin, the `edn_format` library, on generated documents
(Hypothesis): the same values, each top-level element on the line it starts on, whatever the
layout (newlines anywhere, commas, `;` comments, `#_` discards, multi-line strings)."""

from __future__ import annotations

from typing import Any

import edn_format
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.linearizability.edn import EdnError, elements, read_values

NAME = st.from_regex(r"[a-z][a-z0-9\-]{0,6}", fullmatch=True)
TEXT = st.text(alphabet=st.sampled_from(list('ab "\\\n\tz')), max_size=8)

ATOMS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    TEXT.map(lambda s: ("str", s)),
    NAME.map(lambda s: ("kw", s)),
    NAME.filter(lambda s: s not in ("nil", "true", "false")).map(lambda s: ("sym", s)),
)


def _composite(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda xs: ("vec", xs)),
        st.lists(children, max_size=4).map(lambda xs: ("list", xs)),
        st.lists(st.tuples(NAME, children), max_size=3, unique_by=lambda kv: kv[0]).map(
            lambda kvs: ("map", kvs)),
        st.lists(st.integers(0, 9), max_size=3, unique=True).map(lambda xs: ("set", xs)),
    )


VALUES = st.recursive(ATOMS, _composite, max_leaves=12)
SEPARATORS = st.sampled_from([" ", ", ", "\n", " ; a comment\n", "\n\n", ",\n  ", " #_ :gone "])


def _edn(value: Any, draw: st.DrawFn) -> str:
    """`value` as EDN text, with separators drawn between items."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    kind, body = value
    if kind == "str":
        return '"' + body.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind == "kw":
        return ":" + body
    if kind == "sym":
        return body
    if kind == "set":
        return "#{" + " ".join(str(x) for x in body) + "}"
    if kind == "map":
        items = [f":{k}{draw(SEPARATORS)}{_edn(v, draw)}" for k, v in body]
        return "{" + draw(SEPARATORS).join(items) + "}"
    opener, closer = ("[", "]") if kind == "vec" else ("(", ")")
    return opener + draw(SEPARATORS).join(_edn(v, draw) for v in body) + closer


def _plain(value: Any) -> Any:
    """edn_format's values as the reader gives them."""
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


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_reader_agrees_with_edn_format(data: st.DataObject) -> None:
    values = data.draw(st.lists(VALUES, min_size=1, max_size=4))
    pieces: list[str] = []
    starts = []
    for v in values:
        pieces.append(data.draw(SEPARATORS))
        starts.append("".join(pieces).count("\n") + 1)
        pieces.append(_edn(v, data.draw))
    pieces.append("\n")
    text = "".join(pieces)
    expected = [_plain(v) for v in edn_format.loads_all(text)]
    got = list(elements(text.splitlines(keepends=True), unwrap=False))
    assert [v for v, _line in got] == expected, text
    assert [line for _v, line in got] == starts, text


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_cut_document_is_an_error_or_a_prefix_of_values(data: st.DataObject) -> None:
    value = data.draw(VALUES)
    text = _edn(value, data.draw)
    cut = data.draw(st.integers(0, len(text)))
    try:
        list(elements(text[:cut].splitlines(keepends=True)))
    except EdnError as error:
        assert 1 <= error.line <= text[:cut].count("\n") + 1


def test_a_wrapper_vector_streams_its_elements_with_their_lines() -> None:
    text = "[{:a 1}\n {:b\n  2}\n {:c 3}]\n"
    assert list(elements(text.splitlines(keepends=True))) == [
        ({":a": 1}, 1), ({":b": 2}, 2), ({":c": 3}, 4)]


def test_read_values_reads_one_line_of_a_log() -> None:
    assert read_values("[3 0]") == [(3, 0)]
    assert read_values('nil "x" :k 1.5 2N 1/2') == [None, "x", ":k", 1.5, 2,
                                                    __import__("fractions").Fraction(1, 2)]
