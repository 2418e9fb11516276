"""The layering of DESIGN.md ("Layout"), read from the source: `spec/` imports nothing of ours
outside `spec/`, and `impl/` imports only `impl/` and `spec/`.

Every import is found in the syntax tree, wherever it stands (module level, inside a function,
under `if TYPE_CHECKING`), relative imports resolved, and `importlib.import_module(...)` or
`__import__(...)` with a literal (or f-string) module name counted too, so a lazy import cannot
slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"spec", "impl", "checker", "tests", "bench"}
# What each layer may import of ours (DESIGN.md, Layout).
ALLOWED = {"spec": {"spec"}, "impl": {"impl", "spec"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` (the text of `module`) imports, as absolute dotted names."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
        elif isinstance(node, ast.Call) and node.args and _is_dynamic_import(node.func):
            name = _literal_prefix(node.args[0])
            if name:
                found.add(name)
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _literal_prefix(arg: ast.expr) -> str:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        first = arg.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return ""


def layer_violations(layer: str) -> list[str]:
    out = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        module = module_name(path)
        imports = imported_modules(path.read_text(encoding="utf-8"), module,
                                   is_package=path.name == "__init__.py")
        for name in sorted(imports):
            top = name.split(".")[0]
            if top in OURS and top not in ALLOWED[layer]:
                out.append(f"{path.relative_to(ROOT)}: imports {name}")
    return out


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_design_allows(layer: str) -> None:
    assert list((ROOT / layer).rglob("*.py")), f"no sources found under {layer}/"
    assert layer_violations(layer) == []


def test_the_scanner_sees_every_kind_of_import() -> None:
    # Not vacuous: each form a violation could take is found.
    source = (
        "import checker.verdict\n"
        "from checker.errors import BadInput\n"
        "from . import sibling\n"
        "from ..raft import core\n"
        "def later():\n"
        "    from checker import linearizability\n"
        "    importlib.import_module('checker.cli.main')\n"
        "    __import__(f'checker.{name}')\n"
    )
    found = imported_modules(source, "impl.mapreduce.worker")
    assert found == {"checker.verdict", "checker.errors", "impl.mapreduce", "impl.raft",
                     "checker", "checker.cli.main", "checker."}
    assert imported_modules("from . import x\n", "impl.raft", is_package=True) == {"impl.raft"}
