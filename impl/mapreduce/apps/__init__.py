"""MapReduce applications and their loader.

An application is a Python module defining `map(filename, contents)`, which returns an iterable
of (key, value) pairs of strings, and `reduce(key, values)`, which returns a string: the lab's
Map/Reduce plugin interface. It is loaded by name (one of `BUILTIN`, from this package) or from
a file path (anything ending in `.py` or containing a path separator). Loading a file runs it, as
loading a Go plugin does: it is code the user chose to run, never data read from the network.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from spec.errors import BadInput

BUILTIN = ("wc", "indexer", "mtiming", "rtiming", "jobcount", "early_exit", "crash", "nocrash")

MapFunction = Callable[[str, str], Iterable[tuple[str, str]]]
ReduceFunction = Callable[[str, list[str]], str]


@dataclass(frozen=True, slots=True)
class App:
    name: str
    map: MapFunction
    reduce: ReduceFunction


def load_app(spec: str) -> App:
    """Load an application by built-in name or by path; BadInput if it cannot be used."""
    module = _load_module(spec)
    functions = []
    for name in ("map", "reduce"):
        function = getattr(module, name, None)
        if not callable(function):
            raise BadInput(
                f"application does not define a function {name}(); expected "
                "map(filename, contents) -> [(key, value), ...] and reduce(key, values) -> str",
                path=spec,
            )
        functions.append(function)
    return App(name=spec, map=functions[0], reduce=functions[1])


def is_path(spec: str) -> bool:
    return spec.endswith(".py") or os.sep in spec or "/" in spec


def _load_module(spec: str) -> ModuleType:
    if not is_path(spec):
        if spec not in BUILTIN:
            raise BadInput(
                f"unknown application {spec!r}; expected one of {', '.join(BUILTIN)} "
                "or the path of a .py file"
            )
        return importlib.import_module(f"impl.mapreduce.apps.{spec}")
    path = Path(spec)
    if not path.is_file():
        raise BadInput(
            "application file not found (expected a .py file defining map and reduce)", path=spec
        )
    module_spec = importlib.util.spec_from_file_location(f"dscheck_mr_app_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise BadInput("cannot load this file as a Python module", path=spec)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except SyntaxError as error:
        raise BadInput(f"syntax error: {error.msg}", path=spec, line=error.lineno) from error
    except Exception as error:  # the user's module failed while loading: say how, in one line
        raise BadInput(
            f"loading the application raised {type(error).__name__}: {error}", path=spec
        ) from error
    return module
