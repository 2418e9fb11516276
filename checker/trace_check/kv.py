"""The key/value service's properties on a `kv` trace: the spec's invariants (`spec.kv`,
written once over a `View`) evaluated on the facts a trace records, in the same pass as the
Raft invariants (`checker.trace_check.check`).

Theory of operation
-------------------
`TraceView` is the `spec.kv.View` a trace provides, built as the trace is read:

* `first_at` — for each applied index, the digest and duplicate table of the first server
  whose state showed it (a server's `state.kv`, recorded after each of its steps);
* the committed log — the command of the first `apply` at each index (Raft's State Machine
  Safety, checked on the same applies, makes every later one the same) — replayed with the
  spec's own execution rule (`spec.kv.step_call`: the sequential kv model, each call once),
  keeping per key the indexes where its value changed, so that `value_at` is one bisection;
* `effects_of` — every index where a call was applied (`apply`, with `executed`) or read by
  ReadIndex (`read`);
* the clerks' calls — `invoke` gives a call its (clerk, seq) and the commit index then (the
  highest `commit_index` any server's state showed so far: what was committed when the call
  began); `return` its output;
* `acked_through` — per clerk, the acknowledged writes by the index where each executed.

`KvJudge` feeds it and evaluates only the instances a step touched: a server's state machine
(ReplicasAgree, NoAckedWriteLost) when its `state.kv` changes; a call (NoCallAppliedTwice,
NoStaleRead, ReplyMatchesState) when it takes effect or returns; every live server's state
machine against NoAckedWriteLost when a write is acknowledged. The order of a server's step
in a trace — its state, then its applies and reads, then its replies — means every fact an
instance reads is recorded before the instance is judged.

What is bad input here (a `kv` server state without `kv`, a value of the wrong type, a
command that is not `[kind, key, value, clerk, seq]`) raises `BadInput`; a `kv` state whose
values break the format's relations (`applied` is not `last_applied`, an inline `store` whose
digest or key count is not the one shown) is a WellFormedState violation, as for Raft.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeGuard

from impl.kv.node import store_digest
from spec import kv as spec
from spec.errors import BadInput
from spec.kv import GET, NOOP, Call, Dup, Effect, Machine, Op, Store

Report = Callable[[str, int, int, tuple[int, ...], str, tuple[int, ...], str], None]
KINDS = (*spec.CALL_KINDS, NOOP)
EMPTY_DIGEST = store_digest({})


class TraceView:
    """The `spec.kv.View` of a trace, as far as it has been read."""

    def __init__(self) -> None:
        # index -> (digest, dup) first shown there, and by whom, on which line
        self.first: dict[int, tuple[str, Dup]] = {0: (EMPTY_DIGEST, ())}
        self.first_by: dict[int, tuple[int, int]] = {0: (-1, 0)}
        self.log: dict[int, Op] = {}
        self.log_line: dict[int, int] = {}
        self.replayed = 0
        self._changes: dict[str, tuple[list[int], list[str]]] = {}
        self._last_seq: dict[int, int] = {}
        self.effects: dict[tuple[int, int], list[Effect]] = {}
        self.effect_lines: dict[tuple[int, int], list[int]] = {}
        # clerk -> its acknowledged writes' indexes (sorted), and the highest seq through each
        self._acked_at: dict[int, list[int]] = {}
        self._acked_max: dict[int, list[int]] = {}
        self._acked: dict[int, list[tuple[int, int]]] = {}  # clerk -> sorted (index, seq)

    # ---- spec.kv.View

    def first_at(self, index: int) -> tuple[Store | str, Dup] | None:
        return self.first.get(index)

    def known_through(self) -> int:
        return self.replayed

    def value_at(self, index: int, key: str) -> str | None:
        changes = self._changes.get(key)
        if changes is None:
            return None
        indexes, values = changes
        at = bisect.bisect_right(indexes, index)
        return values[at - 1] if at else None

    def effects_of(self, clerk: int, seq: int) -> Sequence[Effect]:
        return self.effects.get((clerk, seq), ())

    def acked_through(self, clerk: int, index: int) -> int:
        indexes = self._acked_at.get(clerk)
        if indexes is None:
            return 0
        at = bisect.bisect_right(indexes, index)
        return self._acked_max[clerk][at - 1] if at else 0

    def clerk_ids(self) -> Iterable[int]:
        return self._acked.keys()

    # ---- recording

    def commit(self, index: int, op: Op, line: int) -> bool:
        """The first apply of `index`; False if an earlier index is still unknown."""
        if index in self.log:
            return True
        self.log[index] = op
        self.log_line[index] = line
        while self.replayed + 1 in self.log:
            self._replay(self.log[self.replayed + 1])
        return index <= self.replayed

    def _replay(self, op: Op) -> None:
        index = self.replayed + 1
        self.replayed = index
        if op.kind == NOOP:
            return
        value = self.value_at(index, op.key)
        new, seq, _ = spec.step_call(value, self._last_seq.get(op.clerk, 0), op)
        self._last_seq[op.clerk] = seq
        if new != value:
            assert new is not None
            indexes, values = self._changes.setdefault(op.key, ([], []))
            indexes.append(index)
            values.append(new)

    def acknowledge(self, clerk: int, seq: int) -> bool:
        """Acknowledged write (clerk, seq): counted from the first index it executed at;
        False if it has executed nowhere (yet)."""
        executed = [e.index for e in self.effects_of(clerk, seq) if e.executed]
        if not executed:
            return False
        acked = self._acked.setdefault(clerk, [])
        entry = (min(executed), seq)
        if not acked or entry > acked[-1]:  # the usual case: a clerk's calls in order
            acked.append(entry)
            best = self._acked_max.setdefault(clerk, [])
            best.append(max(seq, best[-1]) if best else seq)
            self._acked_at.setdefault(clerk, []).append(entry[0])
            return True
        bisect.insort(acked, entry)
        self._acked_at[clerk] = [at for at, _ in acked]
        running = 0
        self._acked_max[clerk] = [running := max(running, q) for _, q in acked]
        return True


class KvJudge:
    """Judges the KV properties on a trace, event by event; violations go to `report`
    (the Raft checker's, so that both share one list, one limit and one rendering)."""

    def __init__(self, path: str, report: Report) -> None:
        self.path = path
        self.report = report
        self.view = TraceView()
        self.machines: dict[int, Machine] = {}  # live servers' state machines
        self.machine_line: dict[int, int] = {}
        self.raw: dict[int, object] = {}  # each live server's last `kv` object
        self.calls: dict[tuple[int, int], Call] = {}
        self.call_ids: dict[int, tuple[int, int]] = {}  # trace `call` -> (clerk, seq)
        self.call_lines: dict[tuple[int, int], list[int]] = {}
        self.acked: set[tuple[int, int]] = set()  # writes acknowledged
        self.max_commit = 0
        self.returns = 0

    # ---- server states

    def commit_index(self, commit_index: int) -> None:
        self.max_commit = max(self.max_commit, commit_index)

    def state(self, node: int, state: dict[str, Any], line: int, seq: int) -> list[str]:
        """A server's state after its step: judge its state machine if it changed. Returns
        the format rules its `kv` object breaks (for WellFormedState)."""
        raw = state.get("kv")
        if raw is None:
            raise BadInput("state: a kv server's state needs \"kv\" (applied, keys, digest, "
                           "dup)", self.path, line)
        if raw == self.raw.get(node):
            return []
        machine, broken = self._machine(raw, state, line)
        self.raw[node] = raw
        self.machines[node] = machine
        self.machine_line[node] = line
        view = self.view
        if machine.applied not in view.first:
            assert isinstance(machine.store, str)
            view.first[machine.applied] = (machine.store, machine.dup)
            view.first_by[machine.applied] = (node, line)
        self._judge_machine(node, machine, line, seq)
        return broken

    def crash(self, node: int) -> None:
        self.machines.pop(node, None)
        self.raw.pop(node, None)

    def _judge_machine(self, node: int, machine: Machine, line: int, seq: int,
                       only: str = "") -> None:
        view = self.view
        if not only and not spec.replicas_agree(view, machine):
            first = view.first[machine.applied]
            by, by_line = view.first_by[machine.applied]
            self.report("ReplicasAgree", line, seq, (node, by),
                        f"s{node} applied through index {machine.applied} holds store "
                        f"{machine.store} and duplicate table {_dup(machine.dup)}, but s{by} "
                        f"held {first[0]} and {_dup(first[1])} there",
                        (by_line, line), "")
        if not spec.no_acked_write_lost(view, machine):
            lost = next((c, view.acked_through(c, machine.applied)) for c in view.clerk_ids()
                        if spec.seq_of(machine.dup, c) < view.acked_through(c, machine.applied))
            self.report("NoAckedWriteLost", line, seq, (node,),
                        f"s{node} applied through index {machine.applied}, past acknowledged "
                        f"write c{lost[0]}#{lost[1]}, but its duplicate table shows clerk "
                        f"{lost[0]} at seq {spec.seq_of(machine.dup, lost[0])}: the write is "
                        "not in its store",
                        (*self.call_lines.get(lost, ())[-1:], self.machine_line[node]), "")

    def _machine(self, raw: Any, state: dict[str, Any], line: int) -> tuple[Machine, list[str]]:
        try:
            applied, keys, digest, table = raw["applied"], raw["keys"], raw["digest"], raw["dup"]
        except (KeyError, TypeError) as e:
            raise BadInput(f"state.kv: missing or bad key {e}; expected applied, keys, digest, "
                           "dup", self.path, line) from None
        if not (_is_int(applied) and applied >= 0 and _is_int(keys) and keys >= 0):
            raise BadInput("state.kv: applied and keys must be integers ≥ 0", self.path, line)
        if not (isinstance(digest, str) and len(digest) == 16
                and all(ch in "0123456789abcdef" for ch in digest)):
            raise BadInput(f"state.kv: digest {digest!r} is not 16 hex digits", self.path, line)
        if not (isinstance(table, dict) and all(
                k.isdigit() and _is_int(v) and v >= 1 for k, v in table.items())):
            raise BadInput("state.kv: dup must map clerk ids (strings of digits) to sequence "
                           "numbers ≥ 1", self.path, line)
        store = raw.get("store")
        if store is not None and not (isinstance(store, dict) and all(
                isinstance(v, str) for v in store.values())):
            raise BadInput("state.kv: store must map keys to strings", self.path, line)
        broken = []
        if applied != state.get("last_applied", applied):
            broken.append(f"kv.applied {applied} is not last_applied {state['last_applied']}")
        if store is not None and store_digest(store) != digest:
            broken.append(f"kv.digest {digest} is not the digest of kv.store "
                          f"({store_digest(store)})")
        if store is not None and len(store) != keys:
            broken.append(f"kv.keys {keys} is not the size of kv.store ({len(store)})")
        dup = tuple(sorted((int(k), v) for k, v in table.items()))
        return Machine(applied, digest, dup), broken

    # ---- applies and reads

    def apply(self, node: int, rec: dict[str, Any], line: int, seq: int) -> None:
        if rec.get("kind") != "command":
            return
        index, executed = rec.get("index"), rec.get("executed")
        if not (_is_int(index) and index >= 1 and isinstance(executed, bool)):
            raise BadInput("apply: a kv command's apply needs index ≥ 1 and executed "
                           "(true/false)", self.path, line)
        op = self._op(rec.get("command"), "apply", line)
        self.view.commit(index, op, line)
        if op.kind != NOOP:
            self._took_effect(node, op, Effect(op.clerk, op.seq, index, executed), line, seq)

    def read(self, node: int, rec: dict[str, Any], line: int, seq: int) -> None:
        index = rec.get("index")
        if not (_is_int(index) and index >= 0 and isinstance(rec.get("output"), str)):
            raise BadInput("read: needs index ≥ 0 and output (a string)", self.path, line)
        op = self._op(rec.get("command"), "read", line)
        if op.kind != GET:
            raise BadInput(f"read: the command is a {op.kind}; expected a get", self.path, line)
        self._took_effect(node, op, Effect(op.clerk, op.seq, index, False, read=True), line, seq)

    def _took_effect(self, node: int, op: Op, effect: Effect, line: int, seq: int) -> None:
        ident = (op.clerk, op.seq)
        effects = self.view.effects.setdefault(ident, [])
        if effect in effects:
            return  # another replica applied the same entry: nothing new
        effects.append(effect)
        self.view.effect_lines.setdefault(ident, []).append(line)
        call = self.calls.get(ident) or Call(op, fresh=0)
        self._judge_call(call, ("NoCallAppliedTwice", "NoStaleRead"), line, seq)
        if effect.executed and ident in self.acked and self.view.acknowledge(*ident):
            self.acked.discard(ident)  # acknowledged before it executed: counted from now
            self._judge_acked_writes(line, seq)

    # ---- clerk calls

    def invoke(self, rec: dict[str, Any], line: int) -> None:
        op, call = rec.get("op"), rec.get("call")
        if not isinstance(op, dict) or op.get("type") not in spec.CALL_KINDS:
            return  # not a key/value call
        kind: str = op["type"]
        key, value, clerk, q = op.get("key"), op.get("value"), op.get("clerk"), op.get("seq")
        if not (isinstance(key, str) and (kind == GET or isinstance(value, str))
                and _is_int(clerk) and _is_int(q) and q >= 1 and _is_int(call)):
            raise BadInput(f"invoke: a {kind} needs call, op.key and op.clerk, op.seq ≥ 1"
                           f"{'' if kind == GET else ' and op.value'} of the right types",
                           self.path, line)
        ident = (clerk, q)
        self.calls[ident] = Call(Op(kind, key, None if kind == GET else value, clerk, q),
                                 fresh=self.max_commit)
        self.call_ids[call] = ident
        self.call_lines[ident] = [line]

    def returned(self, rec: dict[str, Any], line: int, seq: int) -> None:
        ident = self.call_ids.pop(rec.get("call"), None)  # type: ignore[arg-type]
        if ident is None:
            return  # not a key/value call of this trace
        call = self.calls[ident]
        output = rec.get("output")
        value = output.get("value") if isinstance(output, dict) else None
        if call.op.kind == GET and not isinstance(value, str):
            raise BadInput("return: a get's output needs value (a string)", self.path, line)
        self.returns += 1
        call = Call(call.op, call.fresh, True, value if call.op.kind == GET else None)
        self.calls[ident] = call
        self.call_lines[ident].append(line)
        self._judge_call(call, ("ReplyMatchesState", "NoStaleRead"), line, seq)
        if call.op.kind != GET:
            if self.view.acknowledge(*ident):
                self._judge_acked_writes(line, seq)
            else:
                self.acked.add(ident)

    def _judge_acked_writes(self, line: int, seq: int) -> None:
        """A write is now acknowledged (and executed): every live server's state machine."""
        for node, machine in self.machines.items():
            self._judge_machine(node, machine, line, seq, only="NoAckedWriteLost")

    def _judge_call(self, call: Call, names: tuple[str, ...], line: int, seq: int) -> None:
        view = self.view
        ident = (call.op.clerk, call.op.seq)
        effects = view.effects_of(*ident)
        lines = (*self.call_lines.get(ident, ()), *view.effect_lines.get(ident, ()))
        who = f"c{ident[0]}#{ident[1]} ({call.op.kind} {call.op.key!r})"
        for name in names:
            if spec.BY_NAME[name].holds(view, call):
                continue
            if name == "NoCallAppliedTwice":
                at = sorted({e.index for e in effects if e.executed})
                detail = f"{who} executed at indexes {at}"
            elif name == "NoStaleRead":
                low = min(e.index for e in effects)
                detail = (f"{who} took effect at index {low}, below the commit index "
                          f"{call.fresh} when it was invoked")
            elif call.op.kind != GET:
                detail = f"{who} was acknowledged, but no server executed it"
            elif not effects:
                detail = (f"{who} returned {call.output!r}, but took effect at no index: no "
                          "server applied it or read it by ReadIndex")
            else:
                made = {e.index: view.value_at(e.index, call.op.key) or ""
                        for e in effects if e.index <= view.known_through()}
                detail = (f"{who} returned {call.output!r}, but where it took effect the log "
                          f"makes {', '.join(f'{v!r} (index {i})' for i, v in made.items())}")
            self.report(name, line, seq, (), detail, (*lines[:1], *lines[1:][-3:]),
                        f"c{ident[0]}#{ident[1]}")

    def _op(self, command: Any, what: str, line: int) -> Op:
        if not (isinstance(command, list) and len(command) == 5 and command[0] in KINDS
                and isinstance(command[1], str) and (command[2] is None or
                                                     isinstance(command[2], str))
                and _is_int(command[3]) and _is_int(command[4])):
            raise BadInput(f"{what}: command must be [kind (get|put|append|noop), key, value "
                           "(a string or null), clerk, seq]", self.path, line)
        return Op(*command)


def _dup(dup: Dup) -> str:
    return "{" + ", ".join(f"{c}: {q}" for c, q in dup) + "}"


def _is_int(x: object) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)
