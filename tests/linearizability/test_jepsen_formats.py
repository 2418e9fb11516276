"""What Jepsen and Knossos write, read as they write it (fixtures/ holds small files of our
own in their formats): whole EDN documents, Jepsen's history.edn and history.txt, nemesis
events, Knossos's semantics, and the model each history implies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from checker.linearizability import MODELS, check
from checker.linearizability.formats import detect, load, parse
from checker.verdict import Verdict
from spec.errors import BadInput

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]


def test_a_pretty_printed_knossos_vector_with_comments_discards_and_records() -> None:
    loaded = load(str(FIXTURES / "knossos-cas-pretty.edn"))
    assert loaded.format == "knossos"
    assert loaded.model == "cas-register"
    described = [op.describe() for op in loaded.operations]
    assert described == [
        "c0 write(1) -> nil",
        "c1 cas([1 2]) -> True",
        "c2 read() -> 2",
        "c3 write(3) -> ? (no return)",  # :info: may take effect any time, or never
    ]
    assert [op.line for op in loaded.operations] == [3, 11, 13, 15]  # where each call starts
    assert [(e.line, e.f) for e in loaded.nemesis] == [(9, ":start"), (17, ":stop")]
    assert check(loaded.operations, MODELS["cas-register"]).verdict is Verdict.OK


def test_jepsen_history_edn_with_index_time_and_errors_for_a_queue() -> None:
    loaded = load(str(FIXTURES / "jepsen-queue-history.edn"))
    assert loaded.format == "knossos"
    assert loaded.model is None  # a history does not say whether its queue is FIFO
    # The failed dequeue did not happen; the dequeues' elements come from their :ok.
    assert [op.input for op in loaded.operations if op.f == "dequeue"] == [
        ("dequeue", None, 2), ("dequeue", None, 1)]
    assert len(loaded.nemesis) == 2
    for name in ("unordered-queue", "fifo-queue"):
        assert check(loaded.operations, MODELS[name]).verdict is Verdict.OK


def test_jepsen_history_txt_for_a_mutex() -> None:
    loaded = load(str(FIXTURES / "jepsen-mutex-history.txt"))
    assert loaded.format == "jepsen-txt"
    assert loaded.model == "mutex"
    assert len(loaded.operations) == 4  # the failed acquire left out, the :info one kept
    assert [e.f for e in loaded.nemesis] == [":start", ":stop"]
    assert check(loaded.operations, MODELS["mutex"]).verdict is Verdict.OK
    # Had the failed acquire succeeded, two processes would hold the lock.
    text = (FIXTURES / "jepsen-mutex-history.txt").read_text()
    broken = parse(text.replace('1\t:fail\t:acquire\tnil\t[:held "by 0"]', "1\t:ok\t:acquire\tnil"))
    assert check(broken.operations, MODELS["mutex"]).verdict is Verdict.VIOLATION


def test_jepsen_history_txt_for_a_set_reads_sets() -> None:
    loaded = load(str(FIXTURES / "jepsen-set-history.txt"))
    assert loaded.model == "set"
    assert check(loaded.operations, MODELS["set"]).verdict is Verdict.OK
    lost = parse((FIXTURES / "jepsen-set-history.txt").read_text().replace("#{1 3}", "#{3}"))
    assert check(lost.operations, MODELS["set"]).verdict is Verdict.VIOLATION


def test_transactions_over_several_registers() -> None:
    loaded = load(str(FIXTURES / "jepsen-txn-history.edn"))
    assert loaded.model == "multi-register"
    assert loaded.operations[0].input == ("txn", None, (("w", ":x", 1), ("w", ":y", 1)))
    assert check(loaded.operations, MODELS["multi-register"]).verdict is Verdict.OK
    stale = parse((FIXTURES / "jepsen-txn-history.edn").read_text().replace(
        "[[:r :y 1] [:r :z 2]]", "[[:r :y nil] [:r :z 2]]"))
    assert check(stale.operations, MODELS["multi-register"]).verdict is Verdict.VIOLATION


def test_a_list_wrapper_and_maps_on_one_line_read_alike() -> None:
    one_line = (
        "({:process 0 :type :invoke :f :write :value 1} {:process 0 :type :ok :f :write "
        ":value 1} {:process 1 :type :invoke :f :read} {:process 1 :type :ok :f :read :value 1})"
    )
    loaded = parse(one_line, "h")
    assert loaded.format == "knossos"
    assert [op.describe() for op in loaded.operations] == ["c0 write(1) -> nil", "c1 read() -> 1"]


def test_knossos_completes_an_invoke_value_from_its_ok() -> None:
    text = ("{:process 0, :type :invoke, :f :write, :value nil}\n"
            "{:process 0, :type :ok, :f :write, :value 4}\n")
    assert parse(text, "h").operations[0].input == ("write", None, 4)


def test_detection_of_every_jepsen_shape() -> None:
    assert detect(";; comment\n[{:process 0 :type :invoke}", "h") == "knossos"
    assert detect("#jepsen.history.Op{:index 0}", "h") == "knossos"
    assert detect("0\t:invoke\t:read\tnil\n", "h") == "jepsen-txt"
    assert detect(":nemesis\t:info\t:start\tnil\n", "h") == "jepsen-txt"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[{:process 0, :type :invoke, :f :read, :value nil}\n {:process 0,\n  :type :ok", 2,
         "not closed"),
        ("[{:process 0, :type :invoke, :f :read, :value nil}\n {:process 0 :type]\n", 2,
         "closed by ']'"),
        ('{:process 0, :type :invoke, :f :read, :value "abc\n', 1, "string"),
        ("[{:process 0, :type :invoke, :f :read, :value nil}\n :oops]\n", 2, "EDN map"),
        ("{:process 0, :type :invoke, :f :txn, :value 3}\n", 1, "txn"),
        ("0\t:invoke\t:read\n", 1, "tabs"),
        ("0\t:invoke\t:read\tnil\n0\t:done\t:read\tnil\n", 2, ":invoke, :ok"),
        ("0\t:invoke\t:read\tnil\n0\t:ok\t:read\t[1\n", 2, "not valid EDN"),
        ("0\t:invoke\t:read\tnil\n1\t:ok\t:read\t1\n", 2, "no pending call"),
    ],
)
def test_malformed_jepsen_files_name_the_line(tmp_path: Path, text: str, line: int,
                                              words: str) -> None:
    path = tmp_path / "history"
    path.write_text(text)
    with pytest.raises(BadInput) as caught:
        load(str(path))
    assert caught.value.line == line, str(caught.value)
    assert words in caught.value.message
    assert "\n" not in str(caught.value)


def test_the_cli_reads_a_queue_history_with_the_model_named(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "checker", "lin", "--model", "fifo-queue",
         str(FIXTURES / "jepsen-queue-history.edn")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK  fifo-queue" in run.stdout
    unnamed = subprocess.run(
        [sys.executable, "-m", "checker", "lin", str(FIXTURES / "jepsen-queue-history.edn")],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert unnamed.returncode == 2
    assert "--model" in unnamed.stderr
