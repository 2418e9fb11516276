"""The sharded key/value service as real processes on loopback: the shard controller's three
servers and two replica groups, each a `dscheck server`, the groups polling the controller and
handing shards to each other over TCP. Each run's clients' history is audited for
linearizability and every acknowledged append must be found exactly once in the final values:

* a sharded cluster serves puts, appends and gets, its keys spread over both groups;
* groups join and leave under load: the shards move (the groups' own status shows which they
  serve, and it follows the final configuration), nothing acknowledged is lost;
* kill -9 of a group's leader under load, then its restart: the same;
* two groups partitioned from each other (the fault layer cutting the calls between them)
  while a join moves shards from one to the other, then healed: the move waits for the
  heal, then completes; the same audit.

In both load runs every server writes its own trace; `dscheck check-trace`'s merge makes them
one `shardkv` trace of the whole service (the controller's group and both replica groups),
and every state of it must satisfy every invariant the simulator's sharded traces are held to.

Every cluster stops in a `finally` (SIGKILL after a grace period); every run is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checker.trace_check import check_trace
from checker.trace_check.merge import merge_traces, trace_files
from checker.verdict import Verdict
from impl.net.admin import set_faults, status
from impl.net.clerk import NetClerk
from impl.net.cluster import Sharded
from impl.net.load import LoadSettings, run_load
from impl.net.local import LocalCluster, wait_for_leader, wait_for_leaders
from impl.net.server import run_loop
from impl.net.wire import WireError
from impl.shardkv.messages import key2shard
from spec.shardctrler import Configuration
from tests.net.harness import LEADER_TIMEOUT_S, acknowledged_appends, audit

GROUPS = (100, 101)
APPENDS_AND_GETS = (("append", 1.0), ("get", 1.0))


@contextlib.contextmanager
def sharded_cluster(directory: Path, *, join: tuple[int, ...] = GROUPS,
                    maxraftstate: int = 64 << 10, trace: bool = False,
                    faults: bool = False) -> Iterator[LocalCluster]:
    options = ["--maxraftstate", str(maxraftstate)]
    if trace:
        options += ["--trace", str(directory / "traces")]
    if faults:
        options.append("--faults")
    cluster = LocalCluster.create_sharded(directory, len(GROUPS), 3, options=options)
    try:
        cluster.start_all()
        leaders = run_loop(wait_for_leaders(cluster, LEADER_TIMEOUT_S))
        assert all(s is not None for s in leaders.values()), f"a group has no leader: {leaders}"
        if join:
            run_loop(control(layout(cluster), lambda core: core.join(
                {gid: layout(cluster).names(gid) for gid in join})))
        yield cluster
    finally:
        cluster.stop_all(grace=5.0)


def layout(cluster: LocalCluster) -> Sharded:
    assert cluster.sharded is not None
    return cluster.sharded


async def control(sharded: Sharded, start: Any) -> Any:
    """One call of a controller clerk (join, leave, move, query)."""
    clerk = NetClerk(sharded, controller=True)
    try:
        return await asyncio.wait_for(clerk.run(start), LEADER_TIMEOUT_S)
    finally:
        clerk.close()


async def values(sharded: Sharded, keys: list[str]) -> dict[str, str]:
    clerk = NetClerk(sharded)
    try:
        out = {}
        for key in keys:
            value = await asyncio.wait_for(clerk.call("get", key), LEADER_TIMEOUT_S)
            assert value is not None
            out[key] = value
        return out
    finally:
        clerk.close()


def _settings(duration: float, seed: int) -> LoadSettings:
    return LoadSettings(clients=6, duration=duration, keys=10, mix=APPENDS_AND_GETS, seed=seed)


def _assert_nothing_acknowledged_lost(sharded: Sharded, history: str) -> None:
    acked = acknowledged_appends(history)
    assert acked, "no append was acknowledged"
    final = run_loop(values(sharded, sorted(acked)))
    for key, tags in acked.items():
        for tag in tags:
            # Exactly once: an acknowledged append is there, and a retried one not twice —
            # across shard moves too (the duplicate tables travel with the shards).
            assert final[key].count(tag) == 1, (key, tag, final[key])


async def _serving(sharded: Sharded, gid: int) -> set[int]:
    """The shards group `gid`'s leader serves, by its own status."""
    found = await wait_for_leader(sharded.group(gid), LEADER_TIMEOUT_S)
    assert found is not None
    return set(found["serving"])


