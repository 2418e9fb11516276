"""Benchmark: where the time of one put goes, step by step, across the clerk and the three
server processes (issue 15: the critical path of a put with one client).

Three `dscheck server` processes on loopback and one clerk in this process. A probe, put
into every process through a `sitecustomize` on PYTHONPATH (the servers are the ordinary
`python -m checker server`; nothing in impl/ knows of it), records CLOCK_MONOTONIC stamps —
the same clock in every process on Linux — at: a frame's bytes arriving on a connection
(`in`), a frame written to one (`out`), a flush handed to the I/O thread, the thread's
write and fsync. The clerk makes `--puts` puts one at a time, `--gap` ms apart (0: back to
back), and each put's window [clerk sends, clerk hears] is cut into the hops of its
critical path:

    clerk -> leader in -> AppendEntries out -> follower in -> its flush starts -> fsync
    -> its reply out -> leader in -> reply out -> clerk in

with the leader's own fsync beside it (parallel write). Printed: the median and p90 of each
hop in microseconds, how many replies left before the leader's own flush of their put was
done (early replies), fsyncs and bytes per put, and the CPU each process spent per put.
Usage: python bench/put_path.py [--puts N] [--gap MS] [--options "--no-parallel-write"]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_EVENTS: list[tuple[int, str, Any]] = []


def install_probe(out: str) -> None:
    """Wrap the few runtime functions on a put's path to record (stamp, what, detail)."""
    from impl.net import links, server
    from impl.storage import disk, raftstate

    now = time.monotonic_ns
    events = _EVENTS
    received = links.Framed.data_received
    sent = links.Framed.send
    fsync = disk.OsDisk.fsync
    append = disk.OsDisk.append
    flush = raftstate.RaftStorage.flush
    start_flusher = server.NetServer._start_flusher
    flush_here = server.NetServer._flush_here

    def data_received(self: Any, data: bytes) -> None:
        events.append((now(), "in", _role(self.state)))
        received(self, data)

    def send(self: Any, payload: Any) -> None:
        events.append((now(), "out", _role(self.state)))
        sent(self, payload)

    def do_fsync(self: Any, name: str) -> None:
        events.append((now(), "fsync<", None))
        fsync(self, name)
        events.append((now(), "fsync>", None))

    def do_append(self: Any, name: str, data: bytes) -> None:
        events.append((now(), "write", len(data)))
        append(self, name, data)

    def do_flush(self: Any) -> int:
        events.append((now(), "flush<", None))
        done: int = flush(self)
        events.append((now(), "flush>", None))
        return done

    def do_start_flusher(self: Any) -> None:
        events.append((now(), "stage", None))
        start_flusher(self)

    def do_flush_here(self: Any) -> None:
        events.append((now(), "inline", None))
        flush_here(self)

    server.NetServer._flush_here = do_flush_here  # type: ignore[method-assign]
    links.Framed.data_received = data_received  # type: ignore[method-assign]
    links.Framed.send = send  # type: ignore[method-assign]
    disk.OsDisk.fsync = do_fsync  # type: ignore[method-assign]
    disk.OsDisk.append = do_append  # type: ignore[method-assign]
    raftstate.RaftStorage.flush = do_flush  # type: ignore[method-assign]
    server.NetServer._start_flusher = do_start_flusher  # type: ignore[method-assign]

    def dump() -> None:
        cpu = time.process_time()
        with open(f"{out}-{os.getpid()}.json", "w", encoding="utf-8") as file:
            json.dump({"pid": os.getpid(), "argv": sys.argv, "cpu": cpu, "events": events},
                      file)
    def dump_if_wanted() -> None:
        if os.path.isdir(os.path.dirname(out)):  # the harness may have cleaned up already
            dump()
    atexit.register(dump_if_wanted)


def _role(state: Any) -> Any:
    # A server's accepted connection: the peer's id (int) or a client token (str); an
    # outbound one (a peer link, the clerk's): None.
    return state if isinstance(state, int | str) else None


