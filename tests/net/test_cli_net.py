"""The commands of the network runtime as a user runs them: `dscheck cluster start|status|
stop`, `dscheck kv get|put|append|load`, `dscheck check-trace` on a cluster's traces, and every
kind of bad input the issue names — one line, exit 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from impl.net.local import free_ports
from tests.net.harness import running_cluster

ROOT = Path(__file__).resolve().parents[2]


def dscheck(*args: str | bytes, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    raw = subprocess.run([sys.executable, "-m", "checker", *args], capture_output=True,
                         cwd=ROOT, env=env, timeout=timeout)
    return subprocess.CompletedProcess(raw.args, raw.returncode,
                                       raw.stdout.decode("utf-8", "replace"),
                                       raw.stderr.decode("utf-8", "replace"))


def one_line_exit_2(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_kv_calls_and_load_on_a_running_cluster(tmp_path: Path) -> None:
    with running_cluster(tmp_path, trace=False) as cluster:
        where = ("--cluster", str(cluster.cluster_file))
        assert dscheck("kv", "put", "greeting", "hello", *where).stdout == "OK\n"
        assert dscheck("kv", "append", "greeting", ", world", *where).stdout == "OK\n"
        got = dscheck("kv", "get", "greeting", *where)
        assert (got.returncode, got.stdout) == (0, "hello, world\n")
        assert dscheck("kv", "get", "absent", *where).stdout == "\n"
        history = tmp_path / "history.jsonl"
        load = dscheck("kv", "load", "--clients", "3", "--duration", "1.5", "--json",
                       "--history", str(history), *where)
        assert load.returncode == 0, load.stderr
        summary = json.loads(load.stdout.splitlines()[0])
        assert summary["calls"] > 0 and summary["all"]["p50_ms"] <= summary["all"]["p99_ms"]
        assert "calls" in load.stderr  # the progress line
        audit = dscheck("lin", str(history))
        assert audit.returncode == 0, audit.stdout + audit.stderr


def test_bad_keys_and_values_exit_2(tmp_path: Path) -> None:
    with running_cluster(tmp_path, trace=False) as cluster:
        where = ("--cluster", str(cluster.cluster_file))
        one_line_exit_2(dscheck("kv", "get", "", *where), "key is empty")
        one_line_exit_2(dscheck("kv", "put", b"\xff\xfe", "v", *where), "UTF-8")
        one_line_exit_2(dscheck("kv", "put", "k", b"\xc3", *where), "value", "UTF-8")
        one_line_exit_2(dscheck("kv", "put", "k" * 2000, "v", *where), "key")
        one_line_exit_2(dscheck("kv", "load", "--mix", "put=lots", *where), "--mix")
        one_line_exit_2(dscheck("kv", "append", "k", *where), "VALUE")
        # A second server on a running server's directory: refused, the first unharmed.
        one_line_exit_2(dscheck("server", "--id", "0", "--cluster", str(cluster.cluster_file),
                                "--dir", str(tmp_path / "s0")), "another server")
        assert cluster.exited() == {}
        # No majority: reachable, but the call cannot finish — unknown (3), never OK.
        cluster.kill(1)
        cluster.kill(2)
        late = dscheck("kv", "put", "k", "v", "--timeout", "1", *where)
        assert late.returncode == 3, (late.stdout, late.stderr)
        assert "outcome unknown" in late.stderr and late.stdout == ""


def test_unreachable_and_bad_cluster_files_exit_2(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    nobody = tmp_path / "nobody"
    nobody.write_text(f"127.0.0.1:{port}\n")
    one_line_exit_2(dscheck("kv", "get", "k", "--cluster", str(nobody)), "unreachable")
    one_line_exit_2(dscheck("kv", "load", "--duration", "1", "--cluster", str(nobody)),
                    "unreachable")
    one_line_exit_2(dscheck("cluster", "status", "--cluster", str(nobody)), "unreachable")
    one_line_exit_2(dscheck("kv", "get", "k", "--cluster", str(tmp_path / "missing")),
                    "not found")
    bad = tmp_path / "bad"
    bad.write_text("# ok\n127.0.0.1:7000\nlocalhost:99999\n")
    one_line_exit_2(dscheck("kv", "put", "k", "v", "--cluster", str(bad)), f"{bad}:3:")
    twice = tmp_path / "twice"
    twice.write_text("127.0.0.1:7000\n127.0.0.1:7000\n")
    one_line_exit_2(dscheck("kv", "get", "k", "--cluster", str(twice)), f"{twice}:2:",
                    "twice")
    one_line_exit_2(dscheck("server", "--id", "3", "--cluster", str(bad.with_name("nobody")),
                            "--dir", str(tmp_path / "d")), "server id 3")


def test_a_port_in_use_exits_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cluster = tmp_path / "cluster"
        cluster.write_text(f"127.0.0.1:{port}\n")
        one_line_exit_2(dscheck("server", "--id", "0", "--cluster", str(cluster), "--dir",
                                str(tmp_path / "s0")), "cannot listen", str(port))
        one_line_exit_2(dscheck("cluster", "start", "--dir", str(tmp_path / "c"),
                                "--base-port", str(port)), "in use")


def test_cluster_start_status_stop_and_its_traces_check(tmp_path: Path) -> None:
    directory = tmp_path / "cluster"
    try:
        started = dscheck("cluster", "start", "--servers", "3", "--dir", str(directory),
                          "--trace", "--maxraftstate", "8192")
        assert started.returncode == 0, started.stderr
        assert started.stdout.count("leader") >= 1 and "cluster file:" in started.stdout
        where = ("--cluster", str(directory / "cluster"))
        for n in range(20):
            assert dscheck("kv", "append", "log", f"[{n}]", *where).returncode == 0
        assert dscheck("kv", "get", "log", *where).stdout == "".join(
            f"[{n}]" for n in range(20)) + "\n"
        again = dscheck("cluster", "start", "--dir", str(directory))
        one_line_exit_2(again, "running")
        status = dscheck("cluster", "status", "--dir", str(directory), "--json")
        rows = [json.loads(line) for line in status.stdout.splitlines()]
        assert [r["up"] for r in rows] == [True] * 3
        assert sum(r["role"] == "leader" for r in rows) == 1
    finally:
        stopped = dscheck("cluster", "stop", "--dir", str(directory))
    assert "stopped servers 0, 1, 2" in stopped.stdout
    for row in rows:
        assert not Path(f"/proc/{row['pid']}").exists() or b"zombie" in Path(
            f"/proc/{row['pid']}/status").read_bytes().lower()
    checked = dscheck("check-trace", str(directory / "traces"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "merged 3 server trace files" in checked.stdout


@pytest.mark.parametrize("verb", ["status", "stop"])
def test_cluster_verbs_on_a_directory_without_a_cluster_exit_2(tmp_path: Path,
                                                                verb: str) -> None:
    one_line_exit_2(dscheck("cluster", verb, "--dir", str(tmp_path)), "cluster file")


@pytest.mark.parametrize("read_index", [True, False], ids=["read-index", "no-read-index"])
def test_gets_by_read_index_unless_turned_off(tmp_path: Path, read_index: bool) -> None:
    """By default a get is answered by ReadIndex (a `read` event, no log entry);
    `--no-read-index` puts it through the log (an `apply` of the get)."""
    directory = tmp_path / "cluster"
    flag = [] if read_index else ["--no-read-index"]
    try:
        started = dscheck("cluster", "start", "--servers", "3", "--dir", str(directory),
                          "--trace", *flag)
        assert started.returncode == 0, started.stderr
        where = ("--cluster", str(directory / "cluster"))
        assert dscheck("kv", "put", "k", "v", *where).returncode == 0
        assert dscheck("kv", "get", "k", *where).stdout == "v\n"
    finally:
        dscheck("cluster", "stop", "--dir", str(directory))
    events = [json.loads(line) for f in sorted((directory / "traces").glob("trace-s*.jsonl"))
              for line in f.read_text(encoding="utf-8").splitlines()]
    reads = [e for e in events if e.get("event") == "read"]
    logged_gets = [e for e in events if e.get("event") == "apply"
                   and e.get("kind") == "command" and e["command"][0] == "get"]
    if read_index:
        assert [(r["command"][1], r["output"]) for r in reads] == [("k", "v")]
        assert logged_gets == []
    else:
        assert reads == []
        assert {e["output"] for e in logged_gets} == {"v"}
    checked = dscheck("check-trace", str(directory / "traces"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
