"""The cores' model with parallel write (`--parallel-write`: RaftConfig.parallel_write, the
network runtime's default): the correct core checks clean, the new `Durable` action is taken
and lets leaders commit, and a twin whose leader counts its own non-durable entries in the
commit majority is caught."""

from __future__ import annotations

from typing import Any

import pytest

from checker.modelcheck import Options, check
from checker.modelcheck.models.impl_raft import FLAG_BOUNDS, ImplRaftConfig, ImplRaftModel
from checker.verdict import Verdict
from impl.raft.core import RaftCore
from tests.impl_modelcheck.test_model import CLEAN_IN_CAMPAIGN, DEFAULT_FLAGS, _bounds

DEFAULT: dict[str, Any] = {}
# The bounds at which the default suite checks the correct core clean (test_model.py), and
# the one with a restart among them. Measured here with the option on (load average ~11,
# one worker): 9,393 / 65,440 / 17,918 / 8,222 states against 5,933 / 41,294 / 5,636 / 2,784
# with it off; 19 s of CPU in all (before figure8-commit's and grant-before-persist's bounds
# joined the default suite's list).
SUITE_BOUNDS = [b for b in _bounds(DEFAULT_FLAGS) if b not in _bounds(CLEAN_IN_CAMPAIGN)]
# A restart and a client request (grant-before-persist's bounds have a restart but no request).
RESTART = FLAG_BOUNDS["unpersisted-vote"]


def _model(**bounds: Any) -> ImplRaftModel:
    return ImplRaftModel(config=ImplRaftConfig(parallel_write=True, **bounds))


@pytest.mark.parametrize("bounds", [DEFAULT, *SUITE_BOUNDS], ids=str)
def test_the_correct_core_checks_clean_with_parallel_write(bounds: dict[str, Any]) -> None:
    model = _model(**bounds)
    result = check(model, Options())
    assert result.verdict is Verdict.OK, result.reason
    assert result.sometimes["LeaderElected"]  # not vacuous
    assert "parallel write" in model.bounds_text()


def test_a_durable_report_commits_in_some_state() -> None:
    # From the state after a leader's Start with a follower's acknowledgement, the `Durable`
    # action of the leader is enabled and raises its commit index.
    model = _model(**DEFAULT)
    seen = False
    frontier = model.initial_states()
    explored: set[Any] = set()
    while frontier and not seen:
        state = frontier.pop()
        for event, after in model.successors(state):
            if event.kind == "Durable":
                before = state[0][event.node][0]
                now = after[0][event.node][0]
                if before and now and now[8] > before[8]:  # the commit index rose
                    seen = True
                    break
            if after not in explored:
                explored.add(after)
                frontier.append(after)
    assert seen


class _CountsItsWholeLog(RaftCore):
    """A broken twin: with parallel write on, the leader still counts its whole log."""

    def _advance_commit(self) -> None:
        held = sorted((self.last_index, *self._match_index.values()), reverse=True)
        n = held[len(self.peers) // 2]
        if n > self.commit_index and self._term_at(n) == self.term:
            self.commit_index = n


def test_a_leader_counting_its_non_durable_entries_is_caught() -> None:
    model = _model(**RESTART)
    object.__setattr__(model, "_cls", _CountsItsWholeLog)
    result = check(model, Options())
    assert result.verdict is Verdict.VIOLATION, result.reason

