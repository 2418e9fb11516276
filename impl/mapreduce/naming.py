"""Partitioning and file names shared by the coordinator, the workers and the oracle.

The partition function is the lab's `ihash`: FNV-1a 32-bit over the key's UTF-8 bytes, masked
with 0x7fffffff, modulo nReduce. Keeping it bit-for-bit the same as the Go lab means our
`mr-X-Y` and `mr-out-Y` files hold the same keys as a Go solution's would.

Temporary files live in the job's directory (so that `os.replace` onto the final name is an
atomic rename on one filesystem) under hidden names that no `mr-out*` glob can match. Their
names are a function of (task, attempt) alone, so a worker never sends a path over the network
and the coordinator never renames a path a client chose.
"""

from __future__ import annotations

import functools

FNV32_OFFSET_BASIS = 0x811C9DC5
FNV32_PRIME = 0x01000193
TEMP_PREFIX = ".mr-tmp-"


def fnv1a_32(data: bytes) -> int:
    """FNV-1a, 32 bits (the variant Go's hash/fnv.New32a computes)."""
    value = FNV32_OFFSET_BASIS
    for byte in data:
        value = ((value ^ byte) * FNV32_PRIME) & 0xFFFFFFFF
    return value


# A worker runs several map tasks, and their keys overlap (the eight texts hold 52,580 keys
# counted per file but 22,107 distinct ones): hashing a byte at a time in Python costs ~0.04
# CPU-second per job, so a worker remembers the hashes it has computed.
@functools.lru_cache(maxsize=1 << 18)
def ihash(key: str) -> int:
    """The lab's ihash: FNV-1a of the key's bytes, made non-negative as Go's int(h & 0x7fffffff)."""
    return fnv1a_32(key.encode("utf-8", "surrogateescape")) & 0x7FFFFFFF


def partition(key: str, n_reduce: int) -> int:
    return ihash(key) % n_reduce


def intermediate_name(map_task: int, reduce_task: int) -> str:
    return f"mr-{map_task}-{reduce_task}"


def output_name(reduce_task: int) -> str:
    return f"mr-out-{reduce_task}"


def map_temp_name(map_task: int, attempt: int, reduce_task: int) -> str:
    return f"{TEMP_PREFIX}map-{map_task}-a{attempt}-{reduce_task}"


def reduce_temp_name(reduce_task: int, attempt: int) -> str:
    return f"{TEMP_PREFIX}reduce-{reduce_task}-a{attempt}"
