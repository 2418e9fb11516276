"""Raft's opt-in strict flow control (RaftConfig.strict_flow_control), which the key/value
service turns on: under a steady stream of commands, a heartbeat's retransmission must not
start a second replication stream to a follower. Off, the core behaves as before."""

from __future__ import annotations

from impl.raft.core import RaftConfig, RaftCore
from impl.raft.effects import Effects
from impl.raft.messages import AppendEntries, AppendEntriesReply, RequestVoteReply


def leader(strict: bool) -> RaftCore:
    c = RaftCore(0, (0, 1, 2), RaftConfig(strict_flow_control=strict))
    c.boot()
    c.timeout("election")
    c.step(1, RequestVoteReply(term=1, granted=True))
    return c


def batches_to(effects: Effects, peer: int) -> list[tuple[int, ...]]:
    return [tuple(e.index for e in s.message.entries) for s in effects.messages
            if s.to == peer and isinstance(s.message, AppendEntries) and s.message.entries]


def ok(match: int, prev: int) -> AppendEntriesReply:
    return AppendEntriesReply(term=1, success=True, prev_index=prev, match_index=match,
                              conflict_term=None, conflict_index=0)


def play(strict: bool) -> list[list[tuple[int, ...]]]:
    c = leader(strict)
    sent = [batches_to(c.start("a")[1], 1)]  # [1] goes out at once
    sent.append(batches_to(c.start("b")[1], 1))  # [1] unanswered: "b" waits
    sent.append(batches_to(c.timeout("heartbeat"), 1))  # the heartbeat retransmits [1, 2]
    sent.append(batches_to(c.start("c")[1], 1))  # [1, 2] unanswered: "c" waits
    sent.append(batches_to(c.step(1, ok(match=1, prev=0)), 1))  # the answer to [1]
    sent.append(batches_to(c.step(1, ok(match=2, prev=0)), 1))  # the answer to [1, 2]
    return sent


def test_strict_flow_control_keeps_one_batch_in_flight() -> None:
    assert play(strict=True) == [[(1,)], [], [(1, 2)], [], [], [(3,)]]


def test_without_it_the_answer_to_an_older_batch_starts_a_second_stream() -> None:
    # The core's behaviour when the flag is off, unchanged: both answers send a batch.
    assert play(strict=False) == [[(1,)], [], [(1, 2)], [], [(2, 3)], [(3,)]]
