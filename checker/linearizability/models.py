"""The models the checker offers by name (`dscheck lin --model NAME`).

The models themselves are sequential specifications and live in `spec.sequential` (ours and
the registers) and `spec.sequential_knossos` (the rest of Knossos's); this module only looks
them up by the name a user types, and hands them on under their usual names.
"""

from __future__ import annotations

from spec.errors import BadInput
from spec.sequential import CAS_REGISTER, KV, LOG, REGISTER, Model
from spec.sequential_knossos import (
    FIFO_QUEUE,
    KNOSSOS_MODELS,
    MULTI_REGISTER,
    MUTEX,
    SET,
    UNORDERED_QUEUE,
)

__all__ = [
    "CAS_REGISTER",
    "FIFO_QUEUE",
    "KV",
    "LOG",
    "MODELS",
    "MULTI_REGISTER",
    "MUTEX",
    "REGISTER",
    "SET",
    "UNORDERED_QUEUE",
    "model_named",
]

MODELS: dict[str, Model] = {m.name: m for m in (KV, REGISTER, CAS_REGISTER, LOG, *KNOSSOS_MODELS)}


def model_named(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise BadInput(f"unknown model {name!r} (expected one of {', '.join(MODELS)})") from None
