"""Benchmark: the CPU a follower spends on one put's AppendEntries, in this process, against
the length of its log (issue 15: the critical path of a put with one client).

One key/value core as follower 1 of 3, its real storage in a temporary directory, is fed
AppendEntries of one 100-byte put each, as frame bodies: unpack, decode, step, stage, the
reply encoded, the state reported durable (`persisted`) — everything but the socket and the
disk's write and fsync. First the log is grown to `--log` entries (no snapshot), then
`--steps` steps are timed in chunks of 250; printed: the fastest and the median chunk's time
per step, for staging with the core's cut count (`RaftStorage.stage`'s `cuts`, as the
server does) and without it (the whole log compared), interleaved.
Usage: python bench/follower_step.py [--log N] [--steps S] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from impl.kv.machine import Op
from impl.net.service import KVService
from impl.net.wire import LENGTH, frame, read_numbered, unpack
from impl.raft.core import RaftConfig
from impl.raft.messages import AppendEntries, Entry
from impl.storage import OsDisk, RaftStorage

CHUNK = 250


def body(index: int) -> bytes:
    entry = Entry(index=index, term=1, command=Op("put", f"k{index % 100}", "v" * 100, 7,
                                                  index))
    message = AppendEntries(term=1, leader=0, prev_index=index - 1,
                            prev_term=1 if index > 1 else 0, entries=(entry,),
                            leader_commit=index - 1, read_round=0)
    return frame([index, message.wire()])[LENGTH.size:]


def per_step(log: int, steps: int, with_count: bool) -> list[float]:
    """Microseconds per step of each chunk of `steps` timed steps after a log of `log`."""
    service = KVService()
    storage = RaftStorage(OsDisk(Path(tempfile.mkdtemp(prefix="follower-step-"))),
                          service.decode_command)
    recovered = storage.recover()
    config = RaftConfig(strict_flow_control=True, batch_reads=True, parallel_write=True)
    core = service.build(1, range(3), storage, 1 << 40, config, True, recovered.state,
                         recovered.snapshot)
    core.boot()
    decoder = service.decoder()

    def step(data: bytes) -> None:
        msg_id, wire = read_numbered(unpack(data))
        effects = core.step(0, decoder.decode(wire))
        assert effects.persist is not None
        if with_count:
            storage.stage(effects.persist, core.raft.log_cuts)
        else:
            storage.stage(effects.persist)
        storage._ops.clear()  # what a flush takes; the disk is not what is measured here
        for send in effects.messages:
            frame([msg_id, send.message.wire()])
        core.persisted(effects.persist.state)

    for index in range(1, log + 1):
        step(body(index))
    bodies = [body(index) for index in range(log + 1, log + 1 + steps)]
    chunks = []
    for first in range(0, steps, CHUNK):
        began = time.perf_counter()
        for data in bodies[first:first + CHUNK]:
            step(data)
        chunks.append((time.perf_counter() - began) / CHUNK * 1e6)
    return chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", type=int, default=7000, help="entries in the log first")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    found: dict[bool, list[float]] = {True: [], False: []}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for with_count in (True, False):
            found[with_count] += per_step(args.log, args.steps, with_count)
    print(f"log of {args.log} entries, {args.rounds} x {args.steps} steps each way; load "
          f"average {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    for with_count, chunks in found.items():
        name = "with the cut count" if with_count else "comparing the log"
        print(f"{name:20} fastest {min(chunks):6.1f} us, median "
              f"{statistics.median(chunks):6.1f} us per step")


if __name__ == "__main__":
    main()
