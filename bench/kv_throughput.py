"""Benchmark: key/value throughput of dscheck's network runtime beside etcd and PySyncObj, in
one run (issue 15).

Each system runs 3 servers on loopback with its log fsync'd (etcd's default; ours always;
PySyncObj writes its journal through mmap and never fsyncs it per entry — weaker durability,
shown in the table). The same closed-loop load (each client one call at a time, 100-byte
values, keys spread over 100 per client) measures put throughput and p50/p99 latency with 1,
16 and 64 clients, and linearizable gets with 1 and 16 clients:

* ours: `NetClerk`s in this process (uvloop), talking to the servers over TCP; a get is
  answered by ReadIndex (the servers' default: a heartbeat round a majority answers, no log
  entry, no fsync); the leader writes its log in parallel with replication (the servers'
  default, Raft thesis §10.2.1);
* ours-serial (`dscheck serial`): the same servers with `--no-parallel-write`, the leader
  sending AppendEntries only once its own fsync is done, for comparison in the same run;
  likewise ours-thread (`--flush thread`), ours-loop (`--flush loop`), ours-unbatched
  (`--no-read-batching`) and ours-held (`--no-early-replies`: replies wait for the leader's
  own fsync even when the call is committed without it);
* etcd: 3 `etcd` members (Debian: `apt-get install etcd-server`; the column is skipped if
  `etcd` is not on the PATH), the same Python clients speaking its v3 JSON gateway over
  keep-alive HTTP/1.1 to the leader; a range read is linearizable by default (ReadIndex);
* PySyncObj (`pip install pysyncobj`; skipped if absent): replicas in 3 processes, the load
  driven through one of them (PySyncObj has no client protocol), gets `@replicated`.

Rounds interleave the systems row by row (each row: system after system), and each figure
is the median over rounds; the load average is printed before and after, and each server
process's CPU seconds per 1,000 calls (from /proc) show what limits it. Then the table and
one JSON line. Usage: python bench/kv_throughput.py [--duration S] [--rounds R]
[--systems ours,ours-serial,etcd,pysyncobj] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from impl.net.clerk import NetClerk
from impl.net.load import percentiles
from impl.net.local import LocalCluster, free_ports, statuses, wait_for_leader
from impl.net.server import run_loop

ROWS = [("put", 1), ("put", 16), ("put", 64), ("get", 1), ("get", 16)]
VALUE = "v" * 100
ISSUE_ETCD = {("put", 1): "670–870", ("put", 64): "2.8–3.8k", ("get", 1): "1.3–1.7k"}
Call = Callable[[str, str, str | None], Awaitable[Any]]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def closed_loop(calls: list[Call], kind: str, seconds: float) -> dict[str, Any]:
    """Each client calls, waits, calls again until the time is up; latencies of those done."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def client(number: int, call: Call) -> None:
        n = 0
        while time.monotonic() < deadline:
            key = f"k{number}-{n % 100}"
            n += 1
            began = time.monotonic()
            await call(kind, key, VALUE if kind == "put" else None)
            latencies.append(time.monotonic() - began)

    began = time.monotonic()
    tasks = [asyncio.create_task(client(i, c)) for i, c in enumerate(calls)]
    _, pending = await asyncio.wait(tasks, timeout=seconds + 30)
    for task in pending:
        task.cancel()
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    return {"seconds": time.monotonic() - began, "latencies": latencies}


