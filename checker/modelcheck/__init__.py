"""dscheck's explicit-state model checker for the Raft spec (`spec.raft`).

`check(config, options)` explores every state reachable within the config's bounds,
breadth-first, with fingerprints and symmetry reduction, checks every invariant at every state
(and LeaderAppendOnly at every step), and returns a `ModelCheckResult`: OK, VIOLATION with a
shortest counterexample replayed through the spec, or UNKNOWN when a bound cut the search.
"""

from checker.modelcheck.result import (
    Counterexample,
    ModelCheckResult,
    Options,
    Progress,
    Step,
)
from checker.modelcheck.search import check

__all__ = ["Counterexample", "ModelCheckResult", "Options", "Progress", "Step", "check"]
