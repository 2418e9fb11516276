"""The effects' ordering contract as the network driver keeps it under group commit: nothing
leaves a server before the state it depends on is durable (impl/raft/effects.py: persist
before send), with parallel write's one exception. Three servers run in this process, on
loopback, with their real storage; every output is checked at the moment it leaves
(NetServer._release) against what the storage of every server has reported durable by then:

* an AppendEntries carries only entries the leader's durable log holds — except, with
  parallel write on (the default), a leader's AppendEntries may carry entries its disk does
  not hold yet, provided its term and its vote for itself are durable (and such sends must
  actually happen: the relaxation is exercised, not vacuous);
* a successful AppendEntries reply claims only a match the follower's durable log holds;
* a granted vote is durable (term and vote), and so is a candidate's own vote for itself;
* the commit index a leader announces (AppendEntries' leader_commit) is an entry of the
  leader's log that a majority of the servers' *durable* logs hold: a leader never counts
  its own entries before its disk has them;
* a reply to a clerk leaves only when everything its server has applied is on a majority of
  durable logs — under parallel write possibly before the server's own disk has it (early
  replies: such replies must actually happen with disks of uneven speed), and a twin whose
  leader counts its own non-durable entries is caught replying too early.

No timing is involved: the check is on the order of events, and fsyncs are slowed down only
to make many requests share one (group commit must not weaken the contract).
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from impl.net import server as server_module
from impl.net.clerk import NetClerk
from impl.net.cluster import Address
from impl.net.local import free_ports
from impl.net.server import FlushMode, NetServer, ServerSettings, run_loop
from impl.net.wire import LENGTH, RAFT_MESSAGES, Decoder, decode_op, frame, unpack
from impl.raft.core import RaftCore
from impl.raft.effects import HardState, Persist
from impl.raft.messages import AppendEntries, AppendEntriesReply, RequestVote, RequestVoteReply
from impl.storage import RaftStorage

EMPTY = HardState(term=0, voted_for=None, snapshot_index=0, snapshot_term=0, log=())


class RecordingStorage(RaftStorage):
    """The real storage, remembering the state each sequence number stands for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.states: dict[int, HardState] = {0: EMPTY}

    def stage(self, persist: Persist, cuts: int | None = None) -> int:
        seq = super().stage(persist, cuts)
        self.states[seq] = persist.state
        return seq

    def flush(self) -> int:
        time.sleep(0.005)  # a slow disk: more steps gather behind each fsync
        return super().flush()


class EagerStorage(RecordingStorage):
    """A broken twin: it tells the driver every staged state is already durable, so the
    driver lets outputs go at once. The check must catch it."""

    def stage(self, persist: Persist, cuts: int | None = None) -> int:
        super().stage(persist, cuts)
        return self.durable


