"""Real clusters for the network runtime's tests: server processes on loopback with free
ports, stopped (SIGKILL as a last resort) in a `finally` however the test ends, and the
helpers the fault tests share — the leader's id, a history's audit, acknowledged appends."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from checker.linearizability import KV, check, render_text
from checker.linearizability.formats import parse
from checker.verdict import Verdict
from impl.net.clerk import NetClerk
from impl.net.local import LocalCluster, statuses, wait_for_leader
from impl.net.server import run_loop

LEADER_TIMEOUT_S = 30.0  # generous: the machine is shared, and only correctness is asserted


@contextlib.contextmanager
def running_cluster(directory: Path, servers: int = 3, *, trace: bool = True,
                    faults: bool = False, maxraftstate: int = 64 << 10) -> Iterator[LocalCluster]:
    options = ["--maxraftstate", str(maxraftstate)]
    if trace:
        options += ["--trace", str(directory / "traces")]
    if faults:
        options.append("--faults")
    cluster = LocalCluster.create(directory, servers, options=options)
    try:
        cluster.start_all()
        leader = run_loop(wait_for_leader(cluster.addresses, LEADER_TIMEOUT_S, cluster))
        assert leader is not None, "no leader elected"
        # A majority elects a leader while the last server may still be starting (a loaded
        # machine): tests that talk to every server need every one listening.
        run_loop(every_server_up(cluster))
        yield cluster
    finally:
        cluster.stop_all(grace=5.0)


async def every_server_up(cluster: LocalCluster, timeout: float = LEADER_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not all(s is not None for s in await statuses(cluster.addresses, 0.5)):
        assert time.monotonic() < deadline, "a server never started listening"
        await asyncio.sleep(0.05)


async def leader_of(cluster: LocalCluster, timeout: float = LEADER_TIMEOUT_S) -> int:
    found = await wait_for_leader(cluster.addresses, timeout)
    assert found is not None, "no leader"
    node = found["id"]
    assert isinstance(node, int)
    return node


async def serving_after(cluster: LocalCluster, began: float,
                        timeout: float = LEADER_TIMEOUT_S) -> float:
    """Seconds from `began` until a put through a fresh clerk is acknowledged: the cluster
    serves again."""
    clerk = NetClerk(cluster.addresses)
    try:
        await asyncio.wait_for(clerk.call("put", "probe", str(began)), timeout)
    finally:
        clerk.close()
    return time.monotonic() - began


def audit(history: str) -> int:
    """Assert the history linearizable (model kv); the number of its operations."""
    loaded = parse(history, "<load history>", "jsonl")
    result = check(loaded.operations, KV, timeout=120.0)
    assert result.verdict is Verdict.OK, render_text(result)
    return len(loaded.operations)


def acknowledged_appends(history: str) -> dict[str, list[str]]:
    """Per key, the values of the appends whose call returned OK."""
    import json

    invoked: dict[Any, tuple[str, str, str | None]] = {}
    acked: dict[str, list[str]] = {}
    for line in io.StringIO(history).readlines()[1:]:
        event = json.loads(line)
        if event["type"] == "invoke":
            invoked[event["client"]] = (event["f"], event["key"], event.get("value"))
        elif event["type"] == "ok":
            kind, key, value = invoked.pop(event["client"])
            if kind == "append":
                assert value is not None
                acked.setdefault(key, []).append(value)
    return acked


async def final_values(cluster: LocalCluster, keys: list[str]) -> dict[str, str]:
    clerk = NetClerk(cluster.addresses)
    try:
        out = {}
        for key in keys:
            value = await asyncio.wait_for(clerk.call("get", key), LEADER_TIMEOUT_S)
            assert value is not None
            out[key] = value
        return out
    finally:
        clerk.close()