async def _settled(sharded: Sharded, config: Configuration, timeout: float = 30.0) -> None:
    """Wait until every group's leader serves exactly its shards of `config`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        served = {gid: await _serving(sharded, gid) for gid in sharded.gids()}
        wanted = {gid: set(config.shards_of(gid)) for gid in sharded.gids()}
        if served == wanted:
            return
        assert asyncio.get_running_loop().time() < deadline, (served, wanted)
        await asyncio.sleep(0.1)


def _assert_traces_check(cluster: LocalCluster, moved: bool) -> str:
    """Stop the cluster, merge its servers' traces and check them; the merged text."""
    cluster.stop_all()
    traces = cluster.directory / "traces"
    merged = merge_traces(trace_files(traces), traces / "merged.jsonl")
    assert merged.files >= 9  # every server of the controller and both groups
    result = check_trace(merged.path)
    assert result.verdict is Verdict.OK, [v.to_json() for v in result.violations]
    assert result.system == "shardkv" and result.groups == len(GROUPS)
    text = merged.path.read_text(encoding="utf-8")
    # Shards moved between groups (through each group's log) exactly when expected.
    assert ('"command":["install"' in text) is moved
    return text


def test_a_sharded_cluster_serves_puts_appends_and_gets(tmp_path: Path) -> None:
    with sharded_cluster(tmp_path) as cluster:
        sharded = layout(cluster)

        async def calls() -> dict[str, str]:
            clerk = NetClerk(sharded)
            try:
                for n in range(10):  # keys "0x".."9x": every shard (key2shard: first byte)
                    await clerk.call("put", f"{n}x", f"v{n}")
                    await clerk.call("append", f"{n}x", "+")
                return {f"{n}x": await clerk.call("get", f"{n}x") or "" for n in range(10)}
            finally:
                clerk.close()

        got = run_loop(calls())
        assert got == {f"{n}x": f"v{n}+" for n in range(10)}
        config = run_loop(control(sharded, lambda core: core.query(-1)))
        assert set(config.shards) == set(GROUPS), "both groups hold shards"
        run_loop(_settled(sharded, config))
        # Each group holds exactly the keys of its shards (its servers' own count).
        for gid in GROUPS:
            found = run_loop(status(sharded.group(gid)[0]))
            assert found is not None
            mine = [n for n in range(10) if config.shards[key2shard(f"{n}x")] == gid]
            assert found["keys"] == len(mine), (gid, found["keys"], mine)

        # Gets are answered by ReadIndex: a heartbeat round, no entry in the groups' logs.
        async def logs() -> dict[int, int]:
            found = {gid: await wait_for_leader(sharded.group(gid), LEADER_TIMEOUT_S)
                     for gid in GROUPS}
            return {gid: s["last_index"] for gid, s in found.items() if s is not None}

        async def gets() -> dict[str, str]:
            clerk = NetClerk(sharded)
            try:
                return {f"{n}x": await clerk.call("get", f"{n}x") or ""
                        for n in range(10) for _ in range(3)}
            finally:
                clerk.close()

        before = run_loop(logs())
        assert run_loop(gets()) == got
        assert run_loop(logs()) == before, "30 gets appended entries to a group's log"


