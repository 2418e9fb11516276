"""Where the coordinator listens, and the worker's side of one RPC (blocking sockets).

An endpoint is a Unix socket path (the default, inside the job's directory) or `HOST:PORT` for
TCP. The coordinator binds TCP to loopback unless told otherwise (DESIGN.md section 6).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from impl.mapreduce.protocol import (
    HEADER,
    Codec,
    Reply,
    Request,
    WireError,
    decode_payload,
    encode,
    frame_length,
    reply_from_map,
    request_to_map,
)
from spec.errors import BadInput

DEFAULT_SOCKET_NAME = "mr-coordinator.sock"
# sockaddr_un.sun_path is 108 bytes on Linux, 104 on the BSDs; keep to the smaller.
MAX_UNIX_PATH = 103


@dataclass(frozen=True, slots=True)
class Endpoint:
    unix_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0

    def describe(self) -> str:
        return str(self.unix_path) if self.unix_path is not None else f"{self.host}:{self.port}"


def endpoint_from_options(socket_path: str | None, tcp: str | None, directory: Path) -> Endpoint:
    if socket_path is not None and tcp is not None:
        raise BadInput("give either --socket or --tcp, not both")
    if tcp is not None:
        host, _, port_text = tcp.rpartition(":")
        if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise BadInput(f"--tcp {tcp!r}: expected HOST:PORT with a port in 1..65535")
        return Endpoint(host=host, port=int(port_text))
    path = Path(socket_path) if socket_path is not None else directory / DEFAULT_SOCKET_NAME
    if len(str(path).encode()) > MAX_UNIX_PATH:
        raise BadInput(
            f"Unix socket path is {len(str(path).encode())} bytes, longer than the {MAX_UNIX_PATH} "
            "a socket address holds; pass a shorter --socket or use --tcp",
            path=str(path),
        )
    return Endpoint(unix_path=path)


class Unreachable(Exception):
    """No coordinator answered at the endpoint (not started yet, or gone)."""


def call(endpoint: Endpoint, request: Request, codec: Codec, timeout: float = 30.0) -> Reply:
    """One RPC: connect, send the request, read the reply, close."""
    try:
        if endpoint.unix_path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address: str | tuple[str, int] = str(endpoint.unix_path)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            address = (endpoint.host, endpoint.port)
        with sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(encode(request_to_map(request), codec))
            header = _read_exactly(sock, HEADER.size)
            payload = _read_exactly(sock, frame_length(header))
    except (TimeoutError, ConnectionError, FileNotFoundError, OSError) as error:
        raise Unreachable(f"{endpoint.describe()}: {error}") from error
    value, _ = decode_payload(payload)
    return reply_from_map(value)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed before the reply was complete")
        chunks.extend(chunk)
    return bytes(chunks)


__all__ = ["Endpoint", "Unreachable", "WireError", "call", "endpoint_from_options"]
