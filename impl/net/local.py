"""A cluster of server processes on this machine: free loopback ports, a cluster file, one
`dscheck server` process per server, and waiting for a leader — what `dscheck cluster` and
the fault tests share.

Layout of a cluster directory D: `D/cluster` (the cluster file), `D/s<i>/` (server i's Raft
state and snapshot, and `pid` while it runs), `D/s<i>.log` (its standard output and error,
appended across restarts), and `D/traces/` when traced. In a sharded cluster the servers are
named (`ctrler0`, `server-100-2`) and so are their directories and logs (`D/ctrler0/`,
`D/ctrler0.log`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impl.files import write_atomically
from impl.net.admin import status
from impl.net.cluster import Address, Sharded, cluster_text, read_any, sharded_text
from impl.trace import Node  # a server's id in a key/value cluster, its name in a sharded one
from spec.errors import BadInput

CLUSTER_FILE = "cluster"
PID_FILE = "pid"
FIRST_GID = 100  # the lab's gids: 100, 101, ...
CTRL_SERVERS = 3  # the lab's controller: three servers


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports the kernel has just handed out as free (held open together, so distinct)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def server_dir(directory: Path, node: Node) -> Path:
    return directory / (f"s{node}" if isinstance(node, int) else node)


def nodes_of(found: tuple[Address, ...] | Sharded) -> list[Node]:
    """Every server of a cluster file: ids 0.. of a key/value cluster, or the names of a
    sharded one (the controller's first)."""
    if isinstance(found, Sharded):
        return [*found.ctrl_names(), *(n for gid in found.gids() for n in found.names(gid))]
    return list(range(len(found)))


def _ports(count: int, base_port: int | None, host: str) -> list[int]:
    """`count` ports: free ones, or base_port... (BadInput if one is in use)."""
    if base_port is None:
        return free_ports(count, host)
    ports = list(range(base_port, base_port + count))
    if ports[-1] > 65535:
        raise BadInput(f"ports {ports[0]}..{ports[-1]} run past 65535")
    for port in ports:
        if port_in_use(host, port):
            raise BadInput(f"port {port} on {host} is in use; choose another "
                           "--base-port, or leave it out to use free ports")
    return ports


@dataclass
class LocalCluster:
    """Server processes of one cluster directory, started by this process."""

    directory: Path
    addresses: tuple[Address, ...]  # a sharded cluster's: every server's, in `nodes` order
    options: list[str] = field(default_factory=list)  # more `dscheck server` options
    detach: bool = False  # the processes outlive this one (dscheck cluster start)
    procs: dict[Node, subprocess.Popen[bytes]] = field(default_factory=dict)
    sharded: Sharded | None = None

    @property
    def nodes(self) -> list[Node]:
        return nodes_of(self.sharded if self.sharded is not None else self.addresses)

    @property
    def cluster_file(self) -> Path:
        return self.directory / CLUSTER_FILE

    @classmethod
    def create(cls, directory: Path, servers: int, *, base_port: int | None = None,
               host: str = "127.0.0.1", options: list[str] | None = None,
               detach: bool = False) -> LocalCluster:
        """Choose the ports (free ones, or base_port...), write the cluster file."""
        ports = _ports(servers, base_port, host)
        directory.mkdir(parents=True, exist_ok=True)
        addresses = tuple(Address(host, port) for port in ports)
        write_atomically(directory / CLUSTER_FILE, cluster_text(addresses))
        return cls(directory, addresses, list(options or []), detach)

    @classmethod
    def create_sharded(cls, directory: Path, groups: int, servers: int, *,
                       ctrl_servers: int = CTRL_SERVERS, base_port: int | None = None,
                       host: str = "127.0.0.1", options: list[str] | None = None,
                       detach: bool = False) -> LocalCluster:
        """A controller of `ctrl_servers` and `groups` replica groups (gids 100, 101, ...) of
        `servers` each: choose the ports, write the sharded cluster file."""
        ports = iter(_ports(ctrl_servers + groups * servers, base_port, host))
        controller = tuple(Address(host, next(ports)) for _ in range(ctrl_servers))
        layout = Sharded(controller, tuple(
            (FIRST_GID + g, tuple(Address(host, next(ports)) for _ in range(servers)))
            for g in range(groups)))
        directory.mkdir(parents=True, exist_ok=True)
        write_atomically(directory / CLUSTER_FILE, sharded_text(layout))
        where = layout.address_of()
        return cls(directory, tuple(where[str(n)] for n in nodes_of(layout)),
                   list(options or []), detach, sharded=layout)

    @classmethod
    def existing(cls, directory: Path) -> LocalCluster:
        found = read_any(directory / CLUSTER_FILE)
        if isinstance(found, Sharded):
            where = found.address_of()
            return cls(directory, tuple(where[str(n)] for n in nodes_of(found)),
                       sharded=found)
        return cls(directory, found)

    def groups(self) -> dict[str, tuple[Address, ...]]:
        """Each Raft group's servers, by label: one for a key/value cluster; the controller
        and every replica group for a sharded one."""
        if self.sharded is None:
            return {"cluster": self.addresses}
        return {"controller": self.sharded.controller,
                **{f"group {gid}": servers for gid, servers in self.sharded.groups}}

    def start(self, node: Node) -> subprocess.Popen[bytes]:
        data = server_dir(self.directory, node)
        data.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "checker", "server", "--id", str(node),
                   "--cluster", str(self.cluster_file), "--dir", str(data), *self.options]
        with data.with_name(data.name + ".log").open("ab") as log:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=self.detach, close_fds=True)
        write_atomically(data / PID_FILE, f"{proc.pid}\n")
        self.procs[node] = proc
        return proc

    def start_all(self) -> None:
        for node in self.nodes:
            self.start(node)

    def kill(self, node: Node) -> None:
        """kill -9: no chance to flush, close or say goodbye."""
        proc = self.procs.pop(node, None)
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
            proc.wait()

    def stop_all(self, grace: float = 5.0) -> None:
        """SIGTERM every process this object started, SIGKILL what is left after `grace`."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
        self.procs.clear()

    def exited(self) -> dict[Node, int]:
        """Servers whose process has exited, with their exit status."""
        return {n: code for n, p in self.procs.items() if (code := p.poll()) is not None}

    def log_tail(self, node: Node) -> str:
        data = server_dir(self.directory, node)
        path = data.with_name(data.name + ".log")
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""


async def statuses(addresses: tuple[Address, ...],
                   timeout: float = 1.0) -> list[dict[str, Any] | None]:
    return list(await asyncio.gather(*(status(a, timeout) for a in addresses)))


async def wait_for_leader(addresses: tuple[Address, ...], timeout: float,
                          cluster: LocalCluster | None = None) -> dict[str, Any] | None:
    """The status of a server that leads a term a majority is in, once there is one (None
    after `timeout`). With `cluster`, a server process that exits is bad input."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cluster is not None:
            for node, code in cluster.exited().items():
                raise BadInput(f"server {node} exited with status {code}: "
                               f"{cluster.log_tail(node)}")
        found = await statuses(addresses, 0.5)
        up = [s for s in found if s is not None]
        for s in up:
            if s["role"] == "leader":
                same_term = sum(1 for o in up if o["term"] == s["term"])
                if 2 * same_term > len(addresses):
                    return s
        await asyncio.sleep(0.05)
    return None


