"""Writing reports so that a reader never sees half of one (DESIGN.md section 6)."""

from __future__ import annotations

from pathlib import Path


def write_atomically(path: str | Path, text: str) -> None:
    """Write `text` beside `path` under a temporary name, then rename it into place."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