def test_joins_and_leaves_under_load_move_shards_and_stay_linearizable(tmp_path: Path) -> None:
    history = io.StringIO()
    with sharded_cluster(tmp_path, join=(100,), trace=True) as cluster:
        sharded = layout(cluster)

        async def scenario() -> list[Configuration]:
            load = asyncio.create_task(run_load(sharded, _settings(9.0, 5), history))
            seen = []
            for change in (lambda core: core.join({101: sharded.names(101)}),
                           lambda core: core.leave([100]),
                           lambda core: core.join({100: sharded.names(100)})):
                await asyncio.sleep(2.0)
                await control(sharded, change)
                seen.append(await control(sharded, lambda core: core.query(-1)))
            result = await load
            assert result.done > 0
            await _settled(sharded, seen[-1])
            return seen

        configs = run_loop(scenario())
        assert set(configs[0].shards) == {100, 101}  # the join gave 101 half the shards
        assert set(configs[1].shards) == {101}  # the leave moved 100's to 101
        assert set(configs[2].shards) == {100, 101}
        text = history.getvalue()
        audit(text)
        _assert_nothing_acknowledged_lost(sharded, text)
        _assert_traces_check(cluster, moved=True)


def test_kill9_of_a_group_leader_under_load_then_restart(tmp_path: Path) -> None:
    history = io.StringIO()
    with sharded_cluster(tmp_path, maxraftstate=8 << 10, trace=True) as cluster:
        sharded = layout(cluster)

        async def scenario() -> None:
            load = asyncio.create_task(run_load(sharded, _settings(7.0, 7), history))
            await asyncio.sleep(1.5)
            leader = await wait_for_leader(sharded.group(100), LEADER_TIMEOUT_S)
            assert leader is not None
            victim = sharded.names(100)[leader["id"]]
            cluster.kill(victim)
            await asyncio.sleep(2.0)
            cluster.start(victim)
            result = await load
            assert result.done > 0

        run_loop(scenario())
        text = history.getvalue()
        audit(text)
        _assert_nothing_acknowledged_lost(sharded, text)
        merged = _assert_traces_check(cluster, moved=False)
        assert '"event":"crash"' in merged  # the merge marks the killed incarnation's end


async def _cut(sharded: Sharded, a: int, b: int, cut: bool) -> None:
    """Partition groups `a` and `b` from each other (or heal): each server of one stops
    calling the other's servers and hearing their answers (impl.net.links.Faults)."""
    for mine, theirs in ((a, b), (b, a)):
        for address in sharded.group(mine):
            got = await set_faults(address, list(sharded.names(theirs)) if cut else [])
            assert got["blocked"] == (sorted(sharded.names(theirs)) if cut else [])


def test_groups_partitioned_during_a_migration_then_healed(tmp_path: Path) -> None:
    history = io.StringIO()
    with sharded_cluster(tmp_path, join=(100,), trace=True, faults=True) as cluster:
        sharded = layout(cluster)

        async def scenario() -> tuple[int, list[int], int]:
            # The fault layer takes only names of servers this one calls.
            with pytest.raises((WireError, ConnectionError)):
                await set_faults(sharded.group(100)[0], ["nobody"])
            load = asyncio.create_task(run_load(sharded, _settings(9.0, 11), history))
            await asyncio.sleep(1.0)
            await _cut(sharded, 100, 101, cut=True)
            await control(sharded, lambda core: core.join({101: sharded.names(101)}))
            config = await control(sharded, lambda core: core.query(-1))
            assert set(config.shards_of(101)), "the join gave group 101 shards"
            await asyncio.sleep(3.0)  # the move cannot happen: 100 cannot reach 101
            during = await wait_for_leader(sharded.group(101), LEADER_TIMEOUT_S)
            assert during is not None
            await _cut(sharded, 100, 101, cut=False)
            result = await load
            assert result.done > 0
            await _settled(sharded, config)
            return config.num, during["serving"], during["num"]

        num, serving_cut, num_cut = run_loop(scenario())
        # While cut off, group 101 had reached the new configuration (it polls the
        # controller, which it still reached) but served none of its shards: they all had
        # to come from 100 (every shard was 100's before the join).
        assert num_cut == num and serving_cut == [], (num_cut, num, serving_cut)
        text = history.getvalue()
        audit(text)
        _assert_nothing_acknowledged_lost(sharded, text)
        merged = _assert_traces_check(cluster, moved=True)
        assert '"reason":"disconnected"' in merged  # the cut dropped calls between groups
