"""A shard group's server core: the group's shards on one Raft core, sans I/O (lab 4B).

Theory of operation
-------------------
A `ShardServer` is a replicated state machine on Raft (impl.rsm.server) whose machine is the
group's configuration and shards (impl.shardkv.machine). Every change to the machine goes
through the group's log. What the server adds is the traffic around it, all of it driven by
the group's leader (followers only answer ErrWrongLeader):

* Clerk calls. A get, put or append for a shard the group does not serve (yet) is answered
  ErrWrongGroup at once; otherwise it goes through the log and is answered once applied at
  its index — OK, ErrNoKey, or ErrWrongGroup if by then the shard had moved on. A write the
  shard's duplicate table shows executed is answered OK at once. With
  `ServerConfig.read_index` (the network runtime's default; the simulator's is off) a get
  is answered by ReadIndex instead (impl.rsm.server): from the machine once it has applied
  through the confirmed index, for a shard it serves in that state, else ErrWrongGroup.
* Polling the controller (timer `poll`, every `poll_ms`, the lab's "about every 100 ms"):
  once the current configuration is settled, the leader asks the controller (through a
  controller clerk of its own, impl.shardctrler.clerk) for configuration num + 1, and
  appends it to the log when it exists: configurations are applied one at a time, in order,
  through the log (`Reconfigure`).
* Handing shards off (timer `push`, every `push_ms`, and at once after a reconfiguration):
  for every shard it hands off, the leader sends the shard's data and duplicate table to a
  server of the new owner (`TransferArgs`), moving on to the owner's next server when one
  answers ErrWrongLeader or does not answer by the next round. On OK — which the new owner
  only sends once the shard is installed through its log — it appends `Delete` (garbage
  collection). On ErrNotReady (the new owner has not reached that configuration) it waits.
* Receiving shards: a leader that waits for the shard in that configuration appends
  `Install` and answers OK once it is applied; a shard installed before (the OK was lost) is
  acknowledged again at once.

Everything the leader does on timers is idempotent at apply time (a stale Reconfigure,
Install or Delete changes nothing), so a leader change, a lost message or a duplicate at
any point costs only a retry.

Fault flags (`ShardServerConfig.bugs`, impl.shardkv.machine.BUGS) re-create the spec's
sharding mistakes; `delete-before-install` is the server's own: it appends the Delete as it
first sends a shard, without waiting for the acknowledgement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from impl.kv.machine import APPEND, GET, PUT, Op, Outcome
from impl.kv.messages import (
    ERR_NO_KEY,
    ERR_WRONG_GROUP,
    ERR_WRONG_LEADER,
    OK,
    ClerkReply,
    ClerkRequest,
    Err,
    GetArgs,
    GetReply,
    PutAppendReply,
)
from impl.raft.effects import HardState, SetTimer
from impl.rsm.clerk import ClerkConfig
from impl.rsm.effects import ClerkEffects, Read
from impl.rsm.server import ReplicatedServer, ServerConfig, Waiter
from impl.shardctrler.clerk import CtrlClerk
from impl.shardctrler.messages import ChangeReply, QueryReply
from impl.shardkv import messages as sm
from impl.shardkv.machine import (
    BUGS,
    Changed,
    Command,
    Delete,
    Install,
    Reconfigure,
    ShardMachine,
    WrongGroup,
    read_command,
    reconfigure,
)
from impl.shardkv.messages import TransferArgs, TransferReply, key2shard
from spec.shardctrler import Configuration
from spec.shardkv import Status

POLL, PUSH = "poll", "push"
CTRL_TIMERS = ("ctrl-rpc", "ctrl-retry")  # the controller clerk's, apart from Raft's


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardServerConfig:
    """A shard group server's settings beside the replicated state machine's (`rsm`)."""

    rsm: ServerConfig = field(default_factory=ServerConfig)
    poll_ms: int = 100  # the lab: poll the controller about every 100 ms
    push_ms: int = 100  # resend the shards being handed off this often
    ctrl_clerk: ClerkConfig = field(default_factory=lambda: ClerkConfig(rpc_timeout_ms=200,
                                                                          retry_pause_ms=100))
    bugs: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.poll_ms < 1 or self.push_ms < 1:
            raise ValueError("poll_ms and push_ms must be at least 1 ms")
        unknown = sorted(set(self.bugs) - set(BUGS))
        if unknown:
            raise ValueError(f"unknown fault flag(s) {unknown}; known: {sorted(BUGS)}")


class ShardServer(ReplicatedServer[Command, ShardMachine]):
    """Server `node_id` (0..n-1 in its group) of group `gid`. `ctrl_servers` name the
    controller's servers, `ctrl_clerk_id` its controller clerk (unique per incarnation)."""

    SERVICE_TIMERS = frozenset({POLL, PUSH, *CTRL_TIMERS})

    def __init__(self, node_id: int, peers: Sequence[int], gid: int,
                 ctrl_servers: Sequence[int | str], ctrl_clerk_id: int,
                 config: ShardServerConfig | None = None,
                 restored: HardState | None = None, snapshot: bytes = b"") -> None:
        self.gid = gid
        self.shard_config = config or ShardServerConfig()
        self.bugs = self.shard_config.bugs
        super().__init__(node_id, peers, self.shard_config.rsm, restored, snapshot)
        self.ctrl = CtrlClerk(ctrl_clerk_id, ctrl_servers, self.shard_config.ctrl_clerk,
                              timer_names=CTRL_TIMERS)
        self._target: dict[int, int] = {}  # gid -> index of the server to send shards to
        self._unanswered: set[tuple[int, int]] = set()  # (num, shard) sent this round
        self._refusals: dict[int, int] = {}  # gid -> ErrWrongLeader answers this round
        self._deleting: set[tuple[int, int]] = set()  # Deletes appended this term
        self._deleting_term = 0
        self._moved = False  # a configuration change, install or delete was applied

    # ---------------------------------------------------------------- the state machine
    def _fresh_machine(self) -> ShardMachine:
        return ShardMachine(self.gid, self.bugs)

    def _decode_machine(self, data: bytes) -> ShardMachine:
        machine = ShardMachine.decode(data, self.bugs)
        if machine.gid != self.gid:
            raise ValueError(f"snapshot of group {machine.gid} given to group {self.gid}")
        return machine

    def _command(self, raw: Any) -> Command:
        return read_command(raw)

    def _same(self, waiting: Command, applied: Command) -> bool:
        if isinstance(waiting, Op) and isinstance(applied, Op):
            return waiting.same_call(applied)
        return waiting == applied

    # ---------------------------------------------------------------- timers
    def _on_boot(self) -> None:
        self._set_timer(SetTimer(name=POLL, low_ms=self.shard_config.poll_ms,
                                 high_ms=self.shard_config.poll_ms))
        self._set_timer(SetTimer(name=PUSH, low_ms=self.shard_config.push_ms,
                                 high_ms=self.shard_config.push_ms))

    def _on_timer(self, name: str) -> None:
        if name in CTRL_TIMERS:
            self._take(self.ctrl.timeout(name))
        elif name == POLL:
            self._set_timer(SetTimer(name=POLL, low_ms=self.shard_config.poll_ms,
                                     high_ms=self.shard_config.poll_ms))
            self._poll()
        elif name == PUSH:
            self._set_timer(SetTimer(name=PUSH, low_ms=self.shard_config.push_ms,
                                     high_ms=self.shard_config.push_ms))
            self._push(retry=True)

    # ---------------------------------------------------------------- configurations
    def _poll(self) -> None:
        """Ask the controller for the next configuration, once the current one is settled
        (with `unordered-configs`: for the newest, whatever the state)."""
        if not self.is_leader or self.ctrl.busy:
            return
        if "unordered-configs" in self.bugs:
            self._take(self.ctrl.query(-1))
        elif self.machine.settled():
            self._take(self.ctrl.query(self.machine.num + 1))

    def _take(self, effects: ClerkEffects) -> None:
        """Carry the controller clerk's effects into this step's bundle."""
        for out in effects.messages:
            self._send(out.to, out.message)
        for op in effects.timers:
            self._set_timer(op)
        if effects.done is not None:
            self._configuration(effects.done.output)

    def _configuration(self, config: Configuration) -> None:
        """The controller answered a poll: append the configuration if it is the next."""
        if not self.is_leader:
            return
        if "unordered-configs" in self.bugs:
            if config.num != self.machine.num:
                self._start(reconfigure(config))
        elif config.num == self.machine.num + 1 and self.machine.settled():
            self._start(reconfigure(config))

    def _applied(self, index: int, term: int, command: Command, outcome: Any) -> None:
        if (isinstance(command, Reconfigure | Install | Delete) and isinstance(outcome, Changed)
                and outcome.done):
            self._moved = True

    def _after_step(self) -> None:
        if self._moved:
            self._moved = False
            if self.is_leader:
                self._push(retry=False)  # hand off at once what a configuration moved
                self._poll()  # and look for the next one without waiting for the timer

    # ---------------------------------------------------------------- handing shards off
    def _push(self, retry: bool) -> None:
        """Send every shard this group hands off to its new owner. On a retry round (the
        `push` timer), a server that did not answer the last round is passed over for the
        owner's next one."""
        if not self.is_leader:
            self._unanswered.clear()
            return
        if retry:
            self._refusals.clear()
        machine = self.machine
        for s in range(len(machine.shards)):
            if not machine.handing_off(s):
                continue
            if retry and (machine.num, s) in self._unanswered:
                dst = machine.config.shards[s]
                self._target[dst] = self._target.get(dst, 0) + 1
            self._send_shard(s)

    def _send_shard(self, s: int) -> None:
        machine = self.machine
        dst = machine.config.shards[s]
        servers = machine.config.servers(dst)
        shard = machine.shards[s]
        self._send(servers[self._target.get(dst, 0) % len(servers)],
                   TransferArgs(num=machine.num, shard=s, gid=self.gid, data=shard.items(),
                                dup=shard.dup_items()))
        self._unanswered.add((machine.num, s))
        if "delete-before-install" in self.bugs:
            self._delete(machine.num, s)

    def _on_transfer_reply(self, src: int | str, m: TransferReply) -> None:
        self._unanswered.discard((m.num, m.shard))
        machine = self.machine
        if not self.is_leader or m.num != machine.num or not machine.handing_off(m.shard):
            return
        dst = machine.config.shards[m.shard]
        if m.err == sm.OK:
            self._refusals.pop(dst, None)
            self._delete(m.num, m.shard)
        elif m.err == sm.ERR_WRONG_LEADER:
            # Try the owner's next server at once, but only once around the group per round:
            # while it has no leader, every server refuses, and the timer's round retries.
            servers = machine.config.servers(dst)
            if src in servers:
                self._target[dst] = servers.index(src) + 1
            self._refusals[dst] = self._refusals.get(dst, 0) + 1
            if self._refusals[dst] < len(servers):
                self._send_shard(m.shard)

    def _delete(self, num: int, s: int) -> None:
        if self.raft.term != self._deleting_term:
            self._deleting.clear()
            self._deleting_term = self.raft.term
        if (num, s) in self._deleting or not self.machine.handing_off(s):
            return
        self._deleting.add((num, s))
        self._start(Delete("delete", num, s))

    # ---------------------------------------------------------------- receiving shards
    def _on_transfer(self, src: int | str, m: TransferArgs) -> None:
        machine = self.machine
        if not self.is_leader:
            self._send(src, TransferReply(err=sm.ERR_WRONG_LEADER, num=m.num, shard=m.shard))
        elif machine.num < m.num:
            self._send(src, TransferReply(err=sm.ERR_NOT_READY, num=m.num, shard=m.shard))
        elif machine.num > m.num or machine.shards[m.shard].status == Status.SERVING:
            # Installed before (the group cannot move past m.num without it): acknowledge.
            self._send(src, TransferReply(err=sm.OK, num=m.num, shard=m.shard))
        elif machine.shards[m.shard].status == Status.WAITING:
            self._propose(src, Install("install", m.num, m.shard, m.data, m.dup, m.gid))
        else:  # a shard this group does not own in m.num: only a faulty sender does this
            self._send(src, TransferReply(err=sm.ERR_NOT_READY, num=m.num, shard=m.shard))

    # ---------------------------------------------------------------- clerk requests
    def _on_request(self, src: int | str, m: Any) -> None:
        if isinstance(m, TransferArgs):
            self._on_transfer(src, m)
        elif isinstance(m, TransferReply):
            self._on_transfer_reply(src, m)
        elif isinstance(m, ChangeReply | QueryReply):
            self._take(self.ctrl.step(src, m))
        else:
            self._on_clerk(src, m)

    def _on_clerk(self, src: int | str, m: ClerkRequest) -> None:
        if not self.is_leader:
            self._answer(src, m, ERR_WRONG_LEADER)
        elif not self.machine.serves(m.key):
            self._answer(src, m, ERR_WRONG_GROUP)
        elif isinstance(m, GetArgs):
            op = Op(GET, m.key, None, m.clerk, m.seq)
            if self.config.read_index:
                # The no-op a leader appends when its term has no entry yet: the current
                # configuration again, which applying leaves as it is (not num + 1).
                self._read_index(src, op, reconfigure(self.machine.config))
            else:
                self._propose(src, op)
        elif self.machine.executed(m.key, m.clerk, m.seq):
            self._answer(src, m, OK)  # a retry of a write already applied: nothing to redo
        else:
            self._propose(src, Op(PUT if m.op == "Put" else APPEND, m.key, m.value, m.clerk,
                                  m.seq))

    def _answer_read(self, waiter: Waiter[Command], index: int) -> None:
        """A get confirmed by ReadIndex: the machine has applied through the confirmed
        index, so it holds every configuration change, install and delete committed before
        the get arrived. The group answers only for a shard it serves in that state — the
        check a get through the log makes at its apply — else ErrWrongGroup."""
        op = waiter.command
        assert isinstance(op, Op)
        if not self.machine.serves(op.key):
            self._answer_op(waiter.to, op, ERR_WRONG_GROUP, "")
            return
        value = self.machine.shards[key2shard(op.key)].data.get(op.key)
        outcome = Outcome(executed=False, output=value or "", found=value is not None)
        self._events.append(Read(index=self.machine.applied, read_index=index, op=op,
                                 outcome=outcome))
        self._answer_op(waiter.to, op, OK if outcome.found else ERR_NO_KEY, value or "")

    # ---------------------------------------------------------------- replies
    def _answer_applied(self, waiter: Waiter[Command], command: Command,
                        outcome: Any) -> None:
        if isinstance(command, Install):
            self._send(waiter.to, TransferReply(err=sm.OK, num=command.num, shard=command.shard))
            return
        assert isinstance(command, Op)
        if isinstance(outcome, WrongGroup):
            self._answer_op(waiter.to, command, ERR_WRONG_GROUP, "")
        elif command.kind == GET:
            assert isinstance(outcome, Outcome)
            err: Err = OK if outcome.found else ERR_NO_KEY
            self._answer_op(waiter.to, command, err, outcome.output or "")
        else:
            self._answer_op(waiter.to, command, OK, "")

    def _refuse(self, waiter: Waiter[Command]) -> None:
        command = waiter.command
        if isinstance(command, Install):
            self._send(waiter.to, TransferReply(err=sm.ERR_WRONG_LEADER, num=command.num,
                                                shard=command.shard))
        elif isinstance(command, Op):
            self._answer_op(waiter.to, command, ERR_WRONG_LEADER, "")

    def _answer(self, to: int | str, m: ClerkRequest, err: Err) -> None:
        reply: ClerkReply = (GetReply(err=err, value="", seq=m.seq) if isinstance(m, GetArgs)
                             else PutAppendReply(err=err, seq=m.seq))
        self._send(to, reply)

    def _answer_op(self, to: int | str, op: Op, err: Err, value: str) -> None:
        reply: ClerkReply = (GetReply(err=err, value=value, seq=op.seq) if op.kind == GET
                             else PutAppendReply(err=err, seq=op.seq))
        self._send(to, reply)


__all__ = ["CTRL_TIMERS", "POLL", "PUSH", "ShardServer", "ShardServerConfig"]
