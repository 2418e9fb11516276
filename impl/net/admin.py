"""Asking a running server what it is doing, and (in tests) setting its faults: one request
on an admin connection, one answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from impl.net.cluster import Address
from impl.net.links import Framed
from impl.net.wire import WireError, hello


async def ask(address: Address, request: list[Any], timeout: float = 2.0) -> Any:
    """The server's answer to `request`; OSError or TimeoutError if it does not give one."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Any] = loop.create_future()

    def on_frame(conn: Framed, payload: Any) -> None:
        if not answer.done():
            answer.set_result(payload)
        conn.close()

    def on_lost(conn: Framed) -> None:
        if not answer.done():
            answer.set_exception(ConnectionError("closed before answering"))

    async def exchange() -> Any:
        _, conn = await loop.create_connection(
            lambda: Framed(on_frame, on_lost, lambda _t: None), address.host, address.port)
        conn.send(hello("admin", None))
        conn.send(request)
        return await answer

    reply = await asyncio.wait_for(exchange(), timeout)
    if type(reply) is not list or len(reply) != 2:
        raise WireError("the server's admin answer is not [kind, value]")
    if reply[0] == "error":
        raise WireError(str(reply[1]))
    return reply[1]


async def status(address: Address, timeout: float = 2.0) -> dict[str, Any] | None:
    """The server's status map, or None if it does not answer."""
    try:
        answer = await ask(address, ["status"], timeout)
    except (OSError, TimeoutError, WireError):
        return None
    return answer if isinstance(answer, dict) else None


async def set_faults(address: Address, blocked: Sequence[int | str], loss: float = 0.0,
                     timeout: float = 2.0) -> dict[str, Any]:
    """Cut the server off from `blocked` — Raft peers by id, servers it calls by name (a
    sharded cluster's) — and lose `loss` of its messages."""
    answer = await ask(address, ["faults", {"blocked": list(blocked), "loss": loss}], timeout)
    assert isinstance(answer, dict)
    return answer
