"""A load generator for a running key/value cluster: N clerks calling concurrently for a
bounded time, every call recorded as a history (traces/HISTORY.md, model `kv`) that
`dscheck lin` audits, and the calls' latencies summarised.

Each clerk is a `NetClerk` with its own random id, so the servers' duplicate tables keep
every call exactly-once across retries. A clerk makes one call at a time and starts the next
as soon as the last returned (a closed loop, as etcd's benchmark tool does). Appended values
are unique (`[<clerk>.<n>]`, bracketed so that no tag is part of another), which is what makes an append history cheap to audit: each read
shows which appends it saw and in what order.

When the time is up, calls still in flight are abandoned: they stay invoked without a
return in the history — an unknown outcome (they may yet take effect), exactly as the
history format's semantics read them — and never count as done.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from impl.net.clerk import NetClerk
from impl.net.cluster import Address, Sharded

KINDS = ("put", "append", "get")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSettings:
    clients: int = 8
    duration: float = 10.0  # seconds of calls
    keys: int = 10
    value_size: int = 100  # bytes of a put's value (an append's is its short unique tag)
    mix: tuple[tuple[str, float], ...] = (("put", 1.0), ("append", 1.0), ("get", 2.0))
    seed: int | None = None  # the choice of keys and kinds (None: from the OS)


@dataclass(slots=True)
class LoadResult:
    seconds: float  # from the first call to the end of the run
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    abandoned: int = 0  # calls in flight when the time was up (outcome unknown)

    @property
    def done(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def summary(self) -> dict[str, Any]:
        """Throughput and latency percentiles (ms), overall and per kind of call."""
        out: dict[str, Any] = {"seconds": round(self.seconds, 3), "calls": self.done,
                               "per_second": round(self.done / self.seconds, 1)
                               if self.seconds > 0 else 0.0,
                               "abandoned": self.abandoned}
        every = [x for v in self.latencies.values() for x in v]
        out["all"] = percentiles(every)
        for kind, values in self.latencies.items():
            if values:
                out[kind] = {"calls": len(values),
                             "per_second": round(len(values) / self.seconds, 1),
                             **percentiles(values)}
        return out


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max of latencies in seconds, in milliseconds (nearest rank)."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        index = min(len(ordered) - 1, max(0, int(p * len(ordered) + 0.5) - 1))
        return round(ordered[index] * 1000, 3)
    return {"p50_ms": rank(0.50), "p90_ms": rank(0.90), "p99_ms": rank(0.99),
            "max_ms": round(ordered[-1] * 1000, 3)}


class HistoryWriter:
    """Our history JSON Lines: a header, then each client's invokes and returns as they
    happen, times in nanoseconds of the monotonic clock."""

    def __init__(self, stream: IO[str] | None) -> None:
        self._stream = stream
        if stream is not None:
            stream.write(json.dumps({"format": "dscheck-history", "version": 1,
                                     "model": "kv"}) + "\n")

    def invoke(self, client: int, kind: str, key: str, value: str | None, at: int) -> None:
        if self._stream is not None:
            event: dict[str, Any] = {"type": "invoke", "client": client, "time": at,
                                     "f": kind, "key": key}
            if value is not None:
                event["value"] = value
            self._stream.write(json.dumps(event) + "\n")

    def ok(self, client: int, output: str | None, at: int) -> None:
        if self._stream is not None:
            event: dict[str, Any] = {"type": "ok", "client": client, "time": at}
            if output is not None:
                event["value"] = output
            self._stream.write(json.dumps(event) + "\n")


def key_names(count: int, sharded: bool) -> list[str]:
    """The load's keys: k0, k1, ...; for a sharded cluster 0k0, 1k0, ..., 9k0, 0k1, ...,
    whose first characters spread them over the shards (the lab's key2shard reads the
    first byte only)."""
    if sharded:
        return [f"{n % 10}k{n // 10}" for n in range(count)]
    return [f"k{n}" for n in range(count)]


Progress = Callable[[float, LoadResult], None]


async def run_load(cluster: tuple[Address, ...] | Sharded, settings: LoadSettings,
                   history: IO[str] | None = None, progress: Progress | None = None,
                   progress_every: float = 1.0) -> LoadResult:
    """Run the load (on a key/value or a sharded cluster); the history goes to `history` as
    it happens."""
    rng = random.Random(settings.seed)
    writer = HistoryWriter(history)
    kinds = [k for k, _ in settings.mix]
    weights = [w for _, w in settings.mix]
    filler = "v" * settings.value_size
    names = key_names(settings.keys, isinstance(cluster, Sharded))
    result = LoadResult(seconds=0.0)
    clerks = [NetClerk(cluster) for _ in range(settings.clients)]
    began = time.monotonic()
    deadline = began + settings.duration

    async def client(number: int, clerk: NetClerk) -> None:
        count = 0
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            key = names[rng.randrange(settings.keys)]
            count += 1
            value = (None if kind == "get" else f"[{number}.{count}]" if kind == "append"
                     else f"{number}.{count}:" + filler[:max(0, settings.value_size
                                                             - len(f"{number}.{count}:"))])
            start = time.monotonic_ns()
            writer.invoke(number, kind, key, value, start)
            output = await clerk.call(kind, key, value)
            end = time.monotonic_ns()
            writer.ok(number, output, end)
            result.latencies[kind].append((end - start) / 1e9)

    async def report() -> None:
        while True:
            await asyncio.sleep(progress_every)
            if progress is not None:
                result.seconds = time.monotonic() - began
                progress(result.seconds, result)

    tasks = [asyncio.create_task(client(n, c)) for n, c in enumerate(clerks)]
    reporter = asyncio.create_task(report())
    try:
        _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
        # Each clerk checks the clock only between calls: one still waiting is abandoned.
        for task in pending:
            task.cancel()
        result.abandoned = len(pending)
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        reporter.cancel()
        for clerk in clerks:
            clerk.close()
    result.seconds = time.monotonic() - began
    return result
