"""Encodings as plain data: msgpack bytes for checkpoints, and fingerprints every process
agrees on.

A model's canonical encodings are hashable values: tuples of ints for most, but also the
specs' own frozen dataclasses and enums (a Raft log entry, a MapReduce state). msgpack
carries tuples, ints, strings, bools and None as they are; three extension types carry the
rest:

- a frozen dataclass as its type's `module:qualname` and its field values;
- an enum member as its type's name and its value;
- a named tuple (`typing.NamedTuple`) as its type's name and its fields;
- a frozenset as its elements, sorted by their own bytes (so equal sets pack equally).

Decoding builds only dataclasses, enums and named tuples defined in the `spec` package, through their
constructors: nothing read from a file is unpickled or evaluated (DESIGN.md section 7).

`stable_fingerprint` is a 64-bit digest of those bytes. CPython's `hash` is the fingerprint of
one process; it is the same in every process for tuples of ints, but strings, enums (hashed by
name) and, before Python 3.12, None are hashed with a per-process seed or address. A search
whose fingerprints cross processes that do not share a hash seed (Ray's workers) or outlive
the process (a checkpoint) needs the same fingerprint everywhere: `fingerprint_function` gives
`hash` where the model declares it stable (`Model.hash_is_stable`, tested for each model that
does) and the digest otherwise.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
from collections.abc import Callable
from typing import Any

import msgpack

from checker.modelcheck.model import Encoding, Model

_DATACLASS, _ENUM, _FROZENSET, _NAMEDTUPLE = 1, 2, 3, 4


class PlainError(ValueError):
    """Bytes that are not an encoding this module wrote."""


def _default(value: Any) -> Any:
    if type(value) is tuple:  # strict_types hands tuples here; they come back as tuples
        return list(value)
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):  # a NamedTuple
        return msgpack.ExtType(_NAMEDTUPLE, pack([_type_name(type(value)), *value]))
    if isinstance(value, enum.Enum):
        return msgpack.ExtType(_ENUM, pack([_type_name(type(value)), value.value]))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [getattr(value, f.name) for f in dataclasses.fields(value)]
        return msgpack.ExtType(_DATACLASS, pack([_type_name(type(value)), *fields]))
    if isinstance(value, frozenset):
        return msgpack.ExtType(_FROZENSET, pack(sorted(pack(v) for v in value)))
    raise TypeError(f"cannot store a {type(value).__name__} in a checkpoint")


def pack(value: Any) -> bytes:
    """The bytes of an encoding (deterministic: equal values give equal bytes)."""
    return msgpack.packb(value, default=_default, use_bin_type=True, strict_types=True)  # type: ignore[no-any-return]


def unpack(data: bytes) -> Any:
    """The encoding `pack` wrote; arrays come back as tuples."""
    try:
        return msgpack.unpackb(data, ext_hook=_ext_hook, use_list=False, raw=False)
    except (ValueError, TypeError, msgpack.UnpackException) as error:
        raise PlainError(str(error)) from None


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _FROZENSET:
        return frozenset(unpack(item) for item in unpack(data))
    if code == _NAMEDTUPLE:
        name, *values = unpack(data)
        cls = _spec_type(name)
        if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
            raise PlainError(f"{name} is not a named tuple of the spec")
        return cls(*values)
    if code in (_DATACLASS, _ENUM):
        name, *values = unpack(data)
        cls = _spec_type(name)
        if code == _ENUM:
            if not (isinstance(cls, type) and issubclass(cls, enum.Enum)) or len(values) != 1:
                raise PlainError(f"{name} is not an enum of the spec")
            return cls(values[0])
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise PlainError(f"{name} is not a dataclass of the spec")
        return cls(*values)
    raise PlainError(f"unknown extension type {code}")


def _type_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _spec_type(name: Any) -> Any:
    """The type named `module:qualname`, if it is defined in the spec package."""
    if not isinstance(name, str) or ":" not in name:
        raise PlainError(f"not a type name: {name!r}")
    module_name, qualname = name.split(":", 1)
    if module_name != "spec" and not module_name.startswith("spec."):
        raise PlainError(f"{name} is not a type of the spec package")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise PlainError(f"no type {name}") from None
    return found


def stable_fingerprint(encoding: Encoding) -> int:
    """A signed 64-bit digest of the encoding's bytes, the same in every process."""
    value = int.from_bytes(hashlib.blake2b(pack(encoding), digest_size=8).digest(), "little",
                           signed=True)
    return -2 if value == -1 else value  # -1 means "no parent" in spilled and saved seen-sets


def fingerprint_function(model: Model[Any], stable: bool) -> Callable[[Encoding], int]:
    """The fingerprint a search uses: `hash`, unless it must be stable and the model's hash
    is not (see the module docstring)."""
    return hash if not stable or model.hash_is_stable else stable_fingerprint
