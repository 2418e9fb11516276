"""The models the checker offers by name (`dscheck lin --model NAME`).

The models themselves are sequential specifications and live in `spec.sequential` (ours and
the registers), `spec.sequential_knossos` (the rest of Knossos's) and
`spec.sequential_shardctrler` (the shard controller, its spec one call at a time); this
module only looks them up by the name a user types, and hands them on under their usual
names.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
from spec.sequential_shardctrler import SHARDCTRLER

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
    "SHARDCTRLER",
    "UNORDERED_QUEUE",
    "model_from_file",
    "model_named",
]

MODELS: dict[str, Model] = {m.name: m for m in (KV, REGISTER, CAS_REGISTER, LOG, *KNOSSOS_MODELS,
                                                SHARDCTRLER)}


def model_named(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise BadInput(f"unknown model {name!r} (expected one of {', '.join(MODELS)})") from None


def model_from_file(path: str) -> Model:
    """The `MODEL` (a `spec.sequential.Model`) that the user's own Python file defines.

    The file is run as Python, as `dscheck mr` runs an application's file: only ever the
    file a user names on purpose (`dscheck lin --model-file PATH`), never one found in a
    history or a directory. BadInput, in one line, if it cannot be used."""
    file = Path(path)
    if not file.is_file():
        raise BadInput("model file not found (expected a .py file defining MODEL)", path)
    spec = importlib.util.spec_from_file_location(f"dscheck_lin_model_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise BadInput("cannot load this file as a Python module", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise BadInput(f"syntax error: {error.msg}", path, error.lineno) from None
    except Exception as error:  # the user's module failed while loading: say how, in one line
        raise BadInput(f"loading the model raised {type(error).__name__}: {error}", path) from None
    model = getattr(module, "MODEL", None)
    if not isinstance(model, Model):
        raise BadInput(
            "the file defines no MODEL = Model(name=..., init=..., step=...) "
            "(spec.sequential.Model)",
            path,
        )
    return model
