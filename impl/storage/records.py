"""Checksummed records: how the log and the state file put bytes on disk.

A record is a 9-byte header — a magic byte, the payload's length (4 bytes, big-endian) and
the CRC-32 of the length and payload (4 bytes) — followed by the payload. The magic byte is
never 0, so a run of zeros (the hole a crash can leave where a file's size grew before its
data reached the disk) is never read as a record, not even as an empty one (the CRC-32 of
nothing is 0).

`scan` reads records from the start of a buffer and stops at the first one that is not
whole and intact: a header cut short, a length that runs past the end or above the limit, a
wrong magic byte or checksum. Everything from there on is the torn tail of a crash — bytes
written after the last fsync, which nobody was told were durable (a flush reports
durability only after its fsync, and flushes cover prefixes of the file) — so the reader cuts
it and keeps what precedes it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAGIC = 0xD5
HEADER = struct.Struct(">BII")  # magic, payload length, crc32(length bytes + payload)
MAX_RECORD = 1 << 30  # a record longer than this is damage, not data


def encode(payload: bytes) -> bytes:
    if not payload:
        raise ValueError("a record needs a payload")
    length = len(payload).to_bytes(4, "big")
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload, zlib.crc32(length))) + payload


@dataclass(frozen=True, slots=True)
class Scan:
    payloads: list[bytes]
    end: int  # offset just past the last intact record: where the torn tail, if any, starts
    size: int  # the buffer's length; size - end bytes are the torn tail

    @property
    def torn(self) -> int:
        return self.size - self.end


def scan(data: bytes) -> Scan:
    payloads: list[bytes] = []
    offset, size = 0, len(data)
    view = memoryview(data)
    while offset + HEADER.size <= size:
        magic, length, crc = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        if magic != MAGIC or not 0 < length <= MAX_RECORD or start + length > size:
            break
        payload = view[start:start + length]
        if zlib.crc32(payload, zlib.crc32(length.to_bytes(4, "big"))) != crc:
            break
        payloads.append(bytes(payload))
        offset = start + length
    return Scan(payloads, offset, size)
