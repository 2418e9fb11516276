"""Tiny messages and endpoints for testing the network without any protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from impl.sim.network import LabNetwork


@dataclass(frozen=True, slots=True)
class Ping:
    rpc: ClassVar[Literal["request", "reply"]] = "request"
    n: int
    payload: str = ""

    def wire(self) -> Any:
        return ["Ping", self.n, self.payload]

    def trace(self) -> dict[str, Any]:
        return {"type": "Ping", "n": self.n}

    def describe(self) -> str:
        return f"Ping {self.n}"


@dataclass(frozen=True, slots=True)
class Pong:
    rpc: ClassVar[Literal["request", "reply"]] = "reply"
    n: int
    payload: str = ""

    def wire(self) -> Any:
        return ["Pong", self.n, self.payload]

    def trace(self) -> dict[str, Any]:
        return {"type": "Pong", "n": self.n}

    def describe(self) -> str:
        return f"Pong {self.n}"


@dataclass
class Echo:
    """Answers every Ping with a Pong (optionally with a payload); records what it got."""

    net: LabNetwork
    me: Any
    reply_payload: str = ""
    wants_call_failures: bool = True
    got: list[tuple[int, Any]] = field(default_factory=list)  # (time, message)
    failed: list[tuple[int, Any]] = field(default_factory=list)

    def deliver(self, src: Any, message: Any, msg_id: int) -> None:
        self.got.append((self.net.loop.now, message))
        if isinstance(message, Ping):
            self.net.send(self.me, src, Pong(message.n, self.reply_payload))

    def call_failed(self, dst: Any, message: Any) -> None:
        self.failed.append((self.net.loop.now, message))

    def pongs(self) -> list[int]:
        return [m.n for _, m in self.got if isinstance(m, Pong)]
