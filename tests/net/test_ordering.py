"""The effects' ordering contract as the network driver keeps it under group commit: nothing
leaves a server before the state it depends on is durable (impl/raft/effects.py: persist
before send). Three servers run in this process, on loopback, with their real storage; every
output is checked at the moment it leaves (NetServer._release) against what that server's
storage has reported durable by then:

* an AppendEntries carries only entries the leader's durable log holds;
* a successful AppendEntries reply claims only a match the follower's durable log holds;
* a granted vote is durable (term and vote), and so is a candidate's own vote for itself.

No timing is involved: the check is on the order of events, and fsyncs are slowed down only
to make many requests share one (group commit must not weaken the contract).
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from impl.net import server as server_module
from impl.net.clerk import NetClerk
from impl.net.cluster import Address
from impl.net.local import free_ports
from impl.net.server import NetServer, ServerSettings, run_loop
from impl.net.wire import LENGTH, RAFT_MESSAGES, Decoder, decode_op, frame, unpack
from impl.raft.effects import HardState, Persist
from impl.raft.messages import AppendEntries, AppendEntriesReply, RequestVote, RequestVoteReply
from impl.storage import RaftStorage

EMPTY = HardState(term=0, voted_for=None, snapshot_index=0, snapshot_term=0, log=())


class RecordingStorage(RaftStorage):
    """The real storage, remembering the state each sequence number stands for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.states: dict[int, HardState] = {0: EMPTY}

    def stage(self, persist: Persist) -> int:
        seq = super().stage(persist)
        self.states[seq] = persist.state
        return seq

    def flush(self) -> int:
        time.sleep(0.005)  # a slow disk: more steps gather behind each fsync
        return super().flush()


class EagerStorage(RecordingStorage):
    """A broken twin: it tells the driver every staged state is already durable, so the
    driver lets outputs go at once. The check must catch it."""

    def stage(self, persist: Persist) -> int:
        super().stage(persist)
        return self.durable


def holds(state: HardState, index: int, term: int | None = None) -> bool:
    """Does the durable `state` hold entry `index` (of `term`, when given)?"""
    if index <= state.snapshot_index:
        return True
    position = index - state.snapshot_index - 1
    if position >= len(state.log):
        return False
    return term is None or state.log[position].term == term


@pytest.mark.parametrize("broken_twin", [False, True], ids=["driver", "eager-twin"])
def test_nothing_leaves_before_what_it_depends_on_is_durable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken_twin: bool) -> None:
    monkeypatch.setattr(server_module, "RaftStorage",
                        EagerStorage if broken_twin else RecordingStorage)
    checked: dict[str, int] = {"entries": 0, "matches": 0, "votes": 0, "requests": 0}
    broken: list[str] = []
    original = NetServer._release

    def release(self: NetServer, out: list[tuple[Any, Any]]) -> None:
        storage = self.storage
        assert isinstance(storage, RecordingStorage)
        durable = storage.states.get(self._durable)
        if durable is None:  # recovered, nothing staged yet: the empty start of a first boot
            durable = EMPTY
        for to, (_msg_id, wire) in out:
            if not isinstance(to, int):
                continue
            message = _decode(wire)
            if isinstance(message, AppendEntries):
                for entry in message.entries:
                    checked["entries"] += 1
                    if not holds(durable, entry.index, entry.term):
                        broken.append(f"s{self.id} sent entry {entry.index} before it was durable")
            elif isinstance(message, AppendEntriesReply) and message.success:
                checked["matches"] += 1
                if not holds(durable, message.match_index):
                    broken.append(f"s{self.id} acknowledged {message.match_index} before "
                                  "it was durable")
            elif isinstance(message, RequestVoteReply) and message.granted:
                checked["votes"] += 1
                if (durable.term, durable.voted_for) != (message.term, to):
                    broken.append(f"s{self.id} granted a vote it had not made durable")
            elif isinstance(message, RequestVote):
                checked["requests"] += 1
                if (durable.term, durable.voted_for) != (message.term, self.id):
                    broken.append(f"s{self.id} asked for votes before its own was durable")
        original(self, out)

    monkeypatch.setattr(NetServer, "_release", release)
    cluster = tuple(Address("127.0.0.1", port) for port in free_ports(3))

    async def scenario() -> None:
        servers = [NetServer(ServerSettings(node=n, cluster=cluster, directory=tmp_path / f"s{n}",
                                            maxraftstate=4096, seed=n), log=lambda _t: None)
                   for n in range(3)]
        tasks = [asyncio.create_task(s.run()) for s in servers]
        clerks = [NetClerk(cluster) for _ in range(8)]
        try:
            async def client(number: int, clerk: NetClerk) -> None:
                for n in range(25):
                    await clerk.call("append", f"k{number % 3}", f"[{number}.{n}]")
            await asyncio.wait_for(asyncio.gather(*(client(i, c) for i, c in
                                                    enumerate(clerks))), 120)
        finally:
            for clerk in clerks:
                clerk.close()
            for s in servers:
                s.stop()
            await asyncio.gather(*tasks)

    handler = signal.getsignal(signal.SIGTERM)
    run_loop(scenario())
    # Servers run in this process leave its SIGTERM as they found it: a handler left behind
    # made every process later forked from here (pools of workers) ignore terminate().
    assert signal.getsignal(signal.SIGTERM) == handler
    if broken_twin:
        assert broken, "the check missed outputs sent before their state was durable"
        return
    assert broken == [], broken[:5]
    # Not vacuous: each kind of output was seen, and many entries.
    assert checked["entries"] >= 200 and checked["matches"] > 0, checked
    assert checked["votes"] > 0 and checked["requests"] > 0, checked


_RAFT = Decoder(RAFT_MESSAGES, decode_op)


def _decode(wire: Any) -> Any:
    """The Raft message a wire list stands for, as the receiver decodes it (through msgpack)."""
    return _RAFT.decode(unpack(frame(wire)[LENGTH.size:]))
