"""Large realistic histories with known verdicts, for benchmarks and tests.

    python -m checker.linearizability.generate --ops 100000 --clients 100 --out h.jsonl
    python -m checker.linearizability.generate --anomaly stale-read --format edn --out bad.edn

A Jepsen-style run of a linearizable key/value store, simulated: each client calls get, put
or append on a few keys, one call at a time; each call takes effect at a random instant
inside its span (so the history is linearizable by construction); now and then a client
crashes mid-call (`:info`): its call took effect or not, at random, and the client is
replaced by a new process, as Jepsen does. Values are unique tokens ("<p3.17>"), so what a
get returns shows exactly which writes it saw.

`--anomaly stale-read` then changes one get to return the value its key had before a write
that returned before the get was called. It is chosen so that no order can explain it: the
writes behind the stale value all returned before that write was called, so in every
linearization the write comes after them and before the get, and the get cannot see the
stale value again (the tokens are unique). The verdict is then VIOLATION, and the generator
says which get it changed.

Same seed, same history.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from checker.linearizability.history import Operation


@dataclass
class _Call:
    process: int
    f: str
    key: str
    value: str | None
    call: int
    ret: int
    point: float
    crashed: bool
    happened: bool = True
    output: str | None = None
    # For a get: the writes behind the value it read (applied, in order), for the anomaly.
    seen: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class Generated:
    operations: list[Operation]
    anomaly: str  # "" when the history is linearizable by construction


def generate(
    ops: int = 10_000,
    clients: int = 10,
    keys: int = 10,
    crash_rate: float = 0.02,
    anomaly: str | None = None,
    seed: int = 1,
) -> Generated:
    """A history of `ops` calls by `clients` concurrent clients over `keys` keys."""
    rng = random.Random(seed)
    calls: list[_Call] = []
    clock = [rng.randrange(1000) for _ in range(clients)]
    process = list(range(clients))
    next_token = 0
    for n in range(ops):
        c = min(range(clients), key=clock.__getitem__) if n % 8 else rng.randrange(clients)
        start = clock[c] + rng.randrange(1, 200)
        latency = int(rng.expovariate(1 / 400)) + 1
        f = rng.choices(("get", "put", "append"), weights=(5, 1, 4))[0]
        value = None
        if f != "get":
            next_token += 1
            value = f"<{'p' if f == 'put' else 'a'}{process[c]}.{next_token}>"
        crashed = rng.random() < crash_rate
        calls.append(_Call(process[c], f, f"k{rng.randrange(keys)}", value, start,
                           start + latency, start + rng.random() * latency, crashed))
        clock[c] = start + latency
        if crashed:
            process[c] += clients  # Jepsen retires a crashed process for a new one
    # Apply every call at its instant; a crashed call took effect or not, at random.
    state: dict[str, str] = {}
    writers: dict[str, tuple[int, ...]] = {}
    for i in sorted(range(len(calls)), key=lambda i: calls[i].point):
        call = calls[i]
        if call.crashed:
            call.happened = rng.random() < 0.5
            if not call.happened or call.f == "get":
                continue
        if call.f == "get":
            call.output = state.get(call.key, "")
            call.seen = writers.get(call.key, ())
        elif call.f == "put":
            state[call.key] = call.value or ""
            writers[call.key] = (i,)
        else:
            state[call.key] = state.get(call.key, "") + (call.value or "")
            writers[call.key] = (*writers.get(call.key, ()), i)
    note = ""
    if anomaly == "stale-read":
        note = _stale_read(calls, rng)
    elif anomaly is not None:
        raise ValueError(f"unknown anomaly {anomaly!r} (expected stale-read)")
    return Generated(_operations(calls), note)


def _stale_read(calls: list[_Call], rng: random.Random) -> str:
    """Change one get to a value its key held before a write that returned before the get was
    called, such that every write behind that value returned before the write was called."""
    by_key: dict[str, list[int]] = {}
    for i, c in enumerate(calls):
        if c.f != "get" and not c.crashed:
            by_key.setdefault(c.key, []).append(i)
    gets = [i for i, c in enumerate(calls) if c.f == "get" and not c.crashed and c.seen]
    rng.shuffle(gets)
    for g in gets:
        get = calls[g]
        seen = get.seen
        # The last write the get saw; the value before it, and who wrote that.
        w = seen[-1]
        before = seen[:-1]
        if not before or calls[w].ret >= get.call:
            continue
        if calls[w].f == "put" or calls[w].crashed:
            continue
        if not all(calls[b].ret < calls[w].call for b in before):
            continue
        if any(calls[b].crashed for b in before):
            continue
        stale = "".join(calls[b].value or "" for b in before)
        get.output = stale
        return (f"get by process {get.process} of {get.key} at {get.call} returns {stale!r}, "
                f"the value before the append of {calls[w].value} that returned at "
                f"{calls[w].ret}")
    raise ValueError("no get fits a stale read; try another seed or more operations")


def generate_log(
    appends: int = 200,
    clients: int = 20,
    crash_rate: float = 0.3,
    anomaly: str | None = None,
    seed: int = 1,
) -> Generated:
    """A replicated log's history as its clients saw it (model `log`): each append returns
    the index it landed at; crashed appends (many: `crash_rate`) never return, and took
    effect or not. Hard for a plain search: it tries the unknown appends in every
    combination. Anomalies: "duplicate-index" (two completed appends return one index, as
    in the shared hard/ history) and "swapped" (an append that returned before another was
    called gets the later index: real time forbids it, and no cheap proof sees it)."""
    rng = random.Random(seed)
    clock = [rng.randrange(50) for _ in range(clients)]
    spans: list[_Append] = []
    for _ in range(appends):
        c = rng.randrange(clients)
        start = clock[c] + rng.randrange(1, 30)
        end = start + rng.randrange(1, 200)
        clock[c] = end
        crashed = rng.random() < crash_rate
        spans.append(_Append(start, end, start + rng.random() * (end - start), crashed,
                             not crashed or rng.random() < 0.5))
    index = 0
    for span in sorted(spans, key=lambda s: s.point):
        if span.happened:
            index += 1
            span.index = index
    done = [s for s in spans if not s.crashed]
    note = ""
    if anomaly == "duplicate-index":
        a, b = rng.sample(done, 2)
        b.index = a.index
        note = f"two appends return index {a.index}"
    elif anomaly == "swapped":
        pairs = [(a, b) for a in done for b in done if a.ret < b.call and a.index < b.index]
        a, b = pairs[rng.randrange(len(pairs))]
        a.index, b.index = b.index, a.index
        note = f"the append that returned at {a.ret} gets the later index {a.index}"
    elif anomaly is not None:
        raise ValueError(f"unknown anomaly {anomaly!r} (expected duplicate-index or swapped)")
    ops = []
    for i, span in enumerate(sorted(spans, key=lambda s: (s.call, s.ret))):
        ops.append(Operation(client=i, input=("append", None, i),
                             output=None if span.crashed else span.index, call=span.call,
                             ret=None if span.crashed else span.ret,
                             output_known=not span.crashed, index=i))
    return Generated(ops, note)


@dataclass
class _Append:
    call: int
    ret: int
    point: float
    crashed: bool
    happened: bool
    index: int = 0


def _operations(calls: list[_Call]) -> list[Operation]:
    ops = []
    for i, c in enumerate(sorted(calls, key=lambda c: c.call)):
        ops.append(Operation(
            client=c.process,
            input=(c.f, c.key, c.value),
            output=c.output,
            call=c.call,
            ret=None if c.crashed else c.ret,
            output_known=not c.crashed,
            index=i,
        ))
    return ops


def events(ops: list[Operation]) -> Iterator[tuple[int, str, Operation]]:
    """(time, type, operation) for every invoke and completion, in time order (a crashed
    call's :info comes some time after its invoke)."""
    out = []
    for op in ops:
        out.append((int(op.call), 0, "invoke", op))
        if op.ret is None:
            out.append((int(op.call) + 1000, 1, "info", op))
        else:
            out.append((int(op.ret), 1, "ok", op))
    out.sort(key=lambda e: (e[0], e[1]))
    for time, _order, kind, op in out:
        yield time, kind, op


def write_jsonl(ops: list[Operation], stream: IO[str]) -> None:
    stream.write(json.dumps({"format": "dscheck-history", "version": 1, "model": "kv"}) + "\n")
    for time, kind, op in events(ops):
        f, key, value = op.input
        event: dict[str, object] = {"type": kind, "client": op.client, "time": time}
        if kind == "invoke":
            event.update(f=f, key=key)
            if value is not None:
                event["value"] = value
        elif kind == "ok" and f == "get":
            event["value"] = op.output
        stream.write(json.dumps(event) + "\n")


def write_edn(ops: list[Operation], stream: IO[str]) -> None:
    """Porcupine's and Jepsen's key/value EDN, one map per line."""
    for index, (time, kind, op) in enumerate(events(ops)):
        f, key, value = op.input
        shown = value if kind == "invoke" or f != "get" else op.output
        edn_value = "nil" if shown is None else json.dumps(shown)
        stream.write(f"{{:index {index}, :time {time}, :process {op.client}, :type :{kind}, "
                     f":f :{f}, :key {json.dumps(key)}, :value {edn_value}}}\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--crash-rate", type=float, default=0.02)
    parser.add_argument("--anomaly", choices=["stale-read"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=["jsonl", "edn"], default="jsonl")
    parser.add_argument("--out", default="-")
    args = parser.parse_args(argv)
    made = generate(args.ops, args.clients, args.keys, args.crash_rate, args.anomaly, args.seed)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        (write_jsonl if args.format == "jsonl" else write_edn)(made.operations, out)
    finally:
        if out is not sys.stdout:
            out.close()
    if made.anomaly:
        print(f"anomaly: {made.anomaly}", file=sys.stderr)


if __name__ == "__main__":
    main()
