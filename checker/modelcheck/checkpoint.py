"""Checkpoints: a search's frontier and seen-sets in a folder, to resume it after an
interruption with the same final result.

A checkpoint is written at a level boundary (`Options.checkpoint_every` seconds apart, or at
every level), and when a bound cuts the search; in the second case the level is partly
expanded and the checkpoint holds both the frontier's unexpanded rest and the next level found
so far. Resuming continues the breadth-first search from exactly there, so every figure of the
final result (distinct states, generated, depth, "sometimes") is the uninterrupted search's.

The folder holds one file per partition and a manifest, written last (atomically, by rename),
that names them; a resume reads only what the manifest names:

- `manifest.json`: the format and version, the model's configuration (`Model.summary`), the
  fingerprint function, how states are partitioned and into how many partitions, the depth,
  the counters and the "sometimes" properties reached;
- `level-D-part-K.msgpack`: msgpack, with the seen-set as two arrays of little-endian int64
  (fingerprints and parents, -1 for an initial state) and the frontier and next level as
  `(fingerprint, encoding)` pairs (`plain`: typed decoding, never unpickling).

A checkpoint resumes on any engine. The number of partitions may change when states are
partitioned by fingerprint (every model but the packed Raft engine, which partitions by the
servers' variables and keeps no owner per stored state: resume it with as many workers).
A model's memo (the packed engine's property verdicts) is a cache and is not saved: it is
rebuilt as the resumed search meets the states again.
"""

from __future__ import annotations

import json
import os
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from checker.modelcheck import plain
from checker.modelcheck.model import Encoding, Model
from spec.errors import BadInput

FORMAT = "dscheck-checkpoint"
VERSION = 1
MANIFEST = "manifest.json"
NO_PARENT_CODE = -1

Pairs = list[tuple[int, Encoding]]


@dataclass
class SavedPart:
    """One partition's share: seen fingerprints and their parents, frontier, next level."""

    fps: array[int] = field(default_factory=lambda: array("q"))
    parents: array[int] = field(default_factory=lambda: array("q"))
    frontier: Pairs = field(default_factory=list)
    next: Pairs = field(default_factory=list)


@dataclass
class Saved:
    """A whole checkpoint, as read back."""

    depth: int
    generated: int
    reached: dict[str, bool]
    seconds: float
    parts: list[SavedPart]

    @property
    def distinct(self) -> int:
        return sum(len(p.fps) for p in self.parts)


def seen_arrays(parent: dict[int, int | None]) -> tuple[array[int], array[int]]:
    fps = array("q", parent.keys())
    parents = array("q", (NO_PARENT_CODE if p is None else p for p in parent.values()))
    return fps, parents


def dump_part(part: SavedPart) -> bytes:
    """A partition's file: msgpack (see the module docstring)."""
    fps, parents = part.fps, part.parents
    if sys.byteorder != "little":  # pragma: no cover - the files are little-endian
        fps, parents = array("q", fps), array("q", parents)
        fps.byteswap()
        parents.byteswap()
    return msgpack.packb(  # type: ignore[no-any-return]
        {
            "fingerprints": fps.tobytes(),
            "parents": parents.tobytes(),
            "frontier": plain.pack(part.frontier),
            "next": plain.pack(part.next),
        },
        use_bin_type=True,
    )


def load_part(data: bytes, where: str) -> SavedPart:
    """Read a partition's file; BadInput (one line, naming the file) if it is not one."""
    try:
        top = msgpack.unpackb(data, raw=False)
        if not isinstance(top, dict) or set(top) != {"fingerprints", "parents", "frontier", "next"}:
            raise ValueError("expected a map of fingerprints, parents, frontier and next")
        raw_fps, raw_parents = top["fingerprints"], top["parents"]
        if not (isinstance(raw_fps, bytes) and isinstance(raw_parents, bytes)):
            raise ValueError("the seen-set is not two byte arrays")
        if len(raw_fps) != len(raw_parents) or len(raw_fps) % 8:
            raise ValueError("the seen-set's arrays differ in length")
        fps, parents = array("q"), array("q")
        fps.frombytes(raw_fps)
        parents.frombytes(raw_parents)
        if sys.byteorder != "little":  # pragma: no cover
            fps.byteswap()
            parents.byteswap()
        frontier, following = plain.unpack(top["frontier"]), plain.unpack(top["next"])
        for pairs in (frontier, following):
            if not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], int)
                       for p in pairs):
                raise ValueError("a frontier entry is not (fingerprint, encoding)")
    except (ValueError, TypeError, msgpack.UnpackException) as error:
        raise BadInput(f"not a checkpoint partition file ({error})", where, 1) from None
    return SavedPart(fps, parents, list(frontier), list(following))


def describe(model: Model[Any]) -> dict[str, Any]:
    """What a checkpoint must agree on with the search that resumes it."""
    fingerprint = plain.fingerprint_function(model, True)
    return {
        "model": model.summary(),
        "fingerprint": "hash" if fingerprint is hash else "blake2b-msgpack",
        "partitioned_by": ("fingerprint" if model.partitioned_by_fingerprint
                           else model.partition_key),
    }