async def wait_for_leaders(cluster: LocalCluster, timeout: float,
                           watch: bool = True) -> dict[str, dict[str, Any] | None]:
    """Each Raft group's leader's status (`LocalCluster.groups`), None for a group with none
    within `timeout`; with `watch`, a server process that exits is bad input."""
    groups = cluster.groups()
    found = await asyncio.gather(*(wait_for_leader(addresses, timeout,
                                                   cluster if watch else None)
                                   for addresses in groups.values()))
    return dict(zip(groups, found, strict=True))


def read_pid(directory: Path, node: Node) -> int | None:
    try:
        return int((server_dir(directory, node) / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def is_our_server(pid: int, directory: Path, node: Node) -> bool:
    """Is `pid` a live `dscheck server` process of this cluster's server `node`? (A pid file
    can outlive its process, and the pid be reused by anyone.)"""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    data = str(server_dir(directory, node)).encode()
    return b"server" in cmdline and data in cmdline


def stop_detached(directory: Path, servers: int | Iterable[Node],
                  grace: float = 5.0) -> list[Node]:
    """SIGTERM the cluster's live server processes (by their pid files), SIGKILL what is left
    after `grace`; returns the servers stopped (ids 0..servers-1, or the servers named)."""
    live = {}
    for node in range(servers) if isinstance(servers, int) else servers:
        pid = read_pid(directory, node)
        if pid is not None and is_our_server(pid, directory, node):
            live[node] = pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for node, pid in live.items():
        while is_our_server(pid, directory, node) and time.monotonic() < deadline:
            time.sleep(0.02)
        if is_our_server(pid, directory, node):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            (server_dir(directory, node) / PID_FILE).unlink()
    return list(live)
