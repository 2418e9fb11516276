"""The actions of the key/value service's spec: initial state and successor function.

Theory of operation: `spec/kv.py`. Each function below is one action; `successors` yields
every enabled one with the state it leads to, named for counterexamples.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from spec.kv_types import (
    EMPTY,
    GET,
    Call,
    Clerk,
    Config,
    Effect,
    Machine,
    Reply,
    State,
    Store,
    execute,
    replay,
    value_of,
)

Action = str


def initial_states(config: Config) -> list[State]:
    """Every replica empty at index 0, no call made, the log empty."""
    return [State(log=(), replicas=(EMPTY,) * config.replicas,
                  clerks=(Clerk(0, False, -1),) * config.clerks, replies=frozenset(),
                  seen=(), calls=(), effects=frozenset())]


def successors(config: Config, state: State) -> Iterator[tuple[Action, State]]:
    """Every enabled action, named, with the state it leads to."""
    for c in range(config.clerks):
        for step in (invoke(config, state, c), submit(config, state, c),
                     confirm_read(config, state, c)):
            if step is not None:
                yield step
        for r in range(config.replicas):
            step = serve_read(config, state, c, r)
            if step is not None:
                yield step
    for r in range(config.replicas):
        step = apply(config, state, r)
        if step is not None:
            yield step
        yield from restart(config, state, r)
        yield from install(config, state, r)
    for reply in sorted(state.replies):
        yield from receive(config, state, reply)


def _set_clerk(state: State, c: int, clerk: Clerk) -> tuple[Clerk, ...]:
    return (*state.clerks[:c], clerk, *state.clerks[c + 1:])


def _set_replica(state: State, r: int, machine: Machine) -> tuple[Machine, ...]:
    return (*state.replicas[:r], machine, *state.replicas[r + 1:])


def invoke(config: Config, state: State, c: int) -> tuple[Action, State] | None:
    """Clerk c makes its next call (one at a time): the commit index now is the earliest
    index at which it may take effect."""
    clerk = state.clerks[c]
    if clerk.pending or clerk.seq == len(config.calls[c]):
        return None
    op = config.op(c, clerk.seq + 1)
    return (f"Invoke({op.describe()})",
            replace(state, clerks=_set_clerk(state, c, Clerk(op.seq, True, -1)),
                    calls=(*state.calls, Call(op, fresh=len(state.log)))))


def submit(config: Config, state: State, c: int) -> tuple[Action, State] | None:
    """Clerk c's pending call reaches a leader and commits as the next log entry; again on
    every retry (after a lost reply, a timeout, a leader change), so one call may be in the
    log several times. With ReadIndex, gets never go through the log. With the
    reply-before-apply bug, a leader acknowledges a write right away."""
    clerk = state.clerks[c]
    if not clerk.pending or len(state.log) == config.max_log:
        return None
    op = config.op(c, clerk.seq)
    if config.read_index and op.kind == GET:
        return None
    replies = state.replies
    if config.has_bug("reply-before-apply") and op.kind != GET:
        replies = replies | {Reply(c, op.seq, len(state.log) + 1, None)}
    return (f"Submit({op.describe()} at {len(state.log) + 1})",
            replace(state, log=(*state.log, op), replies=replies))


def apply(config: Config, state: State, r: int) -> tuple[Action, State] | None:
    """Replica r applies its next committed entry (§5.3: in index order, each once), unless
    the duplicate table shows the call executed; a pending call's clerk gets the answer."""
    m = state.replicas[r]
    if m.applied == len(state.log):
        return None
    index = m.applied + 1
    op = state.log[m.applied]
    assert isinstance(m.store, tuple)
    store, dup, outcome = execute(m.store, m.dup, op, dedup=not config.has_bug("no-dup-check"))
    machine = Machine(index, store, dup)
    seen = state.seen if index <= len(state.seen) else (*state.seen, (store, dup))
    effects = state.effects
    replies = state.replies
    if op.kind != "noop":
        effects = effects | {Effect(op.clerk, op.seq, index, outcome.executed)}
        clerk = state.clerks[op.clerk]
        if clerk.pending and clerk.seq == op.seq:
            replies = replies | {Reply(op.clerk, op.seq, index, outcome.output)}
    return (f"Apply(s{r}, {index}: {op.describe()})",
            replace(state, replicas=_set_replica(state, r, machine),
                    seen=seen, effects=effects, replies=replies))


