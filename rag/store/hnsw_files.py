"""The HNSW files of a Chroma vector segment, checked against their own header without loading them.

Chroma's hnswlib writes ``header.bin`` (the element count and the size of one element's record)
beside ``data_level0.bin`` (one fixed-size record per element) and ``length.bin`` (one 4-byte entry
per element). Loading files shorter than the header says reads past their end in native code, which
can crash the process or answer from garbage, so their sizes are compared first.
"""

from __future__ import annotations

import struct
from pathlib import Path

# version, offsetLevel0, max_elements, cur_element_count, size_data_per_element, label_offset,
# offset_data, maxlevel, enterpoint, maxM, maxM0, M, mult, ef_construction (hnswlib's field order)
HEADER = struct.Struct("<IQQQQQQiIQQQdQ")
LABEL_BYTES = 8


def segment_folders(index_dir: Path) -> list[Path]:
    """Every folder of the index that holds HNSW files."""
    return sorted(path.parent for path in index_dir.glob("*/header.bin"))


def problem(folder: Path) -> str | None:
    """None when the folder's HNSW files agree with their header; else what is wrong, in one line."""
    header = folder / "header.bin"
    if header.stat().st_size != HEADER.size:
        return f"{header} holds {header.stat().st_size} bytes, not {HEADER.size}"
    fields = HEADER.unpack(header.read_bytes())
    _, offset0, capacity, count, per_element, label_offset, offset_data = fields[:7]
    if (offset0 or count > capacity or not offset_data < label_offset == per_element - LABEL_BYTES):
        return f"{header} does not describe an HNSW index (its fields disagree)"
    return (_short(folder / "data_level0.bin", count * per_element)
            or _short(folder / "length.bin", count * 4))


def _short(path: Path, wanted: int) -> str | None:
    """Why ``path`` cannot hold ``wanted`` bytes, if it cannot."""
    if not path.is_file():
        return f"{path} is missing"
    size = path.stat().st_size
    return f"{path} holds {size} bytes, but its header needs {wanted}" if size < wanted else None
