"""Small real media files for tests: a PNG and an MP4 skeleton (ftyp + moov/trak/tkhd)."""

from __future__ import annotations

import struct
import zlib


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4(width: int, height: int) -> bytes:
    tkhd = (
        b"\x00\x00\x00\x07"  # version 0, flags
        + b"\x00" * 20  # creation, modification, track id, reserved, duration
        + b"\x00" * 8  # reserved
        + b"\x00" * 8  # layer, group, volume, reserved
        + b"\x00" * 36  # matrix
        + struct.pack(">II", width << 16, height << 16)
    )
    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41") + box(
        b"moov", box(b"trak", box(b"tkhd", tkhd))
    )
