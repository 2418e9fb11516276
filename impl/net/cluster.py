"""The cluster file: which servers make up a cluster and where each listens.

One server per line, `HOST:PORT`, its id being its position (the first line is server 0);
blank lines and `#` comments are ignored; an IPv6 host is written in brackets
(`[::1]:7000`). The same file serves every server and every client, so one command starts
a server on each machine (`dscheck server --id I --cluster FILE`). A bad file is a
`BadInput` naming its line.
"""

from __future__ import annotations

import ipaddress
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
    servers: list[Address] = []
    seen: dict[Address, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        address = parse_address(content, name, number)
        if address in seen:
            raise BadInput(f"{address} is listed twice (also line {seen[address]})", name,
                           number)
        seen[address] = number
        servers.append(address)
    if not servers:
        raise BadInput("no servers listed; expected one HOST:PORT a line", name)
    if len(servers) > MAX_SERVERS:
        raise BadInput(f"{len(servers)} servers; at most {MAX_SERVERS}", name)
    return tuple(servers)


def cluster_text(servers: tuple[Address, ...]) -> str:
    lines = ["# dscheck cluster: one server a line, HOST:PORT; server ids 0, 1, ... in order"]
    lines += [str(address) for address in servers]
    return "\n".join(lines) + "\n"