def confirm_read(config: Config, state: State, c: int) -> tuple[Action, State] | None:
    """ReadIndex (§6.4) for clerk c's pending get: a leader that has committed an entry of
    its term takes its commit index — every entry committed so far — and confirms it still
    leads with a heartbeat round a majority acknowledges."""
    clerk = state.clerks[c]
    if not (config.read_index and clerk.pending and clerk.read_index < 0):
        return None
    if config.op(c, clerk.seq).kind != GET:
        return None
    return (f"ConfirmRead(c{c}.{clerk.seq} at {len(state.log)})",
            replace(state, clerks=_set_clerk(state, c, replace(clerk, read_index=len(state.log)))))


def serve_read(config: Config, state: State, c: int, r: int) -> tuple[Action, State] | None:
    """Replica r answers clerk c's pending get from its store, once it has applied through
    the confirmed read index (any replica: a leader, or one it forwards to). With the
    stale-read bug, without any confirmed index."""
    clerk = state.clerks[c]
    if not (config.read_index and clerk.pending):
        return None
    op = config.op(c, clerk.seq)
    m = state.replicas[r]
    if op.kind != GET:
        return None
    if not config.has_bug("stale-read") and not 0 <= clerk.read_index <= m.applied:
        return None
    assert isinstance(m.store, tuple)
    output = value_of(m.store, op.key) or ""
    effect = Effect(c, op.seq, m.applied, False, read=True)
    reply = Reply(c, op.seq, m.applied, output)
    if effect in state.effects and reply in state.replies:
        return None
    return (f"ServeRead(s{r}, c{c}.{op.seq} at {m.applied})",
            replace(state, effects=state.effects | {effect}, replies=state.replies | {reply}))


def receive(config: Config, state: State, reply: Reply) -> Iterator[tuple[Action, State]]:
    """The clerk takes an answer to its pending call and returns; every other answer to that
    call is then stale and dropped (the clerk ignores it)."""
    clerk = state.clerks[reply.clerk]
    if not (clerk.pending and clerk.seq == reply.seq):
        return
    at = next(i for i, call in enumerate(state.calls)
              if (call.op.clerk, call.op.seq) == (reply.clerk, reply.seq))
    call = replace(state.calls[at], returned=True, output=reply.output)
    shown = "" if reply.output is None else f" {reply.output!r}"
    yield (f"Return(c{reply.clerk}.{reply.seq}{shown} from {reply.index})",
           replace(state, clerks=_set_clerk(state, reply.clerk, replace(clerk, pending=False)),
                   calls=(*state.calls[:at], call, *state.calls[at + 1:]),
                   replies=frozenset(p for p in state.replies
                                     if (p.clerk, p.seq) != (reply.clerk, reply.seq))))


def snapshot_at(config: Config, state: State, k: int) -> Machine:
    """The snapshot a replica took after applying through index k (§7): its store and
    duplicate table then — only the store, with the dup-not-in-snapshot bug. Replicas apply
    the one committed log deterministically, so that is the state the log makes through k
    (with the no-dup-check bug, executing every entry). Index 0: no snapshot, nothing."""
    if k == 0:
        return EMPTY
    store, dup = replay(state.log, k, dedup=not config.has_bug("no-dup-check"))
    return Machine(k, store, () if config.has_bug("dup-not-in-snapshot") else dup)


def restart(config: Config, state: State, r: int) -> Iterator[tuple[Action, State]]:
    """Replica r crashes and restarts from its last snapshot — taken after it applied through
    some index k below where it is now (k = 0: it took none, or snapshots are off) — and
    applies the log again from there. The snapshot is one step with the restart: when it was
    taken does not matter, only what it holds."""
    m = state.replicas[r]
    for k in range(m.applied if config.snapshots else min(m.applied, 1)):
        yield (f"Restart(s{r}" + (f" from its snapshot through {k})" if k else ")"),
               replace(state, replicas=_set_replica(state, r, snapshot_at(config, state, k))))


def install(config: Config, state: State, r: int) -> Iterator[tuple[Action, State]]:
    """Replica r, behind, installs a leader's snapshot through index k (InstallSnapshot,
    §7): a leader that applied through k."""
    if not config.snapshots:
        return
    m = state.replicas[r]
    ahead = max(other.applied for other in state.replicas)
    for k in range(m.applied + 1, ahead + 1):
        yield (f"Install(s{r}, a leader's snapshot through {k})",
               replace(state, replicas=_set_replica(state, r, snapshot_at(config, state, k))))


def describe_store(store: Store | str) -> str:
    if isinstance(store, str):
        return f"digest {store}"
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in store) + "}"
