"""The lab's GenericTest (kvraft test_test.go; scenarios §4.2) and its shared checks.

Three iterations, each: fresh clients run for 5 s (after 1 s, a partitioner reshuffles the
servers into two random halves every 1.0–1.2 s); then heal and wait an election timeout;
then, with restarts, shut every server down, wait, and restart them all; then every client
finishes its call in flight, and a main clerk reads each client's key, which must hold each of
the client's appends exactly once and in order. With snapshots on, the Raft state must be
at most 8 × maxraftstate; with them off, no snapshot may exist.
"""

from __future__ import annotations

from impl.kv.labtester import ELECTION_TIMEOUT_MS, ClerkHandle, KVTester, Summary
from impl.kv.node import ClerkNode
from impl.kv.tasks import KvTask, spawn

ITERATIONS = 3
CLIENT_RUN_MS = 5000


def check(cfg: KVTester, ck: ClerkHandle[ClerkNode], key: str, value: str) -> KvTask[None]:
    got = yield from ck.get(key)
    if got != value:
        raise cfg.fail(f"Get({key!r}): expected:\n{value!r}\nreceived:\n{got!r}")


def check_clnt_appends(cfg: KVTester, clnt: int, v: str, count: int) -> None:
    """Every "x clnt j y", j < count, is in v exactly once, in increasing j order."""
    last = -1
    for j in range(count):
        wanted = f"x {clnt} {j} y"
        off = v.find(wanted)
        if off < 0:
            raise cfg.fail(f"{clnt} missing element {wanted!r} in Append result {v!r}")
        if v.rfind(wanted) != off:
            raise cfg.fail(f"duplicate element {wanted!r} in Append result")
        if off <= last:
            raise cfg.fail(f"wrong order for element {wanted!r} in Append result")
        last = off


def check_concurrent_appends(cfg: KVTester, v: str, counts: list[int]) -> None:
    for clnt, count in enumerate(counts):
        check_clnt_appends(cfg, clnt, v, count)


def title(part: str, nclients: int, unreliable: bool, crash: bool, partitions: bool,
          maxraftstate: int, randomkeys: bool) -> str:
    words = ["unreliable net, " if unreliable else "", "restarts, " if crash else "",
             "partitions, " if partitions else "", "snapshots, " if maxraftstate != -1 else "",
             "random keys, " if randomkeys else "",
             "one client" if nclients == 1 else "many clients"]
    return f"Test: {''.join(words)} ({part})"


def client_loop(cfg: KVTester, cli: int, nclients: int, randomkeys: bool,
                stop: list[bool]) -> KvTask[int]:
    """One client of the generic test, with a fresh clerk, until `stop`; returns how many
    writes it made (the j of its values "x cli j y")."""
    myck = cfg.make_client(list(range(cfg.n)))
    rng = cfg.rng
    j = 0
    last = ""  # only used without random keys
    if not randomkeys:
        yield from myck.put(str(cli), last)
    while not stop[0]:
        key = str(rng.randrange(nclients)) if randomkeys else str(cli)
        nv = f"x {cli} {j} y"
        if rng.randrange(1000) < 500:
            yield from myck.append(key, nv)
            if not randomkeys:
                last += nv
            j += 1
        elif randomkeys and rng.randrange(1000) < 100:
            # only with random keys: a put would break the per-client get check below
            yield from myck.put(key, nv)
            j += 1
        else:
            v = yield from myck.get(key)
            if not randomkeys and v != last:
                raise cfg.fail(f"get wrong value, key {key!r}, wanted:\n{last!r}\n, got\n{v!r}")
    cfg.delete_client(myck)
    return j


def partitioner(cfg: KVTester, stop: list[bool]) -> KvTask[None]:
    """Every 1.0–1.2 s, put each server in one of two halves, at random."""
    rng = cfg.rng
    while not stop[0]:
        side = [rng.randrange(2) for _ in range(cfg.n)]
        cfg.partition([i for i in range(cfg.n) if side[i] == 0],
                      [i for i in range(cfg.n) if side[i] == 1])
        yield ELECTION_TIMEOUT_MS + rng.randrange(200)


def generic(cfg: KVTester, part: str, nclients: int, crash: bool, partitions: bool,
            randomkeys: bool, unreliable: bool) -> KvTask[list[Summary]]:
    maxraftstate = cfg.maxraftstate
    cfg.begin(title(part, nclients, unreliable, crash, partitions, maxraftstate, randomkeys))
    everyone = list(range(cfg.n))
    ck = cfg.make_client(everyone)
    for _iteration in range(ITERATIONS):
        stop_clients, stop_partitioner = [False], [False]
        clients = [spawn(cfg.loop, client_loop(cfg, cli, nclients, randomkeys, stop_clients),
                         f"client{cli}") for cli in range(nclients)]
        partitioning = None
        if partitions:
            yield 1000  # let the clients work without interruption first
            partitioning = spawn(cfg.loop, partitioner(cfg, stop_partitioner), "partitioner")
        yield CLIENT_RUN_MS
        stop_clients[0] = stop_partitioner[0] = True
        if partitioning is not None:
            yield partitioning.finished
            # A client may have a call pending in a minority: it completes once its server
            # learns of a new term.
            cfg.connect_all()
            yield ELECTION_TIMEOUT_MS
        if crash:
            for i in everyone:
                cfg.shutdown_server(i)
            yield ELECTION_TIMEOUT_MS
            for i in everyone:
                cfg.start_server(i)
            cfg.connect_all()
        for cli in range(nclients):
            count = yield clients[cli].finished
            assert isinstance(count, int)
            v = yield from ck.get(str(cli))
            if not randomkeys:
                check_clnt_appends(cfg, cli, v, count)
        if maxraftstate > 0:
            # Checked after the servers processed every call and had time to snapshot.
            size = cfg.log_size()
            if size > 8 * maxraftstate:
                raise cfg.fail(f"logs were not trimmed ({size} > 8*{maxraftstate})")
        if maxraftstate < 0:
            size = cfg.snapshot_size()
            if size > 0:
                raise cfg.fail(f"snapshot too large ({size}), should not be used when "
                               f"maxraftstate = {maxraftstate}")
    return [cfg.end()]
