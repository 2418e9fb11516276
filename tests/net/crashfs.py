"""A recording disk and the crash states of what it recorded (ALICE-style, Pillai et al.,
"All File Systems Are Not Created Equal", OSDI 2014).

`RecordingDisk` implements impl.storage.disk.Disk in memory and keeps the sequence of
operations the storage issued. `crash_states(ops, k)` rebuilds every directory a crash just
before operation k could leave, under a conservative persistence model:

* file data: an inode holds what its last fsync covered; of the appends since, any prefix
  survives, the last one possibly torn (cut at its middle, or one byte short);
* directory operations (create, rename, unlink): those before the last fsync of the
  directory are durable; of the later ones, any prefix in order survives (an fsync of a
  file does not make its name durable);
* a file whose name did not survive is gone, whatever its data.

`Mark` operations are not disk operations: the test records, with them, where the storage
reported a staged state durable.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product


@dataclass(frozen=True, slots=True)
class Op:
    kind: str  # create, append, fsync, rename, fsync_dir, truncate, unlink, mark
    name: str = ""
    other: str = ""  # rename's target
    data: bytes = b""
    size: int = 0  # truncate's size; mark's durable sequence number


class RecordingDisk:
    """An in-memory directory that records every operation (implements Disk)."""

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.ops: list[Op] = []
        self._next = 0
        self._dir: dict[str, int] = {}  # name -> inode
        self._data: dict[int, bytearray] = {}
        for name, data in (files or {}).items():
            self._dir[name] = self._new_inode(data)
        self.initial = {name: bytes(self._data[i]) for name, i in self._dir.items()}

    def _new_inode(self, data: bytes = b"") -> int:
        self._next += 1
        self._data[self._next] = bytearray(data)
        return self._next

    def mark(self, durable: int) -> None:
        self.ops.append(Op("mark", size=durable))

    # -- Disk ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(self._dir)

    def read(self, name: str) -> bytes | None:
        inode = self._dir.get(name)
        return None if inode is None else bytes(self._data[inode])

    def create(self, name: str) -> None:
        self._dir[name] = self._new_inode()
        self.ops.append(Op("create", name))

    def append(self, name: str, data: bytes) -> None:
        self._data[self._dir[name]].extend(data)
        self.ops.append(Op("append", name, data=bytes(data)))

    def fsync(self, name: str) -> None:
        assert name in self._dir, name
        self.ops.append(Op("fsync", name))

    def rename(self, source: str, target: str) -> None:
        self._dir[target] = self._dir.pop(source)
        self.ops.append(Op("rename", source, other=target))

    def fsync_dir(self) -> None:
        self.ops.append(Op("fsync_dir"))

    def truncate(self, name: str, size: int) -> None:
        del self._data[self._dir[name]][size:]
        self.ops.append(Op("truncate", name, size=size))

    def unlink(self, name: str) -> None:
        if self._dir.pop(name, None) is not None:
            self.ops.append(Op("unlink", name))

    def close(self) -> None:
        pass


def durable_mark(ops: list[Op], k: int) -> int:
    """The highest sequence number reported durable before operation k."""
    return max((op.size for op in ops[:k] if op.kind == "mark"), default=0)


def crash_states(initial: dict[str, bytes], ops: list[Op], k: int) -> list[dict[str, bytes]]:
    """Every directory (name -> content) a crash just before ops[k] may leave."""
    # Replay to know, per inode, its content at its last fsync and its appends since.
    directory: dict[str, int] = {}
    content: dict[int, bytearray] = {}
    synced: dict[int, bytes] = {}
    unsynced: dict[int, list[bytes]] = {}
    cut: dict[int, int] = {}  # inode -> size of a truncation not yet fsync'd
    for n, (name, data) in enumerate(initial.items(), start=1):
        directory[name] = -n
        content[-n] = bytearray(data)
        synced[-n] = bytes(data)
        unsynced[-n] = []
    durable_dir = dict(directory)
    later_dir_ops: list[Op] = []
    inode_of_create: dict[int, int] = {}
    next_inode = 0
    for n, op in enumerate(ops[:k]):
        if op.kind == "create":
            next_inode += 1
            inode_of_create[n] = next_inode
            directory[op.name] = next_inode
            content[next_inode] = bytearray()
            synced[next_inode] = b""
            unsynced[next_inode] = []
            later_dir_ops.append(op)
        elif op.kind == "append":
            inode = directory[op.name]
            content[inode].extend(op.data)
            unsynced[inode].append(op.data)
        elif op.kind == "truncate":
            inode = directory[op.name]
            del content[inode][op.size:]
            # Until its fsync, a truncation may or may not have reached the disk: both the
            # old synced content and the cut one are possible (appends after it build on
            # the cut one).
            cut[inode] = op.size
            unsynced[inode] = []
        elif op.kind == "fsync":
            inode = directory[op.name]
            synced[inode] = bytes(content[inode])
            unsynced[inode] = []
            cut.pop(inode, None)
        elif op.kind in ("rename", "unlink"):
            if op.kind == "rename":
                directory[op.other] = directory.pop(op.name)
            else:
                directory.pop(op.name, None)
            later_dir_ops.append(op)
        elif op.kind == "fsync_dir":
            durable_dir = dict(directory)
            later_dir_ops = []
    # Directory choices: every ordered prefix of the operations after the last dir fsync.
    created_inode = {id(op): inode_of_create[n] for n, op in enumerate(ops[:k])
                     if op.kind == "create"}
    dir_choices = []
    for j in range(len(later_dir_ops) + 1):
        names = dict(durable_dir)
        for op in later_dir_ops[:j]:
            if op.kind == "create":
                names[op.name] = created_inode[id(op)]
            elif op.kind == "rename":
                if op.name in names:
                    names[op.other] = names.pop(op.name)
            else:
                names.pop(op.name, None)
        dir_choices.append(names)
    # Data choices per inode: its synced content plus a prefix of the appends since.
    def variants(inode: int) -> list[bytes]:
        base = synced[inode]
        out = [base]
        if inode in cut:
            base = base[:cut[inode]]
            out.append(base)
        grown = base
        for data in unsynced[inode]:
            if len(data) > 1:
                out.append(grown + data[:len(data) // 2])
                out.append(grown + data[:-1])
            grown += data
            out.append(grown)
        return out
    states: list[dict[str, bytes]] = []
    seen: set[tuple[tuple[str, bytes], ...]] = set()
    for names in dir_choices:
        inodes = sorted(set(names.values()))
        for combo in product(*(variants(i) for i in inodes)):
            chosen = dict(zip(inodes, combo, strict=True))
            state = {name: chosen[inode] for name, inode in names.items()}
            key = tuple(sorted(state.items()))
            if key not in seen:
                seen.add(key)
                states.append(state)
    return states
