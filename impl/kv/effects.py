"""What one step of a key/value server or clerk asks its driver to do, and in which order.

The bundles are the ones every service on Raft shares (impl.rsm.effects, where the ordering
contract is written): a server's `ServerEffects` — persist, Raft's messages, the service's
events (`Applied`, `Installed`, `Compacted`), replies to clerks, timers — and a clerk's
`ClerkEffects` — messages, timers, then `done` with the finished call's output. For the
key/value service an `Applied` event's `op` is an `Op` (impl.kv.machine) and its `outcome` an
`Outcome`, and so are a `Read`'s (a get answered by ReadIndex); a `Done`'s output is a get's
value, None for put and append.
"""

from __future__ import annotations

from impl.rsm.effects import (
    Applied,
    ClerkEffects,
    Compacted,
    Done,
    Installed,
    Outgoing,
    Read,
    ServerEffects,
    ServiceEvent,
)

__all__ = ["Applied", "ClerkEffects", "Compacted", "Done", "Installed", "Outgoing", "Read",
           "ServerEffects", "ServiceEvent"]
