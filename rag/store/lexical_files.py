"""Checking a tantivy index folder's files against the checksums tantivy wrote into them."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

_MAGIC = 1337  # tantivy's footer magic number
_PARTS = ("idx", "term", "fieldnorm", "fast", "store", "pos")  # a segment's files (pos may be absent)


def damaged_files(folder: Path) -> list[str]:
    """Names of the files of the committed segments that are missing or fail their checksum.

    Every file tantivy writes ends with a JSON footer holding the CRC32 of the bytes before it, then
    the footer's length and a magic number; ``meta.json`` lists the segments of the last commit.
    """
    try:
        meta = json.loads((folder / "meta.json").read_text())
        segments = meta["segments"]
    except (OSError, ValueError, KeyError):
        return ["meta.json"]
    bad = []
    for segment in segments:
        for path in _segment_files(folder, segment):
            if not _intact(path):
                bad.append(path.name)
    return bad


def _segment_files(folder: Path, segment: dict) -> list[Path]:
    """The files one committed segment consists of."""
    stem = segment["segment_id"].replace("-", "")
    files = [folder / f"{stem}.{part}" for part in _PARTS
             if part != "pos" or (folder / f"{stem}.pos").exists()]
    if segment.get("deletes"):
        files.append(folder / f"{stem}.{segment['deletes']['opstamp']}.del")
    return files


def _intact(path: Path) -> bool:
    """The file exists and its content matches the CRC32 in its footer."""
    try:
        data = path.read_bytes()
        length, magic = struct.unpack("<II", data[-8:])
        footer = json.loads(data[-8 - length:-8])
        return magic == _MAGIC and zlib.crc32(data[:-8 - length]) == footer["crc"]
    except (OSError, ValueError, KeyError, struct.error):
        return False
