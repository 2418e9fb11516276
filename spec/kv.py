"""An executable specification of the fault-tolerant key/value service (lab 3A–3B): clerk calls
executed exactly once on a replicated store, bounded by a `Config` so that it can be explored
exhaustively, and the properties every run of the service must keep — on the spec's states
and on states rebuilt from a recorded trace alike.

Theory of operation
-------------------
What is abstracted, and why:

- Raft (spec/raft.py, proved and model-checked on its own) gives the servers one committed
  log that only grows (State Machine Safety), so here the log *is* the committed log
  (`State.log`), and a call that "reaches a leader and commits" is one step (`Submit`). A
  clerk retries a call until some server answers it, so one call may commit several times:
  every entry carries the call's (clerk, seq).
- What a server applies is the sequential kv model (`spec.sequential.KV`: per key a string;
  get, put, append — an append to an absent key acts as a put) under exactly-once execution:
  each replica's duplicate table maps a clerk to its last executed sequence number, and an
  entry whose number is not above it changes nothing (`spec.kv_types.execute`, the one
  definition of applying an entry, which the trace checker's replay uses too).
- Each replica applies the committed log in order, and may crash and restart from its last
  snapshot (store and duplicate table, §7), or install a leader's snapshot when it is behind.
  A replica's snapshot through index k holds what its state machine held there, and replicas
  apply one log deterministically, so a restart or an install is one step to the state the
  log makes through k (`snapshot_at`): the spec need not remember when snapshots were taken.
- Reads either go through the log like writes (the default: a get is an entry, answered with
  what it read when applied), or — with `Config.read_index` — by ReadIndex (Raft thesis
  §6.4): a leader records its commit index, confirms it still leads, and a server answers the
  get from its store once it has applied through that index, writing nothing to the log.
  Confirmation is one step (`ConfirmRead`: the read index is the whole committed log then).

The actions (`spec.kv_next`): `Invoke(c)` (clerk c makes its next call), `Submit(c)` (its
call commits as the next entry; again on a retry), `Apply(r)` (replica r applies its next
entry; a pending call's clerk gets an answer), `ConfirmRead(c)`, `ServeRead(r, c)` (ReadIndex
only), `Return(reply)` (the clerk takes an answer and returns), `Restart(r, k)` (from its snapshot
through k < its applied index, or k = 0: none), `Install(r, k)` (a leader's snapshot through
k above its applied index).

History variables, read by the properties and never by the actions: `seen` (what the first
replica to apply through each index held), `calls` (every call invoked, with the commit index
at its invoke and its output once returned) and `effects` (every index where a call was
applied or read).

Properties (`spec.kv_invariants`, written once over a `View` that both a spec state and a
trace provide): ReplicasAgree, NoCallAppliedTwice, ReplyMatchesState, NoAckedWriteLost,
NoStaleRead (`INVARIANTS`); `SOMETIMES` — EveryCallReturned, RetryInLog, ReadServed (with
ReadIndex) — reached at the default bounds to show they are not vacuous.

Fault flags (`BUGS`, `Config(bugs=frozenset({...}))`) re-create classic mistakes of the lab;
each breaks one of the properties at small bounds.

Symmetry: none is used. Clerks make different calls, and replicas are few.
"""

from __future__ import annotations

from spec.kv_invariants import (
    BY_NAME,
    INVARIANTS,
    PROPERTIES,
    SOMETIMES,
    Invariant,
    StateInvariant,
    StateView,
    View,
    holds_everywhere,
    no_acked_write_lost,
    no_call_applied_twice,
    no_stale_read,
    replicas_agree,
    reply_matches_state,
)
from spec.kv_next import (
    Action,
    apply,
    confirm_read,
    describe_store,
    initial_states,
    install,
    invoke,
    receive,
    restart,
    serve_read,
    snapshot_at,
    submit,
    successors,
)
from spec.kv_types import (
    APPEND,
    BOUNDS,
    BUGS,
    CALL_KINDS,
    DEFAULT_CALLS,
    EMPTY,
    GET,
    NOOP,
    NOOP_OP,
    PUT,
    Call,
    Clerk,
    Config,
    Dup,
    Effect,
    Machine,
    Op,
    Outcome,
    Reply,
    State,
    Store,
    execute,
    replay,
    seq_of,
    step_call,
    value_of,
)

__all__ = [
    "APPEND",
    "BOUNDS",
    "BUGS",
    "BY_NAME",
    "CALL_KINDS",
    "DEFAULT_CALLS",
    "EMPTY",
    "GET",
    "INVARIANTS",
    "NOOP",
    "NOOP_OP",
    "PROPERTIES",
    "PUT",
    "SOMETIMES",
    "Action",
    "Call",
    "Clerk",
    "Config",
    "Dup",
    "Effect",
    "Invariant",
    "Machine",
    "Op",
    "Outcome",
    "Reply",
    "State",
    "StateInvariant",
    "StateView",
    "Store",
    "View",
    "apply",
    "confirm_read",
    "describe_store",
    "execute",
    "holds_everywhere",
    "initial_states",
    "install",
    "invoke",
    "no_acked_write_lost",
    "no_call_applied_twice",
    "no_stale_read",
    "receive",
    "replay",
    "replicas_agree",
    "reply_matches_state",
    "restart",
    "seq_of",
    "serve_read",
    "snapshot_at",
    "step_call",
    "submit",
    "successors",
    "value_of",
]
