"""dscheck's invariant layer: each Raft invariant written once, evaluated on concrete states
(spec states, trace states) and encoded in Z3 from the same definition."""

from checker.invariants.ops import CONCRETE, Z3, ConcreteOps, Z3Ops
from checker.invariants.raft import (
    ALL,
    AUXILIARY,
    BY_NAME,
    LEADER_APPEND_ONLY,
    SAFETY,
    TRACEABLE,
    Invariant,
    TransitionInvariant,
)
from checker.invariants.view import ConcreteView, MsgRec, ServerRec, from_spec

__all__ = [
    "ALL",
    "AUXILIARY",
    "BY_NAME",
    "CONCRETE",
    "LEADER_APPEND_ONLY",
    "SAFETY",
    "TRACEABLE",
    "Z3",
    "ConcreteOps",
    "ConcreteView",
    "Invariant",
    "MsgRec",
    "ServerRec",
    "TransitionInvariant",
    "Z3Ops",
    "from_spec",
]
