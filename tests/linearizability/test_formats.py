"""Reading every format: detection, semantics of :fail/:info, malformed and truncated files."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.linearizability import CAS_REGISTER, KV, check
from checker.linearizability.formats import detect, load, parse
from checker.verdict import Verdict
from spec.errors import BadInput

GOLDEN = Path(__file__).resolve().parents[2] / "traces" / "golden" / "histories"

ETCD = (
    "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
    "INFO  jepsen.util - 0\t:ok\t:write\t1\n"
    "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n"
    "INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]\n"
)
KV_EDN = (
    '{:process 0, :type :invoke, :f :put, :key "a", :value "x"}\n'
    '{:process 0, :type :ok, :f :put, :key "a", :value "x"}\n'
    '{:process 1, :type :invoke, :f :get, :key "a", :value nil}\n'
    '{:process 1, :type :ok, :f :get, :key "a", :value "x"}\n'
)
KNOSSOS = (
    "[{:process 0, :type :invoke, :f :write, :value 1}\n"
    " {:process 0, :type :ok, :f :write, :value 1}\n"
    " {:process 1, :type :invoke, :f :cas, :value [1 2]}\n"
    " {:process 1, :type :ok, :f :cas, :value [1 2]}]\n"
)
JSONL = (
    '{"format": "dscheck-history", "version": 1, "model": "register"}\n'
    '{"type": "invoke", "client": 0, "f": "write", "value": 1, "time": 0}\n'
    '{"type": "ok", "client": 0, "time": 1}\n'
)
SAMPLES = {"jepsen-etcd": ETCD, "porcupine-kv": KV_EDN, "knossos": KNOSSOS, "jsonl": JSONL}


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_the_format_is_detected(fmt: str) -> None:
    assert detect(SAMPLES[fmt], "h") == fmt
    assert parse(SAMPLES[fmt], "h").format == fmt


def test_etcd_semantics_a_failed_cas_observed_a_different_value() -> None:
    # cas [1 2] failed although the register held 1: not linearizable under etcd semantics.
    loaded = parse(ETCD, "h")
    assert check(loaded.operations, CAS_REGISTER).verdict is Verdict.VIOLATION


def test_knossos_semantics_a_failed_operation_did_not_happen() -> None:
    text = KNOSSOS.replace(":ok, :f :cas", ":fail, :f :cas")
    loaded = parse(text, "h")
    assert [op.f for op in loaded.operations] == ["write"]


def test_etcd_space_separated_variant_and_unknown_outcomes() -> None:
    loaded = load(str(GOLDEN / "cas-etcd.log"))
    kinds = {(op.f, op.output_known, op.ret is None) for op in loaded.operations}
    assert ("read", False, False) in kinds  # :fail :read :timed-out: unknown at that moment
    assert ("write", False, True) in kinds  # :info: may take effect any time, or never
    assert ("cas", True, False) in kinds  # :fail :cas: observed, returned False
    assert check(loaded.operations, CAS_REGISTER).verdict is Verdict.OK


def test_nemesis_events_are_ignored() -> None:
    loaded = load(str(GOLDEN / "register-knossos.edn"))
    assert loaded.format == "knossos"
    assert all(isinstance(op.client, int) for op in loaded.operations)
    assert len(loaded.operations) == 4  # the failed cas left out


def test_kv_edn_reads_as_the_kv_model() -> None:
    loaded = parse(KV_EDN, "h")
    assert loaded.model == "kv"
    assert check(loaded.operations, KV).verdict is Verdict.OK


def test_format_can_be_forced() -> None:
    with pytest.raises(BadInput, match="expected one JSON object per line"):
        parse(KV_EDN, "h", fmt="jsonl")
    # An EDN key/value log read as Knossos: same events, the register models' view.
    assert parse(KV_EDN, "h", fmt="knossos").format == "knossos"


# --- malformed and truncated ------------------------------------------------------------

MALFORMED = [
    # (format, text, line, words expected in the message)
    ("jepsen-etcd", ETCD + "INFO  jepsen.util - 2\t:invoke\t:cas\t[3\n", 5, "not valid EDN"),
    ("jepsen-etcd", ETCD + "INFO  jepsen.util - 2\t:invoke\t:cas", 5, "process, type, function and value"),
    ("jepsen-etcd", ETCD + "INFO  jepsen.util - 2\t:invoke\t:cas\t7\n", 5, "[expected new]"),
    ("jepsen-etcd", ETCD + "INFO  jepsen.util - 2\t:ok\t:read\t1\n", 5, "no pending call"),
    ("jepsen-etcd", ETCD + "INFO  jepsen.util - 2\t:done\t:read\t1\n", 5, "event type"),
    ("porcupine-kv", KV_EDN + '{:process 2, :type :invoke, :f :get, :key "a"', 5, "not valid EDN"),
    ("porcupine-kv", KV_EDN + '{:process 2, :type :invoke, :f :get, :value nil}\n', 5, ":key"),
    ("porcupine-kv", KV_EDN + '{:process 1, :type :ok, :f :get, :key "a", :value "x"}\n', 5, "no pending call"),
    ("porcupine-kv", KV_EDN + '{:process 1, :type :begin, :f :get, :key "a"}\n', 5, ":type"),
    ("knossos", KNOSSOS.rstrip().rstrip("]") + "\n {:process 2, :type :invoke", 5, "not closed"),
    ("knossos", KNOSSOS.replace("[1 2]}\n", "[1 2]\n", 1), 3, "not valid EDN"),
    ("knossos", KNOSSOS.replace(":process 0, :type :ok", ":process 0, :type :invoke"), 2, "invokes again"),
    ("jsonl", JSONL + '{"type": "invoke", "client": 1, "f": "re', 4, "not JSON"),
    ("jsonl", JSONL + '{"type": "invoke", "client": 1}\n', 4, '"f"'),
    ("jsonl", JSONL + '{"type": "done", "client": 1}\n', 4, '"type"'),
    ("jsonl", JSONL + '{"type": "ok", "client": 1, "time": "soon"}\n', 4, '"time"'),
    ("jsonl", JSONL.split("\n", 1)[1], 1, "header"),
    ("jsonl", JSONL.replace('"version": 1', '"version": 9'), 1, "version"),
]


@pytest.mark.parametrize(("fmt", "text", "line", "words"), MALFORMED)
def test_malformed_or_truncated_file_names_the_line(
    tmp_path: Path, fmt: str, text: str, line: int, words: str
) -> None:
    path = tmp_path / "history"
    path.write_text(text)
    with pytest.raises(BadInput) as caught:
        load(str(path))
    error = caught.value
    assert error.path == str(path)
    assert error.line == line, str(error)
    assert words in error.message
    assert "\n" not in str(error)


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_every_format_truncated_mid_line_is_bad_input(tmp_path: Path, fmt: str) -> None:
    text = SAMPLES[fmt].rstrip("\n")
    path = tmp_path / "history"
    # Cut the last line a few characters short of its end (inside a value or a bracket).
    path.write_text(text[: len(text) - 3])
    with pytest.raises(BadInput) as caught:
        load(str(path), fmt)
    assert caught.value.line == text.count("\n") + 1


def test_empty_and_undetectable_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n\n")
    with pytest.raises(BadInput, match="empty"):
        load(str(empty))
    other = tmp_path / "other"
    other.write_text("hello\n")
    with pytest.raises(BadInput, match="--format"):
        load(str(other))
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BadInput, match="UTF-8"):
        load(str(binary))


def test_unknown_operation_for_the_model_is_bad_input() -> None:
    loaded = parse(KNOSSOS, "h")
    with pytest.raises(BadInput, match="kv model"):
        check(loaded.operations, KV)


def test_golden_json_histories_follow_the_schema() -> None:
    import json

    import jsonschema

    schema = json.loads((GOLDEN.parents[1] / "history.schema.json").read_text())
    files = sorted(GOLDEN.glob("*.jsonl"))
    assert files
    for path in files:
        for line in path.read_text().splitlines():
            jsonschema.validate(json.loads(line), schema)
        load(str(path))  # and our reader accepts them


def test_json_outputs_are_literal_so_user_models_get_them() -> None:
    text = (
        '{"format": "dscheck-history", "version": 1}\n'
        '{"type": "invoke", "client": 0, "f": "dequeue"}\n'
        '{"type": "ok", "client": 0, "value": [1, 2]}\n'
        '{"type": "invoke", "client": 0, "f": "cas", "value": [1, 2]}\n'
        '{"type": "ok", "client": 0, "value": false}\n'
    )
    ops = parse(text, "h").operations
    assert [(op.f, op.output) for op in ops] == [("dequeue", (1, 2)), ("cas", False)]


def test_string_clients_are_kept_and_a_return_before_its_call_is_bad_input() -> None:
    text = (
        '{"format": "dscheck-history", "version": 1, "model": "register"}\n'
        '{"type": "invoke", "client": "alice", "f": "write", "value": 1, "time": 5}\n'
        '{"type": "ok", "client": "alice", "time": 3}\n'
    )
    loaded = parse(text, "h")
    assert loaded.operations[0].client == "alice"
    with pytest.raises(BadInput, match="before its call"):
        check(loaded.operations, CAS_REGISTER)