# ---------------------------------------------------------------------------- ours
class Ours:
    name = "dscheck"
    durable = "fsync, group commit"
    options: tuple[str, ...] = ()

    def __init__(self, directory: Path) -> None:
        self.cluster = LocalCluster.create(directory, 3, options=list(self.options))
        self.cluster.start_all()
        if run_loop(wait_for_leader(self.cluster.addresses, 30, self.cluster)) is None:
            raise RuntimeError("dscheck: no leader")

    def pids(self) -> list[int]:
        return [p.pid for p in self.cluster.procs.values()]

    def row(self, kind: str, clients: int, seconds: float) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            clerks = [NetClerk(self.cluster.addresses) for _ in range(clients)]
            try:
                for clerk in clerks:  # connect and find the leader before the clock starts
                    await clerk.call("put", "warm", VALUE)
                before = await statuses(self.cluster.addresses)
                got = await closed_loop([c.call for c in clerks], kind, seconds)
                after = await statuses(self.cluster.addresses)
            finally:
                for clerk in clerks:
                    clerk.close()
            # Group commit on each server: states made durable per fsync, mean flush time.
            got["group_commit"] = [
                {"states_per_flush": round((a["durable"] - b["durable"]) / flushes, 2),
                 "flush_ms": round((a["flush_seconds"] - b["flush_seconds"]) / flushes * 1000,
                                   3)}
                for b, a in zip(before, after, strict=True)
                if a and b and (flushes := a["flushes"] - b["flushes"]) > 0]
            return got
        return run_loop(run())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.cluster.stop_all()


class OursSerial(Ours):
    """Ours with the leader's write before replication (`--no-parallel-write`)."""

    name = "dscheck serial"
    options = ("--no-parallel-write",)


class OursThread(Ours):
    """Ours with every fsync on the I/O thread, a follower's too (`--flush thread`: the
    runtime before followers flushed in their event loop)."""

    name = "dscheck thread"
    options = ("--flush", "thread")


class OursUnbatched(Ours):
    """Ours with a ReadIndex round of its own for every get (`--no-read-batching`)."""

    name = "dscheck unbatched"
    options = ("--no-read-batching",)


class OursHeld(Ours):
    """Ours with every reply held behind the leader's own pending fsync
    (`--no-early-replies`: the runtime before replies left once their call was committed)."""

    name = "dscheck held"
    options = ("--no-early-replies",)


class OursLoop(Ours):
    """Ours with every fsync in the event loop's thread, the leader's too (`--flush loop`)."""

    name = "dscheck loop"
    options = ("--flush", "loop")


