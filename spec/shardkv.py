"""An executable specification of the sharded key/value service (lab 4B): replica groups,
configurations, shard ownership and migration, bounded by a `Config` so that it can be
explored exhaustively and proved at small bounds.

Theory of operation
-------------------
What is abstracted, and why (docs/shardkv-spec.md says more):

- A replica group is one replicated state machine: Raft (spec/raft.py, proved separately)
  gives each group a linearizable log, so a group's step here is "an entry committed and
  applied". Everything a group applied survives a crash (it is in its snapshot and log).
- The controller is the sequence `Config.configs` of configurations 1..K (spec/shardctrler.py
  makes them; here they are data), published one at a time (`Publish`).
- A shard's key/value data is the multiset of clerk calls applied to it (`Group.data`: per
  call, how many times it was applied): enough to see a write lost or applied twice. The
  order of appends within a shard is what linearizability checks (checker/linearizability),
  not this model.
- Clerks make their calls one at a time, each to a fixed shard (`Config.shard_of`), and retry
  until some group answers OK. A retry may reach any group at any time, so a call is applied
  by whichever group serves its shard then (`Apply`): the request in flight is folded into the
  step, and "the clerk's cached configuration was stale" is covered by "any group".

Per group and shard, a status (`Status`): SERVING (owned, data present, accepting calls),
WAITING (owned in the group's configuration, data not yet received), SENDING (owned in the
previous configuration, being handed off; no calls accepted), ABSENT.

The actions (`spec.shardkv_next`):

- `Publish(#n)`: the controller publishes configuration n (n − 1 was the newest).
- `Reconfigure(g, #n)`: group g applies configuration n = its current + 1, published, and only
  once settled (every shard it owns SERVING, every other ABSENT: lab 4B's "one at a time, in
  order"). A shard it keeps stays SERVING; one it gains from nobody (configuration 1) is
  created empty; one it gains from a group is WAITING; one it loses becomes SENDING.
- `Send(Transfer)`: a SENDING group sends the shard — data and duplicate table, frozen since it
  stopped serving — to the shard's owner in its configuration; again whenever the transfer is
  not in flight (lost transfers are resent; the old owner keeps its copy until acknowledged).
- `Receive(Transfer)`: the new owner, if WAITING for it in that configuration, installs it
  (SERVING) and acknowledges; if it installed it before, it acknowledges again; if it has not
  reached that configuration yet, it refuses (the sender sends again later).
- `Receive(TransferAck)`: the old owner, still SENDING that shard in that configuration,
  deletes it (garbage collection, lab 4B's challenge 1); otherwise the ack is stale.
- `Apply(g, c.q)`: clerk c's pending call q reaches group g serving its shard; g applies it
  unless the shard's duplicate table shows it applied, and replies OK either way.
- `Receive(Reply)`: the clerk takes the OK for its pending call (acknowledged) and moves on.
- `Drop(m)`, `Duplicate(m)`: the network loses m, or delivers it keeping a copy (with
  `Config.drops`, `Config.duplicates`). Any message in flight may be delivered next: delays
  and reordering are free. At most `Config.max_messages` distinct messages are in flight; a
  send that would exceed it waits.
- `Restart(g)`: a crash and restart of a whole group: it restarts from its snapshot and log,
  which hold everything it applied, so in the correct spec the step changes nothing and is not
  listed; with the `volatile-dup-table` bug it forgets its duplicate tables.

Properties (`spec.shardkv_invariants`): state invariants `INVARIANTS` — AtMostOneServer,
NoAckedWriteLost, NoCallAppliedTwice, NewOwnerExtendsOldOwner — each a predicate
`(Config, State) -> bool`; `TRANSITION_INVARIANTS` — ConfigurationsInOrder; `SOMETIMES` —
AckedWriteMigrated, EveryCallAcknowledged, LastConfigurationEverywhere, reached at the
default bounds to show they are not vacuous.

Fault flags (`BUGS`, `Config(bugs=frozenset({...}))`) re-create classic sharding mistakes;
each breaks one of the properties at the default bounds.

Symmetry: none is used. Groups and shards are not interchangeable once the configurations
name them, and clerks' calls go to different shards.
"""

from __future__ import annotations

from spec.shardkv_invariants import (
    INVARIANTS,
    SOMETIMES,
    TRANSITION_INVARIANTS,
    StateInvariant,
    TransitionInvariant,
    acked_write_migrated,
    at_most_one_server,
    configurations_in_order,
    every_call_acknowledged,
    held,
    last_configuration_everywhere,
    new_owner_extends_old_owner,
    no_acked_write_lost,
    no_call_applied_twice,
)
from spec.shardkv_next import (
    Action,
    apply,
    handing_off,
    initial_states,
    receive,
    reconfigure,
    restart,
    send,
    settled,
    successors,
)
from spec.shardkv_types import (
    BOUNDS,
    BUGS,
    DEFAULT_CONFIGS,
    NONE,
    Config,
    Data,
    Dup,
    Group,
    Message,
    Reply,
    State,
    Status,
    Transfer,
    TransferAck,
    describe_data,
    describe_dup,
    describe_message,
)

__all__ = [
    "BOUNDS",
    "BUGS",
    "DEFAULT_CONFIGS",
    "INVARIANTS",
    "NONE",
    "SOMETIMES",
    "TRANSITION_INVARIANTS",
    "Action",
    "Config",
    "Data",
    "Dup",
    "Group",
    "Message",
    "Reply",
    "State",
    "StateInvariant",
    "Status",
    "Transfer",
    "TransferAck",
    "TransitionInvariant",
    "acked_write_migrated",
    "apply",
    "at_most_one_server",
    "configurations_in_order",
    "describe_data",
    "describe_dup",
    "describe_message",
    "every_call_acknowledged",
    "handing_off",
    "held",
    "initial_states",
    "last_configuration_everywhere",
    "new_owner_extends_old_owner",
    "no_acked_write_lost",
    "no_call_applied_twice",
    "receive",
    "reconfigure",
    "restart",
    "send",
    "settled",
    "successors",
]