SITE = """\
import os, sys
if os.environ.get("DSCHECK_PROBE"):
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {bench!r})
    import put_path
    put_path.install_probe(os.environ["DSCHECK_PROBE"])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--puts", type=int, default=2000)
    parser.add_argument("--gap", type=float, default=0.0, help="ms between puts")
    parser.add_argument("--options", default="", help="more `dscheck server` options")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="put-path-"))
    site = work / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITE.format(root=str(ROOT),
                                                       bench=str(ROOT / "bench")))
    os.environ["PYTHONPATH"] = f"{site}:{os.environ.get('PYTHONPATH', '')}"
    os.environ["DSCHECK_PROBE"] = str(work / "probe")
    sys.path.insert(0, str(ROOT))
    install_probe(str(work / "probe"))
    from impl.net.clerk import NetClerk
    from impl.net.local import LocalCluster, wait_for_leader
    from impl.net.server import run_loop

    cluster = LocalCluster.create(work / "c", 3, options=args.options.split())
    cluster.start_all()
    load = os.getloadavg()[0]
    try:
        if run_loop(wait_for_leader(cluster.addresses, 30, cluster)) is None:
            raise RuntimeError("no leader")

        async def run() -> list[tuple[int, int]]:
            clerk = NetClerk(cluster.addresses)
            for _ in range(50):  # connect, find the leader, warm up
                await clerk.call("put", "warm", "v" * 100)
            windows = []
            for n in range(args.puts):
                began = time.monotonic_ns()
                await clerk.call("put", f"k{n % 100}", "v" * 100)
                windows.append((began, time.monotonic_ns()))
                if args.gap:
                    await asyncio.sleep(args.gap / 1000)
            clerk.close()
            return windows
        windows = run_loop(run())
    finally:
        cluster.stop_all()
    load_after = os.getloadavg()[0]
    dumps = [json.loads(p.read_text()) for p in work.glob("probe-*.json")]
    shutil.rmtree(work, ignore_errors=True)
    report(windows, [d for d in dumps if "server" in d["argv"]], load, load_after, args)


def _first(events: list[Any], begin: int, end: int, what: str, role: Any = "any") -> int | None:
    for stamp, kind, detail in events:
        if begin <= stamp <= end and kind == what and (role == "any" or detail == role
                                                       or (role == "str"
                                                           and isinstance(detail, str))):
            return int(stamp)
    return None


def report(windows: list[tuple[int, int]], servers: list[dict[str, Any]], load: float,
           load_after: float, args: argparse.Namespace) -> None:
    def node(d: dict[str, Any]) -> int:
        return int(d["argv"][d["argv"].index("--id") + 1])
    for d in servers:
        d["events"].sort(key=lambda e: e[0])
    by_id = {node(d): d for d in servers}
    hops: dict[str, list[float]] = {}
    fsyncs = {i: 0 for i in by_id}
    written = {i: 0 for i in by_id}
    inline = {i: 0 for i in by_id}
    counted = 0
    early = 0  # replies that left before the leader's own flush of the put was done
    bounds = [b for b, _ in windows[1:]] + [windows[-1][1] + 10**9]
    for (begin, end), after in zip(windows, bounds, strict=True):
        leader = next((i for i, d in by_id.items()
                       if _first(d["events"], begin, end, "in", "str") is not None), None)
        if leader is None:
            continue
        lev = by_id[leader]["events"]
        t_in = _first(lev, begin, end, "in", "str")
        assert t_in is not None
        t_ae = _first(lev, t_in, end, "out", None)
        t_reply = _first(lev, t_in, end, "out", "str")
        if t_ae is None or t_reply is None:
            continue
        # The follower whose answer the leader heard first.
        t_back = _first(lev, t_ae, t_reply, "in", "any")
        found = [(i, _first(d["events"], t_ae, end, "out", None)) for i, d in by_id.items()
                 if i != leader]
        found = [(i, t) for i, t in found if t is not None]
        if t_back is None or not found:
            continue
        follower, f_out = min(((i, t) for i, t in found if t is not None), key=lambda x: x[1])
        fev = by_id[follower]["events"]
        f_in = _first(fev, t_ae, end, "in", leader)
        f_stage = _first(fev, t_ae, end, "stage")
        f_flush = _first(fev, t_ae, end, "flush<")
        f_fs0 = _first(fev, t_ae, end, "fsync<")
        f_fs1 = _first(fev, t_ae, end, "fsync>")
        f_done = _first(fev, t_ae, end, "flush>")
        # The leader's own flush of this put: the first to start after the put was staged
        # (one flusher: an earlier flush still running started before); it may end after
        # the reply left (early replies), so look up to the next put's start.
        l_stage = _first(lev, t_in, after, "stage")
        l_flush = l_stage and _first(lev, l_stage, after, "flush<")
        l_fs0 = l_flush and _first(lev, l_flush, after, "fsync<")
        l_fs1 = l_fs0 and _first(lev, l_fs0, after, "fsync>")
        l_done = l_fs1 and _first(lev, l_fs1, after, "flush>")
        stamps = [f_in, f_stage, f_flush, f_fs0, f_fs1, f_done, l_flush, l_fs0, l_fs1, l_done]
        if any(s is None for s in stamps):
            continue
        assert f_in and f_stage and f_flush and f_fs0 and f_fs1 and f_done and l_fs0 and l_fs1
        assert l_flush and l_done
        counted += 1
        early += l_done > t_reply
        steps = [
            ("clerk send -> leader receives", t_in - begin),
            ("leader: receive -> AppendEntries out (decode, step, stage)", t_ae - t_in),
            ("AppendEntries out -> follower receives", f_in - t_ae),
            ("follower: receive -> staged, flusher started (decode, step)", f_stage - f_in),
            ("follower: flusher started -> flush begins (thread hand-off?)", f_flush - f_stage),
            ("follower: write", f_fs0 - f_flush),
            ("follower: fsync", f_fs1 - f_fs0),
            ("follower: flush done -> reply out (thread -> loop?)", f_out - f_done),
            ("follower reply out -> leader receives", t_back - f_out),
            ("leader: receive -> reply to clerk out (commit, apply)", t_reply - t_back),
            ("leader reply out -> clerk receives (end)", end - t_reply),
            ("(leader: receive -> its own flush starts)", l_flush - t_in),
            ("(leader's own fsync, beside)", l_fs1 - l_fs0),
            ("(leader: receive -> its own flush done)", l_done - t_in),
            ("total", end - begin)]
        for name, ns in steps:
            hops.setdefault(name, []).append(ns / 1000)
        for i, d in by_id.items():
            for stamp, kind, detail in d["events"]:
                if begin <= stamp <= end:
                    fsyncs[i] += kind == "fsync<"
                    inline[i] += kind == "inline"
                    written[i] += detail if kind == "write" else 0
    print(f"{len(windows)} puts, one clerk, gap {args.gap:g} ms, options "
          f"{args.options or '(defaults)'}; {counted} with every stamp found; load average "
          f"{load:.2f} before, {load_after:.2f} after")
    print(f"{'hop':62} {'p50 us':>8} {'p90 us':>8} {'p99 us':>8} {'mean us':>8}")
    for name, values in hops.items():
        values.sort()
        print(f"{name:62} {statistics.median(values):8.0f} "
              f"{values[int(len(values) * 0.9)]:8.0f} {values[int(len(values) * 0.99)]:8.0f} "
              f"{statistics.fmean(values):8.0f}")
    print(f"replies that left before the leader's own flush of their put was done: {early} "
          f"of {counted}")
    every = sorted((end - begin) / 1000 for begin, end in windows)
    print(f"every put (all {len(windows)}): p50 {statistics.median(every):.0f} us, p99 "
          f"{every[int(len(every) * 0.99)]:.0f} us, mean {statistics.fmean(every):.0f} us")
    for i, d in sorted(by_id.items()):
        print(f"server {i}: {fsyncs[i] / max(counted, 1):.2f} fsyncs and "
              f"{written[i] / max(counted, 1):.0f} bytes written per put (inside windows), "
              f"{inline[i] / max(counted, 1):.2f} flushes in the event loop; "
              f"CPU {d['cpu'] / max(len(windows), 1) * 1e6:.0f} us per put (whole life)")


if __name__ == "__main__":
    main()
