"""The cluster file: which servers make up a cluster and where each listens.

One server per line, `HOST:PORT`, its id being its position (the first line is server 0);
blank lines and `#` comments are ignored; an IPv6 host is written in brackets
(`[::1]:7000`). The same file serves every server and every client, so one command starts
a server on each machine (`dscheck server --id I --cluster FILE`). A bad file is a
`BadInput` naming its line.

A sharded cluster (the controller and replica groups, lab 4) is the same file in sections:
a `[controller]` line, then its servers, and a `[group GID]` line before each replica
group's servers. A server is then named as the cores name it — `ctrler<i>` for the
controller's server i, `server-<gid>-<i>` for group gid's server i — and that name is what
`dscheck server --id` takes. A file without sections is one key/value group, as before.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from spec.errors import BadInput

MAX_SERVERS = 15  # as the simulator's bound: Raft clusters are small


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_address(text: str, path: str | None = None, line: int | None = None) -> Address:
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536 or " " in host:
        raise BadInput(f"{text!r} is not HOST:PORT with a port in 1..65535", path, line)
    return Address(host, int(port_text))


def read_cluster(path: Path) -> tuple[Address, ...]:
    """The servers of a one-group (key/value) cluster file."""
    found = read_any(path)
    if isinstance(found, Sharded):
        raise BadInput("a sharded cluster file (with [controller] and [group GID] sections); "
                       "this command needs a key/value cluster's", str(path))
    return found


@dataclass(frozen=True, slots=True)
class Sharded:
    """A sharded cluster: the controller's servers and each replica group's, by gid."""

    controller: tuple[Address, ...]
    groups: tuple[tuple[int, tuple[Address, ...]], ...]  # sorted by gid

    def gids(self) -> tuple[int, ...]:
        return tuple(gid for gid, _ in self.groups)

    def group(self, gid: int) -> tuple[Address, ...]:
        return dict(self.groups)[gid]

    def ctrl_names(self) -> tuple[str, ...]:
        return tuple(ctrl_name(i) for i in range(len(self.controller)))

    def names(self, gid: int) -> tuple[str, ...]:
        return tuple(group_server_name(gid, i) for i in range(len(self.group(gid))))

    def address_of(self) -> dict[str, Address]:
        """Every server's name -> its address (how a core's names reach the network)."""
        out = dict(zip(self.ctrl_names(), self.controller, strict=True))
        for gid, servers in self.groups:
            out.update(zip(self.names(gid), servers, strict=True))
        return out

    def locate(self, name: str) -> tuple[int | None, int]:
        """(gid, index in its group) of a server's name; gid None for the controller's.
        BadInput if the file names no such server."""
        match = _NAME.match(name)
        where: tuple[int | None, int] | None = None
        if match and match["ctrl"] is not None:
            where = (None, int(match["ctrl"]))
        elif match:
            where = (int(match["gid"]), int(match["i"]))
        if where is None or name not in self.address_of():
            known = ", ".join(self.address_of())
            raise BadInput(f"no server {name!r} in the cluster file (its servers: {known})")
        return where


def ctrl_name(i: int) -> str:
    return f"ctrler{i}"


def group_server_name(gid: int, i: int) -> str:
    """The lab's name for server i of group gid (as impl.shardkv.node.server_name)."""
    return f"server-{gid}-{i}"


_NAME = re.compile(r"^(?:ctrler(?P<ctrl>\d+)|server-(?P<gid>\d+)-(?P<i>\d+))$")
_SECTION = re.compile(r"^\[\s*(?:(?P<ctrl>controller)|group\s+(?P<gid>\d+))\s*\]$")
MAX_GID = (1 << 31) - 1


def read_any(path: Path) -> tuple[Address, ...] | Sharded:
    """A cluster file of either kind: one group's servers, or a sharded cluster."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("cluster file not found (start one with 'dscheck cluster start')",
                       name) from None
    except IsADirectoryError:
        raise BadInput("is a directory; expected a cluster file (one HOST:PORT a line)",
                       name) from None
    except OSError as error:
        raise BadInput(f"cannot read: {error.strerror}", name) from None
    except UnicodeDecodeError:
        raise BadInput("not UTF-8 text; expected one HOST:PORT a line", name) from None
    sections: list[tuple[int | None, int, list[Address]]] = []  # (gid, line, servers)
    plain: list[Address] = []
    seen: dict[Address, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        if content.startswith("["):
            match = _SECTION.match(content)
            if match is None:
                raise BadInput(f"{content!r} is not a section; expected [controller] or "
                               "[group GID]", name, number)
            if plain:
                raise BadInput("a section after servers outside any section: list every "
                               "server under [controller] or [group GID]", name, number)
            gid = None if match["ctrl"] else int(match["gid"])
            if gid is not None and not 0 < gid <= MAX_GID:
                raise BadInput(f"gid {gid} is not in 1..{MAX_GID} (0 means no group)",
                               name, number)
            for other, line, _ in sections:
                if other == gid:
                    what = "[controller]" if gid is None else f"[group {gid}]"
                    raise BadInput(f"a second {what} section (also line {line})", name,
                                   number)
            sections.append((gid, number, []))
            continue
        address = parse_address(content, name, number)
        if address in seen:
            raise BadInput(f"{address} is listed twice (also line {seen[address]})", name,
                           number)
        seen[address] = number
        (sections[-1][2] if sections else plain).append(address)
    if not sections:
        return _sized(tuple(plain), name, None)
    controller: tuple[Address, ...] | None = None
    groups = []
    for gid, line, servers in sections:
        if gid is None:
            controller = _sized(tuple(servers), name, line)
        else:
            groups.append((gid, _sized(tuple(servers), name, line)))
    if controller is None:
        raise BadInput("a sharded cluster file needs a [controller] section", name)
    return Sharded(controller, tuple(sorted(groups)))


def _sized(servers: tuple[Address, ...], name: str, line: int | None) -> tuple[Address, ...]:
    if not servers:
        raise BadInput("no servers listed; expected one HOST:PORT a line", name, line)
    if len(servers) > MAX_SERVERS:
        raise BadInput(f"{len(servers)} servers; at most {MAX_SERVERS}", name, line)
    return servers


def cluster_text(servers: tuple[Address, ...]) -> str:
    lines = ["# dscheck cluster: one server a line, HOST:PORT; server ids 0, 1, ... in order"]
    lines += [str(address) for address in servers]
    return "\n".join(lines) + "\n"


def sharded_text(cluster: Sharded) -> str:
    lines = ["# dscheck sharded cluster: the controller's servers, then each replica group's;",
             "# in each section one server a line, HOST:PORT, ids 0, 1, ... in order"]
    lines += ["[controller]", *map(str, cluster.controller)]
    for gid, servers in cluster.groups:
        lines += [f"[group {gid}]", *map(str, servers)]
    return "\n".join(lines) + "\n"
