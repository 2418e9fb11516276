"""The sharded service's commands as a user runs them — `dscheck cluster start --sharded`,
`cluster status|stop`, `dscheck kv`, `dscheck shardctrler` — and their bad input (one line,
exit 2): sectioned cluster files, server names, a plain file where a sharded one is needed.
Also the wire: the sharded service's messages and log entries decode to what was sent, and
malformed ones are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from impl.net.cluster import Address, Sharded, read_any, read_cluster, sharded_text
from impl.net.sharded_wire import (
    ctrl_decoder,
    decode_ctrl_op,
    decode_shard_command,
    shard_clerk_decoder,
    shard_decoder,
)
from impl.net.wire import WireError
from impl.shardctrler.machine import CtrlOp
from impl.shardctrler.messages import QueryArgs, QueryReply
from impl.shardkv.machine import Install, reconfigure
from impl.shardkv.messages import TransferArgs
from spec.errors import BadInput
from spec.shardctrler import Configuration
from tests.net.test_cli_net import dscheck, one_line_exit_2

CONFIG = Configuration(3, (100, 100, 101, 101, 100, 100, 101, 101, 100, 101),
                       ((100, ("server-100-0",)), (101, ("server-101-0", "server-101-1"))))


def test_sharded_commands_end_to_end(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    where = ("--cluster", str(directory / "cluster"))
    started = dscheck("cluster", "start", "--sharded", "--groups", "2", "--servers", "1",
                      "--dir", str(directory))
    try:
        assert started.returncode == 0, started.stderr
        assert "joined groups 100, 101" in started.stdout
        assert "leader" in started.stdout and "ctrler0" in started.stdout
        assert dscheck("kv", "put", "0a", "x", *where).stdout == "OK\n"
        assert dscheck("kv", "append", "0a", "y", *where).stdout == "OK\n"
        assert dscheck("kv", "get", "0a", *where).stdout == "xy\n"
        query = dscheck("shardctrler", "query", *where)
        assert query.returncode == 0 and query.stdout.startswith("configuration 1\n"), query
        again = dscheck("shardctrler", "join", "100", *where)
        assert again.returncode == 1 and "refused" in again.stdout
        assert dscheck("shardctrler", "move", "8", "101", *where).stdout == "OK\n"
        assert dscheck("kv", "get", "0a", *where).stdout == "xy\n"  # shard 8 moved to 101
        one_line_exit_2(dscheck("shardctrler", "join", "105", *where), "group 105")
        rows = [json.loads(line) for line in
                dscheck("cluster", "status", "--json", *where).stdout.splitlines()]
        assert [r["name"] for r in rows] == ["ctrler0", "ctrler1", "ctrler2", "server-100-0",
                                             "server-101-0"]
        assert all(r["up"] for r in rows)
        one_line_exit_2(dscheck("cluster", "start", "--sharded", "--dir", str(directory)),
                        "a cluster is running here")
    finally:
        stopped = dscheck("cluster", "stop", "--dir", str(directory))
    assert stopped.returncode == 0 and "server-101-0" in stopped.stdout


@pytest.mark.parametrize(("text", "line", "words"), [
    ("[controller]\n127.0.0.1:7000\n[group 0]\n127.0.0.1:7001\n", 3, "gid 0"),
    ("[controller]\n127.0.0.1:7000\n[group 1]\n", 3, "no servers"),
    ("[controller]\n127.0.0.1:7000\n[grop 1]\n127.0.0.1:7001\n", 3, "not a section"),
    ("127.0.0.1:7009\n[controller]\n127.0.0.1:7000\n", 2, "a section after servers"),
    ("[group 1]\n127.0.0.1:7001\n", None, "needs a [controller]"),
    ("[controller]\n127.0.0.1:7000\n[controller]\n127.0.0.1:7001\n", 3, "second [controller]"),
    ("[controller]\n127.0.0.1:7000\n[group 1]\n127.0.0.1:7000\n", 4, "listed twice"),
])
def test_bad_sharded_cluster_files(tmp_path: Path, text: str, line: int | None,
                                   words: str) -> None:
    path = tmp_path / "cluster"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        read_any(path)
    assert words in caught.value.message
    assert caught.value.line == line


def test_cluster_files_round_trip_and_name_servers(tmp_path: Path) -> None:
    layout = Sharded((Address("127.0.0.1", 7000),),
                     ((100, (Address("127.0.0.1", 7100), Address("127.0.0.1", 7101))),))
    path = tmp_path / "cluster"
    path.write_text(sharded_text(layout), encoding="utf-8")
    assert read_any(path) == layout
    assert layout.locate("server-100-1") == (100, 1)
    assert layout.locate("ctrler0") == (None, 0)
    for bad in ("server-100-2", "ctrler1", "server-7-0", "bogus"):
        with pytest.raises(BadInput):
            layout.locate(bad)
    with pytest.raises(BadInput, match="sharded cluster file"):
        read_cluster(path)  # a key/value command given a sharded file
    one_line_exit_2(dscheck("server", "--id", "server-100-5", "--cluster", str(path),
                            "--dir", str(tmp_path / "d")), "no server 'server-100-5'")
    plain = tmp_path / "plain"
    plain.write_text("127.0.0.1:7000\n", encoding="utf-8")
    one_line_exit_2(dscheck("shardctrler", "query", "--cluster", str(plain)),
                    "not a sharded cluster file")
    one_line_exit_2(dscheck("server", "--id", "ctrler0", "--cluster", str(plain), "--dir",
                            str(tmp_path / "d")), "numbered 0..0")


def test_the_sharded_wire_round_trips_and_refuses_malformed_messages() -> None:
    transfer = TransferArgs(num=3, shard=2, gid=100, data=(("a", "1"), ("b", "2")),
                            dup=((7, 9),))
    assert shard_decoder().decode(transfer.wire()) == transfer
    reply = QueryReply(err="OK", seq=4, config=CONFIG)
    assert shard_clerk_decoder().decode(reply.wire()) == reply
    install = Install("install", 3, 2, (("a", "1"),), ((7, 9),), 101)
    assert decode_shard_command(list(install)) == install
    assert decode_shard_command([*reconfigure(CONFIG)]) == reconfigure(CONFIG)
    join = CtrlOp("join", ((100, ("server-100-0",)),), 5, 1)
    assert decode_ctrl_op([join.kind, [[100, ["server-100-0"]]], 5, 1]) == join
    assert decode_ctrl_op(["query", -1, 5, 2]) == CtrlOp("query", -1, 5, 2)
    assert ctrl_decoder().decode(QueryArgs(num=-1, clerk=1, seq=1).wire()).num == -1
    short = [3, [100] * 9, [[100, ["s"]]]]  # nine shards
    stray = [3, [100] * 9 + [102], [[100, ["s"]]]]  # a shard on a group not listed
    for bad in (short, stray):
        with pytest.raises(WireError):
            shard_decoder().decode(["QueryReply", "OK", 1, bad])
    for bad_command in (["install", 3, 10, [], [], 1], ["delete", 1], ["noop", "", None, 0, 0],
                        ["config", 1, [0] * 10, [[0, []]]], ["put", "k", 5, 1, 1]):
        with pytest.raises(WireError):
            decode_shard_command(bad_command)
    for bad_op in (["join", [[2, ["a"]], [1, ["b"]]], 1, 1], ["query", -2, 1, 1],
                   ["move", [1], 1, 1], ["drop", 1, 1, 1]):
        with pytest.raises(WireError):
            decode_ctrl_op(bad_op)
