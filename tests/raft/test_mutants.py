"""Check the checks: deliberately broken Raft cores must fail the lab scenarios that target
the broken rule (STYLE.md point 9). A scenario suite that passes a broken Raft proves nothing."""

from __future__ import annotations

import pytest

from impl.raft import core as raft_core
from impl.raft.labtester import RaftTestFailure
from impl.raft.messages import RequestVote, RequestVoteReply
from tests.raft.lab import play


def _vote_without_log_check(self: raft_core.RaftCore, src: int, m: RequestVote) -> None:
    # The bug: §5.4.1's "at least as up-to-date" check is missing.
    granted = m.term == self.term and self.voted_for in (None, m.candidate)
    if granted:
        self.voted_for = m.candidate
        self._out.persist_needed = True
        self._reset_election_timer()
    self._reply(src, RequestVoteReply(term=self.term, granted=granted))


@pytest.mark.parametrize("seed", [1, 2])
def test_votes_for_stale_logs_are_caught_2C(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raft_core.RaftCore, "_on_request_vote", _vote_without_log_check)
    with pytest.raises(RaftTestFailure, match="commit index"):
        play("persist2_2C", seed)


@pytest.mark.parametrize("seed", [1, 2])
def test_forgetting_to_persist_is_caught_2C(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    finish = raft_core.RaftCore._finish

    def finish_without_persisting(self: raft_core.RaftCore) -> object:
        self._out.persist_needed = False  # the bug: nothing ever reaches stable storage
        return finish(self)

    monkeypatch.setattr(raft_core.RaftCore, "_finish", finish_without_persisting)
    with pytest.raises(RaftTestFailure):
        play("persist1_2C", seed)


def test_never_snapshotting_is_caught_by_the_log_size_bound_2D(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raft_core.RaftCore, "snapshot",
                        lambda self, index, data: self._finish())
    with pytest.raises(RaftTestFailure, match="Log size too large"):
        play("snapshot_basic_2D", 1)
