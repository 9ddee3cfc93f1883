"""Uploaded files: checked, saved under the data folder with a safe name, then indexed one by one."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from rag.engine import Engine
from rag.errors import RagError, UnsupportedFile, UploadRejected, UploadTooLarge
from rag.ingest.loaders import SUPPORTED_SUFFIXES

UPLOADS = "uploads"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120
_COPY_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileReport:
    """What happened to one uploaded file."""

    filename: str
    saved_as: str | None
    status: str  # added | updated | unchanged | failed
    chunks: int = 0
    reason: str | None = None

    def to_dict(self) -> dict:
        """JSON shape for the API."""
        return asdict(self)


def safe_name(filename: str) -> str:
    """A plain file name from whatever the client sent: no folders, no leading dots, no odd characters."""
    base = re.split(r"[\\/]", filename or "")[-1]
    stem, dot, suffix = base.rpartition(".")
    stem, suffix = (stem, suffix) if dot else (base, "")
    stem = _UNSAFE.sub("_", stem).strip("._-")[:_MAX_NAME] or "upload"
    suffix = _UNSAFE.sub("", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def check_upload(filename: str, size: int | None, max_bytes: int) -> None:
    """Refuse a file the loaders cannot read, or one known to be over ``max_bytes``."""
    suffix = Path(safe_name(filename)).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(f"{filename!r}: unsupported file type {suffix or '(none)'}; "
                             f"supported: {', '.join(SUPPORTED_SUFFIXES)}")
    if size is not None and size > max_bytes:
        raise _too_large(filename, max_bytes)


def _too_large(filename: str, max_bytes: int) -> UploadTooLarge:
    return UploadTooLarge(f"{filename!r} is larger than the upload limit of {max_bytes / 2**20:g} MB")


def save_upload(data_dir: Path, filename: str, stream: BinaryIO, max_bytes: int) -> Path:
    """Copy an upload into DATA_DIR/uploads under a safe name, refusing it past ``max_bytes``."""
    check_upload(filename, None, max_bytes)
    folder = (data_dir / UPLOADS).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / safe_name(filename)).resolve()
    if target.parent != folder:  # cannot happen with safe_name; kept as the last line of defence
        raise UploadRejected(f"{filename!r}: not a valid file name")
    partial = target.with_name(f".{target.name}.part")
    written = 0
    with open(partial, "wb") as out:
        while block := stream.read(_COPY_BLOCK):
            written += len(block)
            if written > max_bytes:
                out.close()
                partial.unlink()
                raise _too_large(filename, max_bytes)
            out.write(block)
    partial.replace(target)
    return target


def ingest(engine: Engine, uploads: list[tuple[str, BinaryIO]]) -> list[FileReport]:
    """Save and index each upload with the same ingestion as ``rag index``; one report per file."""
    reports = []
    for filename, stream in uploads:
        try:
            path = save_upload(engine.settings.data_dir, filename, stream, engine.settings.max_upload_bytes)
        except RagError as exc:
            reports.append(FileReport(filename, None, "failed", reason=str(exc)))
            continue
        reports.append(_index_one(engine, filename, path))
    return reports


def _index_one(engine: Engine, filename: str, path: Path) -> FileReport:
    """Index one saved file; a file that fails to load is removed again and reported."""
    report = engine.index([path])
    if report.failed:
        path.unlink(missing_ok=True)
        reason = "; ".join(reason for _, reason in report.failed)
        return FileReport(filename, None, "failed", reason=reason)
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    return FileReport(filename, path.name, status, chunks=report.chunks)

