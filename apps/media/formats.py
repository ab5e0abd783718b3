"""What a media file is, read from its first bytes (no decoder needed): the format and the
picture size.  PNG (IHDR), JPEG (the first SOFn marker), MP4 / QuickTime (the first video
track's ``tkhd`` box, 16.16 fixed-point width and height).  Pure functions, no I/O."""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "image" | "video"
    format: str  # "png" | "jpeg" | "mp4"
    width: int
    height: int


class UnsupportedMedia(ValueError):
    pass


def sniff(data: bytes) -> MediaInfo:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return MediaInfo("image", "png", width, height)
    if data.startswith(b"\xff\xd8"):
        return MediaInfo("image", "jpeg", *_jpeg_size(data))
    if data[4:8] == b"ftyp":
        return MediaInfo("video", "mp4", *_mp4_size(data))
    raise UnsupportedMedia("Use MP4 (H.264) video, or PNG or JPEG images")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            raise UnsupportedMedia("A damaged JPEG file")
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    raise UnsupportedMedia("A JPEG file without a frame header")


def _boxes(data: bytes, start: int, end: int):
    index = start
    while index + 8 <= end:
        size, name = struct.unpack(">I4s", data[index : index + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[index + 8 : index + 16])[0]
            header = 16
        elif size == 0:
            size = end - index
        if size < header:
            return
        yield name, index + header, min(index + size, end)
        index += size


def _mp4_size(data: bytes) -> tuple[int, int]:
    for name, body, end in _boxes(data, 0, len(data)):
        if name != b"moov":
            continue
        for track, track_body, track_end in _boxes(data, body, end):
            if track != b"trak":
                continue
            for box, box_body, _ in _boxes(data, track_body, track_end):
                if box == b"tkhd":
                    version = data[box_body]
                    offset = box_body + (88 if version == 1 else 76)
                    width, height = struct.unpack(">II", data[offset : offset + 8])
                    if width and height:
                        return width >> 16, height >> 16
    raise UnsupportedMedia("An MP4 file without a video track (is the moov box at the end?)")