# ---------------------------------------------------------------------------- etcd
class HttpJson:
    """One keep-alive HTTP/1.1 connection posting JSON (etcd's v3 gateway)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = json.dumps(body).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: "
                          f"application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                          + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        else:  # chunked
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            payload = b"".join(c[:-2] for c in chunks)
        if status != 200:
            raise RuntimeError(f"etcd {path}: HTTP {status}: {payload[:200]!r}")
        return json.loads(payload)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Etcd:
    name = "etcd"
    durable = "fsync (WAL)"

    def __init__(self, directory: Path) -> None:
        ports = free_ports(6)
        self.clients = ports[:3]
        peers = ports[3:]
        initial = ",".join(f"m{i}=http://127.0.0.1:{p}" for i, p in enumerate(peers))
        self.procs = []
        for i in range(3):
            log = (directory / f"etcd{i}.log").open("wb")
            self.procs.append(subprocess.Popen(
                ["etcd", "--name", f"m{i}", "--data-dir", str(directory / f"m{i}"),
                 "--listen-client-urls", f"http://127.0.0.1:{self.clients[i]}",
                 "--advertise-client-urls", f"http://127.0.0.1:{self.clients[i]}",
                 "--listen-peer-urls", f"http://127.0.0.1:{peers[i]}",
                 "--initial-advertise-peer-urls", f"http://127.0.0.1:{peers[i]}",
                 "--initial-cluster", initial, "--initial-cluster-state", "new",
                 "--initial-cluster-token", "dscheck-bench", "--log-level", "warn"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL))
        self.leader_port = run_loop(self._leader())

    async def _leader(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for port in self.clients:
                http = HttpJson("127.0.0.1", port)
                try:
                    status = await asyncio.wait_for(http.post("/v3/maintenance/status", {}), 2)
                    if status.get("leader") and status["leader"] == status["header"]["member_id"]:
                        return port
                except (OSError, RuntimeError, TimeoutError, asyncio.IncompleteReadError,
                        ValueError):
                    pass
                finally:
                    http.close()
            await asyncio.sleep(0.1)
        raise RuntimeError("etcd: no leader")

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def row(self, kind: str, clients: int, seconds: float) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            conns = [HttpJson("127.0.0.1", self.leader_port) for _ in range(clients)]

            def caller(http: HttpJson) -> Call:
                async def call(kind: str, key: str, value: str | None) -> Any:
                    if kind == "put":
                        assert value is not None
                        return await http.post("/v3/kv/put", {"key": _b64(key),
                                                              "value": _b64(value)})
                    return await http.post("/v3/kv/range", {"key": _b64(key)})
                return call
            calls = [caller(c) for c in conns]
            try:
                for call in calls:
                    await call("put", "warm", VALUE)
                return await closed_loop(calls, kind, seconds)
            finally:
                for conn in conns:
                    conn.close()
        return run_loop(run())  # type: ignore[no-any-return]

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------- PySyncObj
class PySyncObj:
    name = "PySyncObj"
    durable = "mmap journal, no fsync"

    def __init__(self, directory: Path) -> None:
        ports = free_ports(3)
        names = [f"127.0.0.1:{p}" for p in ports]
        script = str(Path(__file__).with_name("pysyncobj_node.py"))
        self.procs = []
        for i, me in enumerate(names):
            data = directory / f"n{i}"
            data.mkdir()
            peers = ",".join(n for n in names if n != me)
            self.procs.append(subprocess.Popen(
                [sys.executable, script, me, peers, str(data)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=(directory / f"n{i}.log").open("wb"),
                text=True))
        for proc in self.procs:
            if "ready" not in json.loads(self._ask(proc, None) or "{}"):
                raise RuntimeError("PySyncObj: a replica did not start")
        self.driver = self.procs[0]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            leaders = [p for p in self.procs if json.loads(self._ask(p, "who"))["leader"]]
            if len(leaders) == 1:
                self.driver = leaders[0]
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("PySyncObj: no leader")
        self.row("put", 1, 0.5)  # warm up

    @staticmethod
    def _ask(proc: subprocess.Popen[str], request: str | None) -> str:
        assert proc.stdin is not None and proc.stdout is not None
        if request is not None:
            proc.stdin.write(request + "\n")
            proc.stdin.flush()
        return proc.stdout.readline()

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def row(self, kind: str, clients: int, seconds: float) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self._ask(self.driver,
                                                      f"{kind} {clients} {seconds}"))
        return result

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------- the run
def available(name: str) -> str | None:
    """Why `name` cannot run here, or None."""
    if name == "etcd" and shutil.which("etcd") is None:
        return "etcd is not installed (Debian/Ubuntu: apt-get install etcd-server)"
    if name == "pysyncobj":
        try:
            import pysyncobj  # noqa: F401
        except ImportError:
            return "PySyncObj is not installed (pip install pysyncobj)"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per row")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--systems", default="ours,ours-serial,etcd,pysyncobj")
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--rows", default=None,
                        help="only these rows, e.g. put1,get16 (default: all five)")
    args = parser.parse_args()
    rows = ROWS if args.rows is None else _rows(args.rows)
    kinds = {"ours": Ours, "ours-serial": OursSerial, "ours-thread": OursThread,
             "ours-loop": OursLoop, "ours-held": OursHeld, "ours-unbatched": OursUnbatched,
             "etcd": Etcd,
             "pysyncobj": PySyncObj}
    wanted = [s.strip() for s in args.systems.split(",")]
    console = Console(highlight=False, width=180)
    load_before = os.getloadavg()
    systems: list[Any] = []
    skipped: dict[str, str] = {}
    root = Path(tempfile.mkdtemp(prefix="kv-throughput-"))
    try:
        for name in wanted:
            why = available(name)
            if why is not None:
                skipped[name] = why
                console.print(f"skipping {name}: {why}")
                continue
            directory = root / name
            directory.mkdir()
            systems.append(kinds[name](directory))
        figures: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        for round_ in range(args.rounds):
            for kind, clients in rows:
                for system in systems:
                    cpu0 = [cpu_seconds(p) for p in system.pids()]
                    mine0 = time.process_time()
                    got = system.row(kind, clients, args.duration)
                    mine = time.process_time() - mine0
                    cpu1 = [cpu_seconds(p) for p in system.pids()]
                    done = len(got["latencies"])
                    figures.setdefault((system.name, kind, clients), []).append({
                        "per_second": done / got["seconds"],
                        **percentiles(got["latencies"]),
                        "cpu_per_1000": [round((b - a) / max(done, 1) * 1000, 3)
                                         for a, b in zip(cpu0, cpu1, strict=True)],
                        "client_cpu_per_1000": round(mine / max(done, 1) * 1000, 3),
                        **({"group_commit": got["group_commit"]} if "group_commit" in got
                           else {}),
                    })
                    console.print(f"round {round_ + 1}: {system.name} {kind} x{clients}: "
                                  f"{done / got['seconds']:,.0f}/s", style="dim")
    finally:
        for system in systems:
            with contextlib.suppress(Exception):
                system.close()
        shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()
    report(console, systems, figures, skipped, load_before, load_after, args)


def _rows(text: str) -> list[tuple[str, int]]:
    """`put1,get16` -> [("put", 1), ("get", 16)]: rows of ROWS only."""
    chosen = []
    for item in text.split(","):
        kind, clients = item.strip()[:3], item.strip()[3:]
        if not clients.isdigit() or (kind, int(clients)) not in ROWS:
            sys.exit(f"--rows: {item!r} is not one of "
                     + ",".join(f"{k}{c}" for k, c in ROWS))
        chosen.append((kind, int(clients)))
    return chosen


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs if key in r))


def report(console: Console, systems: list[Any], figures: dict[tuple[str, str, int], Any],
           skipped: dict[str, str], before: tuple[float, ...], after: tuple[float, ...],
           args: argparse.Namespace) -> None:
    table = Table(title=f"3 servers on loopback, 100-byte values, {args.duration:g} s a row, "
                        f"median of {args.rounds} interleaved rounds")
    for column in ("call", "clients", "system", "durability", "calls/s", "p50 ms", "p99 ms",
                   "ours ÷ etcd", "server CPU s / 1000 calls", "client CPU",
                   "issue's etcd"):
        table.add_column(column, justify="right" if column not in ("system", "durability")
                         else "left")
    rows_json = []
    for kind, clients in ROWS:
        if not any((system.name, kind, clients) in figures for system in systems):
            continue  # a row left out by --rows
        etcd = figures.get(("etcd", kind, clients))
        for system in systems:
            runs = figures[(system.name, kind, clients)]
            rate = _median(runs, "per_second")
            ratio = ""
            if system.name.startswith("dscheck") and etcd:
                ratio = f"{rate / _median(etcd, 'per_second'):.2f}"
            cpu = [round(statistics.median(r["cpu_per_1000"][i] for r in runs), 2)
                   for i in range(len(runs[0]["cpu_per_1000"]))]
            table.add_row(kind, str(clients), system.name, system.durable, f"{rate:,.0f}",
                          f"{_median(runs, 'p50_ms'):.2f}", f"{_median(runs, 'p99_ms'):.2f}",
                          ratio, " ".join(f"{c:.2f}" for c in cpu),
                          f"{_median(runs, 'client_cpu_per_1000'):.2f}",
                          ISSUE_ETCD.get((kind, clients), "") if system.name == "etcd" else "")
            rows_json.append({"call": kind, "clients": clients, "system": system.name,
                              "per_second": round(rate, 1),
                              "p50_ms": _median(runs, "p50_ms"),
                              "p99_ms": _median(runs, "p99_ms"),
                              "server_cpu_s_per_1000": cpu,
                              "client_cpu_s_per_1000": _median(runs, "client_cpu_per_1000"),
                              "runs": runs})
    console.print(table)
    console.print(f"load average before {before[0]:.2f}, after {after[0]:.2f} (2-core machine "
                  "shared with other jobs); ours: gets by ReadIndex, leader's write in "
                  "parallel with replication ('serial': after its fsync)")
    for name, why in skipped.items():
        console.print(f"skipped {name}: {why}")
    line = json.dumps({"bench": "kv_throughput", "duration": args.duration,
                       "rounds": args.rounds, "load_before": before[0], "load_after": after[0],
                       "skipped": skipped, "rows": rows_json})
    print(line)
    if args.json_path:
        Path(args.json_path).write_text(line + "\n")


if __name__ == "__main__":
    main()
