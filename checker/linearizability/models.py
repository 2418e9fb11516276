"""The models the checker offers by name (`dscheck lin --model NAME`).

The models themselves are sequential specifications and live in `spec.sequential`; this module
only looks them up by the name a user types, and hands them on under their usual names.
"""

from __future__ import annotations

from spec.errors import BadInput
from spec.sequential import CAS_REGISTER, KV, LOG, MODELS, REGISTER, Model

__all__ = ["CAS_REGISTER", "KV", "LOG", "MODELS", "REGISTER", "model_named"]


def model_named(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise BadInput(f"unknown model {name!r} (expected one of {', '.join(MODELS)})") from None