class UnevenStorage(RecordingStorage):
    """Disks of uneven speed (1–20 ms a flush, drawn per flush), so that a follower's
    acknowledgement often arrives before the leader's own write is done."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rng = random.Random(len(self.states))

    def flush(self) -> int:
        time.sleep(self._rng.uniform(0.001, 0.02))
        return RaftStorage.flush(self)


def _counts_its_whole_log(self: RaftCore) -> None:
    """A broken twin of the parallel commit rule: the leader counts its whole log, durable
    or not (as it may only with parallel write off). The check must catch it."""
    held = sorted((self.last_index, *self._match_index.values()), reverse=True)
    n = held[len(self.peers) // 2]
    if n > self.commit_index and self._term_at(n) == self.term:
        self.commit_index = n


def holds(state: HardState, index: int, term: int | None = None) -> bool:
    """Does the durable `state` hold entry `index` (of `term`, when given)?"""
    if index <= state.snapshot_index:
        return True
    position = index - state.snapshot_index - 1
    if position >= len(state.log):
        return False
    return term is None or state.log[position].term == term


def durable_state(server: NetServer) -> HardState:
    storage = server.storage
    assert isinstance(storage, RecordingStorage)
    # None: recovered, nothing staged yet: the empty start of a first boot
    return storage.states.get(server._durable) or EMPTY


@pytest.mark.parametrize(("parallel_write", "broken_twin", "flush", "disks"),
                         [(True, None, "auto", "even"), (False, None, "auto", "even"),
                          (True, None, "loop", "even"), (True, None, "thread", "even"),
                          (True, None, "auto", "uneven"), (True, "eager", "auto", "even"),
                          (True, "counts-own", "auto", "uneven")],
                         ids=["driver", "driver-serial-write", "driver-flush-in-loop",
                              "driver-flush-on-thread", "driver-uneven-disks", "eager-twin",
                              "counts-own-twin"])
def test_nothing_leaves_before_what_it_depends_on_is_durable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel_write: bool,
        broken_twin: str | None, flush: FlushMode, disks: str) -> None:
    storage = (EagerStorage if broken_twin == "eager"
               else UnevenStorage if disks == "uneven" else RecordingStorage)
    monkeypatch.setattr(server_module, "RaftStorage", storage)
    if broken_twin == "counts-own":
        monkeypatch.setattr(RaftCore, "_advance_commit", _counts_its_whole_log)
    checked: dict[str, int] = {"entries": 0, "early": 0, "matches": 0, "votes": 0,
                               "requests": 0, "commits": 0, "replies": 0, "replies-early": 0}
    broken: list[str] = []
    original = NetServer._release
    servers: list[NetServer] = []

    def release(self: NetServer, out: list[tuple[Any, Any]]) -> None:
        durable = durable_state(self)
        for to, (_msg_id, wire) in out:
            if not isinstance(to, int):
                # A reply to a clerk depends at most on what its server applied: every entry
                # through `applied` must be on a majority of durable logs when it leaves —
                # with early replies, whether or not this server's own disk has it yet.
                checked["replies"] += 1
                applied = self.core.machine.applied
                raft = self.core.raft
                term = raft._term_at(applied) if applied > raft.snapshot_index else None
                copies = sum(holds(durable_state(s), applied, term) for s in servers)
                if 2 * copies <= len(servers):
                    broken.append(f"s{self.id} replied having applied {applied}, which only "
                                  f"{copies} durable logs held")
                if not holds(durable, applied, term):
                    checked["replies-early"] += 1
                continue
            message = _decode(wire)
            if isinstance(message, AppendEntries):
                # Parallel write: entries may be ahead of the leader's disk, never its term
                # and its vote for itself (a crash must not let it vote again in this term).
                may_be_early = (parallel_write and (durable.term, durable.voted_for)
                                == (message.term, self.id))
                for entry in message.entries:
                    checked["entries"] += 1
                    if holds(durable, entry.index, entry.term):
                        continue
                    if may_be_early:
                        checked["early"] += 1
                    else:
                        broken.append(f"s{self.id} sent entry {entry.index} before it was durable")
                if message.leader_commit > 0:
                    checked["commits"] += 1
                    c = message.leader_commit
                    raft = self.core.raft
                    term = raft._term_at(c) if c > raft.snapshot_index else None
                    copies = sum(holds(durable_state(s), c, term) for s in servers)
                    if 2 * copies <= len(servers):
                        broken.append(f"s{self.id} announced commit {c}, which only {copies} "
                                      "durable logs held")
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
        servers.extend(NetServer(ServerSettings(node=n, cluster=cluster,
                                                directory=tmp_path / f"s{n}", maxraftstate=4096,
                                                seed=n, parallel_write=parallel_write,
                                                flush=flush),
                                 log=lambda _t: None)
                       for n in range(3))
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
    # The counts-own twin errs only when a follower's acknowledgement beats the leader's own
    # flush, which the uneven disks make likely but not certain in one run on a loaded
    # machine: it gets a few more runs (on the same disks) to show itself. The check is the
    # same; only the twin's chances to misbehave grow. So does the correct driver on uneven
    # disks, for its replies to leave before the leader's flush at least once (10-26 times
    # in each of five runs here).
    for _again in range(4 if disks == "uneven" else 0):
        if broken_twin == "counts-own":
            if (any("announced commit" in b for b in broken)
                    and any("replied" in b for b in broken)):
                break
        elif checked["replies-early"] > 0 or broken:
            break
        servers.clear()
        run_loop(scenario())
    # Servers run in this process leave its SIGTERM as they found it: a handler left behind
    # made every process later forked from here (pools of workers) ignore terminate().
    assert signal.getsignal(signal.SIGTERM) == handler
    if broken_twin == "eager":
        assert broken, "the check missed outputs sent before their state was durable"
        return
    if broken_twin == "counts-own":
        assert any("announced commit" in b for b in broken), \
            "the check missed a commit counting the leader's non-durable entries"
        # Replies leave once their call is committed, not behind the leader's own flush: a
        # commit that counted a non-durable copy lets one out too early, and the check sees it.
        assert any("replied" in b for b in broken), \
            "the check missed a reply to a call committed on too few durable logs"
        return
    assert broken == [], broken[:5]
    # Not vacuous: each kind of output was seen, and many entries.
    assert checked["entries"] >= 200 and checked["matches"] > 0, checked
    assert checked["votes"] > 0 and checked["requests"] > 0, checked
    assert checked["commits"] > 0 and checked["replies"] >= 200, checked
    if parallel_write:  # the relaxation was exercised: entries left before the leader's fsync
        assert checked["early"] > 0, checked
    if disks == "uneven":
        # and replies before it: with the leader's disk often the slowest, the followers'
        # copies commit many calls first, and the replies leave without waiting for it
        assert checked["replies-early"] > 0, checked


_RAFT = Decoder(RAFT_MESSAGES, decode_op)


def _decode(wire: Any) -> Any:
    """The Raft message a wire list stands for, as the receiver decodes it (through msgpack)."""
    return _RAFT.decode(unpack(frame(wire)[LENGTH.size:]))