def write(
    folder: Path,
    model: Model[Any],
    *,
    depth: int,
    generated: int,
    distinct: int,
    reached: dict[str, bool],
    seconds: float,
    parts: Iterable[bytes],
) -> None:
    """Write a checkpoint: the partitions' files (from `dump_part`), then the manifest that
    names them, then remove what an older manifest named."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for k, data in enumerate(parts):
        name = f"level-{depth}-part-{k}.msgpack"
        _atomic_write(folder / name, data)
        names.append(name)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        **describe(model),
        "partitions": len(names),
        "depth": depth,
        "generated": generated,
        "distinct": distinct,
        "reached": reached,
        "seconds": round(seconds, 3),
        "files": names,
    }
    _atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1).encode())
    for old in folder.glob("level-*-part-*.msgpack"):
        if old.name not in names:
            old.unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def read(folder: Path, model: Model[Any], partitions: int) -> Saved:
    """Read the checkpoint in `folder` for a search of `model` over `partitions` partitions,
    re-partitioned if it was written with another number. BadInput (one line) if there is no
    checkpoint, it is damaged, or it is of another configuration."""
    manifest_path = folder / MANIFEST
    where = str(manifest_path)
    if not folder.is_dir():
        raise BadInput("no such folder to resume from; expected a --checkpoint folder",
                       str(folder))
    if not manifest_path.is_file():
        raise BadInput(f"no checkpoint here (no {MANIFEST}); expected a folder written by "
                       "--checkpoint", str(folder))
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as error:
        raise BadInput(f"not JSON ({error.msg}); expected a checkpoint manifest", where,
                       error.lineno) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadInput(f"not a {FORMAT} manifest", where, 1)
    if manifest.get("version") != VERSION:
        raise BadInput(f"checkpoint version {manifest.get('version')!r}; this dscheck reads "
                       f"version {VERSION}", where, 1)
    _same_configuration(manifest, describe(model), where)
    try:
        depth, generated = int(manifest["depth"]), int(manifest["generated"])
        seconds = float(manifest["seconds"])
        reached = {str(k): bool(v) for k, v in dict(manifest["reached"]).items()}
        files = [str(name) for name in manifest["files"]]
    except (KeyError, TypeError, ValueError) as error:
        raise BadInput(f"a field is missing or of the wrong type ({error})", where, 1) from None
    if set(reached) != set(model.sometimes) or len(files) != manifest.get("partitions"):
        raise BadInput("the manifest's properties or files do not match", where, 1)
    parts = []
    for name in files:
        path = folder / name
        if path.name != name or not path.is_file():
            raise BadInput(f"the manifest names {name}, which is not in the folder", where, 1)
        parts.append(load_part(path.read_bytes(), str(path)))
    if len(parts) != partitions:
        if not model.partitioned_by_fingerprint:
            raise BadInput(
                f"the checkpoint holds {len(parts)} partition(s) of a model partitioned by "
                f"its own key; resume it with --workers {len(parts)}", where, 1)
        parts = repartition(parts, partitions)
    return Saved(depth, generated, reached, seconds, parts)


def _same_configuration(manifest: dict[str, Any], here: dict[str, Any], where: str) -> None:
    for key, value in here.items():
        saved = manifest.get(key)
        if saved == value:
            continue
        if key == "model" and isinstance(saved, dict):
            diff = _first_difference(saved, value)
            raise BadInput(f"a checkpoint of another configuration ({diff}); resume with "
                           "the options it was written with", where, 1)
        raise BadInput(f"a checkpoint of another configuration ({key}: {saved!r} there, "
                       f"{value!r} here)", where, 1)


def _first_difference(saved: dict[str, Any], here: dict[str, Any], prefix: str = "") -> str:
    for key in sorted(set(saved) | set(here)):
        a, b = saved.get(key), here.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            return _first_difference(a, b, f"{prefix}{key}.")
        return f"{prefix}{key}: {a!r} there, {b!r} here"
    return "?"  # pragma: no cover


def repartition(parts: Sequence[SavedPart], count: int) -> list[SavedPart]:
    """The same states, partitioned by fingerprint into `count` partitions."""
    out = [SavedPart() for _ in range(count)]
    for part in parts:
        for fp, parent in zip(part.fps, part.parents, strict=True):
            target = out[fp % count]
            target.fps.append(fp)
            target.parents.append(parent)
        for fp, enc in part.frontier:
            out[fp % count].frontier.append((fp, enc))
        for fp, enc in part.next:
            out[fp % count].next.append((fp, enc))
    return out


def parents_dict(part: SavedPart) -> dict[int, int | None]:
    return {fp: None if p == NO_PARENT_CODE else p
            for fp, p in zip(part.fps, part.parents, strict=True)}
