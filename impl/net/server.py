"""One server of a replicated service as a real process: the same core the simulator runs — the
key/value store's `KVServer`, the shard controller's, a shard group's — driven by asyncio over
TCP, its Raft state on disk (DESIGN.md section 1, driver 3). What differs between the services
is the `Service` the server hosts (impl.net.service, impl.net.sharded).

Theory of operation
-------------------
`NetServer` recovers the server's Raft state and snapshot from its directory
(impl.storage), builds the core from them, listens on its address from the cluster file,
and keeps an outbound link to every peer (impl.net.links). Every input — a peer's message,
a clerk's request, a timer — is one step of the core, and the `ServerEffects` it returns
are carried out in the order impl.rsm.effects requires, with one difference of timing that
the contract allows: group commit.

* The step's `persist` is *staged* at once (encoded; RaftStorage.stage), giving a sequence
  number. Everything else the step produced — Raft's messages, replies to clerks — is held
  until a flush has made that number durable; a step with nothing to persist waits behind
  the steps before it, so outputs leave in the order the steps made them and none before
  the state it depends on is on disk.
* One flusher task runs while anything is staged: it hands `flush` (one write, one fsync
  for every record staged since the last) to an I/O thread and, when it returns, releases
  the held outputs it covered. While the disk works, the event loop keeps stepping the core
  on new input, so the next fsync covers all of those steps at once: the entries of many
  concurrent requests cost one fsync.
* Parallel write (`ServerSettings.parallel_write`, on by default; Raft thesis §10.2.1): a
  leader's AppendEntries the core marks `early` leave at once instead of being held, so the
  followers write the entries while the leader's own fsync runs. When a flush returns, the
  driver reports the state it made durable to the core (`persisted`) right after releasing
  what it covered: the leader counts itself in a commit majority only through what its disk
  holds, and a commit this makes is one more step (traced as `durable`). The service's
  replies then leave at once too (`ServerSettings.early_replies`): they depend only on
  committed state, which is on a majority of durable logs whatever this server's disk
  holds (impl.rsm.effects), so a put's reply does not wait for the leader's own fsync
  when the two followers' copies committed it first.
* Timers are set at once: they are local to the process, and a timeout that fires while
  outputs are held is just another step, whose outputs queue behind.
* A crash (kill -9) loses what was staged but not flushed; nothing that depended on it
  had left the process.
* A service whose core calls other servers by name (a shard group's server polls the
  controller and hands shards to other groups) sends those requests on client connections of
  its own (impl.net.links.NamedLinks, the addresses from the cluster file); their answers are
  steps of the core from that name.
* Gets by ReadIndex (`ServerSettings.read_index`, on by default): the core confirms a read
  with a heartbeat round and answers from the store; its reply is held like any other
  output, and its `Read` event is traced as a `read` before the reply's send.

Tracing (`--trace`) writes the events of the `kv` trace format, wall-clock milliseconds
since the Unix epoch, one file per incarnation (`trace-s<id>-<incarnation>.jsonl`); message
ids are this incarnation's own, so `dscheck check-trace` merges the files of a cluster by
(sender, id). Trace lines reach the file before the messages they describe leave. A state
writes the log as `log_runs` (runs of one term), as the simulator's key/value servers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import os
import random
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from impl.files import write_atomically
from impl.kv.node import LogRuns
from impl.net.cluster import Address
from impl.net.links import Faults, Framed, NamedLinks, PeerLink
from impl.net.service import KVService, NamedTrace, Service
from impl.net.wire import (
    MAX_FRAME,
    RAFT_MESSAGES,
    WireError,
    read_hello,
    read_numbered,
)
from impl.raft.core import RaftConfig, Role
from impl.raft.effects import HardState, SetTimer, TimerOp
from impl.raft.messages import AppendEntries, InstallSnapshot, RequestVote
from impl.rsm.effects import ServerEffects
from impl.storage import CorruptStorage, OsDisk, RaftStorage
from impl.trace import TraceWriter
from spec.errors import BadInput

INCARNATION = "incarnation"
LOCK = "lock"


_STOPPING = (signal.SIGTERM, signal.SIGINT)  # the signals that stop a server
_RAFT = frozenset(RAFT_MESSAGES.values())
FlushMode = Literal["auto", "loop", "thread"]
FLUSH_MODES: tuple[FlushMode, ...] = ("auto", "loop", "thread")
LIGHT_FLUSH = 200  # bytes: a write this small holds one put's entry, no batch (auto flush)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    node: int  # this server's id in its Raft group (its line in the group's list)
    cluster: tuple[Address, ...]  # its Raft group: its own servers, in id order
    directory: Path
    bind: str | None = None  # None: the host the cluster file gives this server
    maxraftstate: int = 1 << 20  # bytes of Raft state on disk that call for a snapshot
    trace: Path | None = None  # a directory for this server's trace files
    allow_faults: bool = False  # accept fault injection on admin connections (tests)
    max_frame: int = MAX_FRAME
    seed: int | None = None  # the election timeouts' generator (None: from the OS)
    # Gets by ReadIndex (Raft thesis §6.4): answered from the store after a heartbeat round a
    # majority answered, with no log entry and so no fsync; off: a get goes through the log.
    read_index: bool = True
    # The leader's disk write in parallel with replication (RaftConfig.parallel_write): its
    # AppendEntries leave before its own fsync; off: they wait for it, as everything else does.
    parallel_write: bool = True
    # Where fsyncs run: "auto" (default) in the event loop's thread while writes are small
    # (light load: nothing to overlap with), on the I/O thread under concurrent load;
    # "loop" always in the loop; "thread" always on the I/O thread (NetServer._flush_in_loop).
    flush: FlushMode = "auto"
    # Under parallel write, the service's replies leave as soon as their step made them, not
    # behind this server's pending flush (impl/raft/effects.py, rule 2); off: held like
    # everything else (the strict order, for A/B comparisons). Ignored without parallel write.
    early_replies: bool = True
    raft: RaftConfig = field(default_factory=lambda: RaftConfig(strict_flow_control=True,
                                                                batch_reads=True))
    service: Service = field(default_factory=KVService)  # what the group runs
    name: str | None = None  # the server's name in a sharded cluster (logs, traces)

    def __post_init__(self) -> None:
        if not 0 <= self.node < len(self.cluster):
            raise BadInput(f"server id {self.node} is not in the cluster file's "
                           f"0..{len(self.cluster) - 1}")


class NetServer:
    def __init__(self, settings: ServerSettings, log: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.id = settings.node
        self.service = settings.service
        self._log_fn = log or _stderr
        self.decoder = self.service.decoder()
        self.faults = Faults()
        self._rng = random.Random(settings.seed)
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._held: deque[tuple[int, list[tuple[Any, Any]]]] = deque()
        # Parallel write: the states staged and not yet reported durable, by sequence number.
        self._unreported: deque[tuple[int, HardState]] = deque()
        self._durable = 0
        # Only under parallel write does a commit never count this server's non-durable log.
        self._early_replies = settings.early_replies and settings.parallel_write
        self._flushing = False
        self._last_flush_bytes = 0  # the size of the last flush's write
        self._flushes = 0  # group commit's figures, for `dscheck cluster status`
        self._flush_seconds = 0.0
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"fsync-s{self.id}")
        self._clients: dict[str, Framed] = {}
        self._clerk_of: dict[str, str] = {}  # connection token -> the clerk's trace name
        self._next_client = 0
        self._next_id = 0
        self._links: dict[int, PeerLink] = {}
        self._named: NamedLinks | None = None  # the service's calls to other servers
        self._stopped: asyncio.Future[int] | None = None
        self._trace: TraceWriter | None = None
        self._trace_file: IO[str] | None = None
        self._runs = LogRuns()
        self.incarnation = 0
        self._lock_fd: int | None = None

    def log(self, text: str) -> None:
        self._log_fn(f"{self.settings.name or f'server {self.id}'}: {text}")

    # ------------------------------------------------------------------ start and stop
    def _open_directory(self) -> tuple[Any, bytes]:
        directory = self.settings.directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise BadInput(f"cannot use as a server directory: {error.strerror}",
                           str(directory)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise BadInput("another server is running on this directory",
                           str(directory)) from None
        self._lock_fd = fd
        counter = directory / INCARNATION
        try:
            text = counter.read_text(encoding="ascii").strip() if counter.exists() else "0"
            self.incarnation = int(text) + 1
        except (OSError, ValueError, UnicodeDecodeError):
            raise BadInput("the incarnation counter is damaged", str(counter)) from None
        write_atomically(counter, f"{self.incarnation}\n")
        self.storage = RaftStorage(OsDisk(directory), self.service.decode_command)
        try:
            recovered = self.storage.recover()
        except CorruptStorage as error:
            raise BadInput(f"cannot recover: {error}", str(directory)) from None
        for note in recovered.notes:
            self.log(f"recovery: {note}")
        return recovered.state, recovered.snapshot

    async def run(self, ready: Callable[[Address], None] | None = None) -> int:
        """Serve until stopped (SIGTERM, SIGINT, or `stop()`); returns the exit status."""
        loop = asyncio.get_running_loop()
        self._stopped = loop.create_future()
        restored, snapshot = self._open_directory()
        settings = self.settings
        raft = dataclasses.replace(settings.raft, parallel_write=settings.parallel_write)
        self.core = self.service.build(self.id, range(len(settings.cluster)), self.storage,
                                       settings.maxraftstate, raft, settings.read_index,
                                       restored, snapshot)
        me = self.settings.cluster[self.id]
        host = self.settings.bind or me.host
        try:
            server = await loop.create_server(self._accept, host, me.port)
        except OSError as error:
            raise BadInput(f"cannot listen on {host}:{me.port}: "
                           f"{error.strerror or error}") from None
        for sig in _STOPPING:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        self._open_trace()
        for peer, address in enumerate(self.settings.cluster):
            if peer != self.id:
                link = PeerLink(self.id, peer, address, self.log)
                self._links[peer] = link
                link.start()
        destinations = dict(self.service.destinations())
        if destinations:
            self._named = NamedLinks(destinations, self._from_service, self.log,
                                     self.settings.max_frame)
        effects = self.core.boot()
        if self._trace is not None:
            self._trace.event(self.id, "restart", state=self._state())
        self._carry_out(effects)
        self.log(f"incarnation {self.incarnation} listening on {host}:{me.port} "
                 f"(log from index {self.core.raft.snapshot_index + 1} to "
                 f"{self.core.raft.last_index}, term {self.core.raft.term})")
        if ready is not None:
            ready(me)
        try:
            status = await self._stopped
        finally:
            for sig in _STOPPING:  # the handler goes with the server (run_loop restores)
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            server.close()
            for link in self._links.values():
                await link.close()
            if self._named is not None:
                await self._named.close()
            for timer in self._timers.values():
                timer.cancel()
            for conn in list(self._clients.values()):
                conn.close()
            # Whatever is staged is made durable before leaving (a clean stop loses nothing).
            await loop.run_in_executor(self._io, self.storage.flush)
            self._io.shutdown(wait=True)
            self.storage.disk.close()
            if self._trace_file is not None:
                self._trace_file.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
        return status

    def stop(self, status: int = 0) -> None:
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(status)

    def _fail(self, error: BaseException) -> None:
        """An error the server cannot go on after (the disk failed): stop, loudly."""
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_exception(error)

    # ------------------------------------------------------------------ connections
    def _accept(self) -> Framed:
        return Framed(self._on_frame, self._on_lost, self.log, self.settings.max_frame)

    def _on_lost(self, conn: Framed) -> None:
        if isinstance(conn.state, str):
            self._clients.pop(conn.state, None)
            self._clerk_of.pop(conn.state, None)

    def _on_frame(self, conn: Framed, payload: Any) -> None:
        if conn.state is None:
            role, sender = read_hello(payload)
            if role == "peer":
                assert sender is not None
                if not 0 <= sender < len(self.settings.cluster) or sender == self.id:
                    raise WireError(f"hello from peer {sender}, who is not another server of "
                                    "this cluster")
                conn.state = sender
            elif role == "client":
                self._next_client += 1
                token = f"c{self._next_client}"
                conn.state = token
                self._clients[token] = conn
            else:
                conn.state = ("admin",)
            return
        if isinstance(conn.state, int):
            self._from_peer(conn.state, payload)
        elif isinstance(conn.state, str):
            self._from_client(conn.state, payload)
        else:
            self._from_admin(conn, payload)

    def _from_peer(self, peer: int, payload: Any) -> None:
        msg_id, wire = read_numbered(payload)
        message = self.decoder.decode(wire)
        if type(message) not in _RAFT:
            raise WireError("a message other than Raft's on a peer connection")
        sender = (message.candidate if isinstance(message, RequestVote) else
                  message.leader if isinstance(message, AppendEntries | InstallSnapshot)
                  else peer)
        if sender != peer:
            raise WireError(f"peer {peer} sent a message in the name of {sender}")
        if not self._dropped(peer, msg_id):
            self._step(peer, peer, msg_id, message)

    def _from_client(self, token: str, payload: Any) -> None:
        msg_id, wire = read_numbered(payload)
        message = self.decoder.decode(wire)
        if type(message) not in self.service.requests:
            raise WireError(f"a {wire[0]} on a client's connection")
        clerk = getattr(message, "clerk", None)  # a server's request (a shard) names none
        name = f"ck{clerk}" if clerk is not None else token
        self._clerk_of[token] = name
        self._step(token, name, msg_id, message)

    def _from_service(self, name: str, payload: Any) -> None:
        """An answer to one of the service's own requests, on its connection to `name`."""
        msg_id, wire = read_numbered(payload)
        if self._dropped(name, msg_id):
            return
        message = self.decoder.decode(wire)
        if type(message) not in self.service.replies:
            raise WireError(f"a {wire[0]} in answer to a server's request")
        self._step(name, name, msg_id, message)

    def _dropped(self, source: int | str, msg_id: Any) -> bool:
        """Does the fault layer drop what `source` sent (traced as a drop when it does)?"""
        reason = self.faults.reason_in(source)
        if reason is not None and self._trace is not None:
            self._trace.event(self.id, "drop", **{"from": source}, to=self.id, id=msg_id,
                              reason=reason)
        return reason is not None

    def _step(self, source: Any, name: int | str, msg_id: Any, message: Any) -> None:
        """Hand `message` from `source` to the core, trace its receipt under `name`, and
        carry out the effects."""
        effects = self.core.step(source, message)
        if self._trace is not None:
            self._trace.event(self.id, "receive", **{"from": name}, id=msg_id,
                              msg=message.trace(), state=self._state())
        self._carry_out(effects)

    def _from_admin(self, conn: Framed, payload: Any) -> None:
        if type(payload) is not list or not payload or type(payload[0]) is not str:
            raise WireError("an admin request is [name, ...]")
        if payload[0] == "status":
            conn.send(["status", self.status()])
        elif payload[0] == "faults":
            if not self.settings.allow_faults:
                conn.send(["error", "fault injection is off (start the server with --faults)"])
                return
            self._set_faults(payload)
            conn.send(["faults", self.faults.describe()])
        else:
            raise WireError(f"unknown admin request {payload[0]!r}")

    def _set_faults(self, payload: list[Any]) -> None:
        if len(payload) != 2 or type(payload[1]) is not dict:
            raise WireError("faults takes one map: {blocked: [ids or names], loss: p}")
        spec = payload[1]
        blocked = spec.get("blocked", [])
        loss = spec.get("loss", 0.0)
        names = set(self.service.destinations())
        if (type(blocked) is not list
                or not all(type(p) is int or (type(p) is str and p in names) for p in blocked)
                or type(loss) not in (int, float) or not 0 <= loss <= 1):
            raise WireError("faults: blocked must be a list of server ids or the names of "
                            "servers this one calls, loss in [0, 1]")
        self.faults.blocked = frozenset(blocked)
        self.faults.loss = float(loss)
        self.log(f"faults now {self.faults.describe()}")
        if self._trace is not None:
            self._trace.event("tester", "network", action="faults",
                              args={"node": self.id, **self.faults.describe()})

    def status(self) -> dict[str, Any]:
        raft = self.core.raft
        return {"id": self.id, "incarnation": self.incarnation, "role": raft.role.value,
                "term": raft.term, "leader": raft.leader_id,
                "commit_index": raft.commit_index, "last_applied": raft.last_applied,
                "last_index": raft.last_index, "snapshot_index": raft.snapshot_index,
                **self.service.status(self.core), "staged": self.storage.staged,
                "durable": self._durable, "raft_state_bytes": self.storage.size(),
                # Group commit: flushes (one write + fsync each) and the time they took as
                # the event loop saw it (thread hand-offs included), since this start;
                # `durable` / `flushes` is the number of states each fsync made durable.
                "flushes": self._flushes, "flush_seconds": round(self._flush_seconds, 6),
                "pid": os.getpid()}

    # ------------------------------------------------------------------ timers
    def _set_timers(self, ops: tuple[TimerOp, ...]) -> None:
        loop = asyncio.get_running_loop()
        for op in ops:
            old = self._timers.pop(op.name, None)
            if old is not None:
                old.cancel()
            if isinstance(op, SetTimer):
                delay = op.low_ms if op.low_ms == op.high_ms else self._rng.randint(op.low_ms,
                                                                                    op.high_ms)
                self._timers[op.name] = loop.call_later(delay / 1000, self._on_timer, op.name)

    def _on_timer(self, name: str) -> None:
        self._timers.pop(name, None)
        effects = self.core.timeout(name)
        if self._trace is not None:
            self._trace.event(self.id, "timer", timer=name, state=self._state())
        self._carry_out(effects)

    # ------------------------------------------------------------------ effects, group commit
    def _carry_out(self, effects: ServerEffects) -> None:
        try:
            need = (self.storage.stage(effects.persist, self.core.raft.log_cuts)
                    if effects.persist is not None else self.storage.staged)
        except (ValueError, TypeError) as error:  # a command msgpack cannot encode: a bug
            self._fail(error)
            return
        if effects.persist is not None and self.settings.parallel_write:
            self._unreported.append((need, effects.persist.state))
        self._set_timers(effects.timers)
        out: list[tuple[Any, Any]] = []
        early: list[tuple[Any, Any]] = []
        trace = self._trace
        for send in effects.messages:
            msg_id = self._message_id()
            if trace is not None:
                trace.event(self.id, "send", to=send.to, id=msg_id, rpc=send.message.rpc,
                            bytes=0, msg=send.message.trace())
            # A leader's AppendEntries under parallel write (the only `early` sends) go now,
            # ahead of this step's persist and of everything held; all else keeps its turn.
            (early if send.early else out).append((send.to, [msg_id, send.message.wire()]))
        if early:
            self._release(early)
        if trace is not None:
            for event in effects.events:
                self._trace_event(event)
        # The service's outputs (replies to clerks, a server's own calls) depend only on what
        # is committed, which under parallel write is on a majority of durable logs whatever
        # this server's disk holds: they leave at once (rule 2 of impl/raft/effects.py).
        replies: list[tuple[Any, Any]] = [] if self._early_replies else out
        for reply in effects.replies:
            msg_id = self._message_id()
            if trace is not None:
                trace.event(self.id, "send", to=self._clerk_of.get(str(reply.to), str(reply.to)),
                            id=msg_id, rpc="reply", bytes=0, msg=reply.message.trace())
            replies.append((reply.to, [msg_id, reply.message.wire()]))
        if replies is not out and replies:
            self._release(replies)
        if not out:
            if need > self._durable:
                self._start_flusher()
            return
        if need <= self._durable and not self._held:
            self._release(out)
            return
        self._held.append((need, out))
        self._start_flusher()

    def _message_id(self) -> int:
        # Unique per server across incarnations: traces of restarts merge without clashes.
        self._next_id += 1
        return (self.incarnation << 32) | self._next_id

    def _start_flusher(self) -> None:
        """Make what is staged durable, now or on the I/O thread (`ServerSettings.flush`)."""
        if self._flushing:
            return
        self._flushing = True
        loop = asyncio.get_running_loop()
        if self._flush_in_loop():
            # After the callbacks already queued (the rest of the frames read with this
            # one), so that one fsync covers them all.
            loop.call_soon(self._flush_here)
        else:
            self._submit_flush(loop)

    def _flush_in_loop(self) -> bool:
        """Whether the next flush runs in the event loop's thread. A hand-off to the I/O
        thread and back costs two thread wake-ups (and the thread's wait for the GIL) on the
        path of a put: 50-170 us each on this machine (bench/put_path.py). It pays only when
        the loop has other work to do while the disk works. "auto" flushes in the loop when
        the write is small (this one and the last at most LIGHT_FLUSH bytes: one put's
        entry, no concurrent batch) — except a leader writing in parallel with replication:
        its own fsync is off a put's path only if the loop stays free to count the
        followers' answers meanwhile (on a shared disk one fsync sometimes takes
        milliseconds, and two followers make a majority without it). Under concurrent load
        writes are batches and go to the thread, so that stepping overlaps the disk (measured:
        flushing every batch in the loop lost 28-43% of the throughput at 16-64 clients)."""
        mode = self.settings.flush
        if mode != "auto":
            return mode == "loop"
        if self.settings.parallel_write and self.core.raft.role is Role.LEADER:
            return False
        return self.storage.unflushed <= LIGHT_FLUSH and self._last_flush_bytes <= LIGHT_FLUSH

    def _flush_here(self) -> None:
        """The flush in the event loop's thread: no hand-off to a thread and back (two
        wake-ups, and the I/O thread's wait for the GIL) on the path of every put. A
        follower has nothing to do meanwhile: the leader sends it one batch at a time
        (strict flow control) and it may answer only once the batch is durable."""
        try:
            while self.storage.staged > self._durable:
                began = time.perf_counter()
                self._last_flush_bytes = self.storage.unflushed
                self._flushed(self.storage.flush(), began)
        except OSError as error:
            self._disk_failed(error)
        finally:
            self._flushing = False

    def _submit_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """The flush on the I/O thread, so that the loop goes on stepping the core meanwhile
        (a leader: new requests, answers) and the next flush covers all those steps."""
        began = time.perf_counter()
        self._last_flush_bytes = self.storage.unflushed  # about: more may come meanwhile
        future = loop.run_in_executor(self._io, self.storage.flush)

        def done(future: asyncio.Future[int]) -> None:
            again = False
            try:
                self._flushed(future.result(), began)
                again = self.storage.staged > self._durable  # staged meanwhile: flush again
            except OSError as error:
                self._disk_failed(error)
            finally:
                if again:
                    self._submit_flush(loop)
                else:
                    self._flushing = False
        future.add_done_callback(done)

    def _flushed(self, durable: int, began: float) -> None:
        """A flush made everything staged up to `durable` durable: release what it covered,
        then report the state to the core (which may stage more: the caller flushes again)."""
        self._durable = durable
        self._flushes += 1
        self._flush_seconds += time.perf_counter() - began
        held = self._held
        while held and held[0][0] <= durable:
            self._release(held.popleft()[1])
        self._report_durable()

    def _disk_failed(self, error: OSError) -> None:
        self.log(f"the disk failed: {error}; stopping")
        self._fail(error)

    def _report_durable(self) -> None:
        """Parallel write: tell the core which state the disk now holds — the last one this
        flush covered, before the next flush can write another (`RaftCore.persisted`)."""
        unreported = self._unreported
        state: HardState | None = None
        while unreported and unreported[0][0] <= self._durable:
            state = unreported.popleft()[1]
        if state is None:
            return
        commit = self.core.raft.commit_index
        effects = self.core.persisted(state)
        if self._trace is not None and self.core.raft.commit_index != commit:
            # Traced only when it commits: otherwise no visible state changed.
            self._trace.event(self.id, "durable", state=self._state())
        self._carry_out(effects)

    def _release(self, out: list[tuple[Any, Any]]) -> None:
        if self._trace_file is not None:
            self._trace_file.flush()  # a send is in the file before its message can arrive
        for to, payload in out:
            if isinstance(to, int):
                reason = self.faults.reason_out(to)
                if reason is None:
                    self._links[to].send(payload)
                elif self._trace is not None:
                    self._trace.event(self.id, "drop", **{"from": self.id}, to=to,
                                      id=payload[0], reason=reason)
            else:
                conn = self._clients.get(to)
                if conn is not None:
                    conn.send(payload)
                elif self._named is not None:
                    reason = self.faults.reason_out(to)
                    if reason is None:
                        self._named.send(to, payload)
                    elif self._trace is not None:
                        self._trace.event(self.id, "drop", **{"from": self.id}, to=to,
                                          id=payload[0], reason=reason)

    # ------------------------------------------------------------------ tracing
    def _open_trace(self) -> None:
        directory = self.settings.trace
        if directory is None:
            return
        directory.mkdir(parents=True, exist_ok=True)
        me = f"s{self.id}" if self.settings.name is None else self.settings.name
        path = directory / f"trace-{me}-{self.incarnation}.jsonl"
        self._trace_file = path.open("w", encoding="utf-8")
        settings = self.settings
        clock = lambda: time.time_ns() // 1_000_000  # noqa: E731
        names = self.service.names(len(settings.cluster))
        self._trace = (TraceWriter(self._trace_file, clock=clock)
                       if names == tuple(range(len(names)))
                       else NamedTrace(self._trace_file, clock, names))
        self._trace.header(self.service.system,
                           self.service.trace_config(len(settings.cluster),
                                                     settings.maxraftstate, settings.raft),
                           None, generator="dscheck-net", node=names[self.id],
                           incarnation=self.incarnation, clock="wall")

    def _trace_event(self, event: Any) -> None:
        assert self._trace is not None
        self.service.trace_event(self._trace, self.id, event)

    def _state(self) -> dict[str, Any]:
        """The trace `state`, as the simulator's key/value servers write it (impl.kv.node):
        the log as runs of one term (`log_runs`), not entry by entry, since a state follows
        every step and the log holds thousands of entries."""
        raft = self.core.raft
        hard = raft.hard_state()
        state: dict[str, Any] = {
            "term": raft.term, "voted_for": raft.voted_for, "role": raft.role.value,
            "log_runs": self._runs.of(hard.snapshot_index, hard.log),
            "snapshot_index": hard.snapshot_index, "snapshot_term": hard.snapshot_term,
            "commit_index": raft.commit_index, "last_applied": raft.last_applied}
        key, service = self.service.trace_state(self.core)
        state[key] = service
        return state


def _stderr(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def serve(settings: ServerSettings, ready: Callable[[Address], None] | None = None) -> int:
    """Run one server in this process until it is stopped; its exit status."""
    status: int = run_loop(NetServer(settings).run(ready))
    return status


def run_loop(main: Any) -> Any:
    """asyncio.run with uvloop's faster event loop when it is installed, leaving the
    process's SIGTERM and SIGINT handlers as it found them: servers run inside a larger
    program (the tests run three in one process) must not leave SIGTERM a no-op there, or
    every process forked from it later ignores terminate()."""
    found = {sig: signal.getsignal(sig) for sig in _STOPPING}
    try:
        try:
            import uvloop
        except ImportError:
            return asyncio.run(main)
        return uvloop.run(main)
    finally:
        for sig, handler in found.items():
            if handler is not None:
                with contextlib.suppress(ValueError):  # only the main thread may set them
                    signal.signal(sig, handler)

