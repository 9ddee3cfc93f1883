"""Uploaded files: saved under the data folder with a unique safe name, checked, then indexed one by one.

An upload never overwrites what it did not name: names that sanitize alike get different stored
names, a file that fails to load leaves the previous version and its file as they were, and a
``.jsonl`` line cannot take over a document that came from another file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from rag.engine import Engine
from rag.errors import (
    DocumentConflict,
    DocumentNotFound,
    RagError,
    UnsupportedFile,
    UploadRejected,
    UploadTooLarge,
)
from rag.ingest.loaders import SUPPORTED_SUFFIXES, LoadReport, file_document_id, load_paths
from rag.store import DocumentRecord

UPLOADS = "uploads"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120
_COPY_BLOCK = 1 << 20
_PARTIAL = re.compile(r"^\.[0-9a-f]{32}\.")  # a copy being received: .UUID.NAME
_INTENT = ".intent-"  # .intent-UUID.json: a write under way, finished on the next open if cut short
log = logging.getLogger("rag.serve")


@dataclass(frozen=True)
class LineReport:
    """What happened to one line of an uploaded ``.jsonl`` file."""

    line: int
    status: str  # indexed | failed
    id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class FileReport:
    """What happened to one uploaded file."""

    filename: str
    saved_as: str | None
    status: str  # added | updated | unchanged | failed
    chunks: int = 0
    reason: str | None = None
    lines: list[LineReport] | None = None  # .jsonl files only
    error: RagError | None = field(default=None, repr=False, compare=False)  # why it failed, for a status

    @property
    def landed(self) -> bool:
        """True when the file's documents are indexed."""
        return self.status != "failed"

    def to_dict(self) -> dict:
        """JSON shape for the API."""
        return asdict(self, dict_factory=lambda pairs: {k: v for k, v in pairs if k != "error"})


def safe_name(filename: str) -> str:
    """A plain file name from whatever the client sent: no folders, no leading dots, no odd characters."""
    base = _base(filename)
    stem, dot, suffix = base.rpartition(".")
    stem, suffix = (stem, suffix) if dot else (base, "")
    stem = _UNSAFE.sub("_", stem).strip("._-")[:_MAX_NAME] or "upload"
    suffix = _UNSAFE.sub("", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def stored_name(filename: str) -> str:
    """Where an upload is kept under the upload area: its safe name, in a folder named by a short hash
    of the name as sent when sanitizing changed it.

    ``报告.txt`` and ``отчёт.txt``, ``Q3 report.txt`` and ``Q3_report.txt``, ``x.TXT`` and ``x.txt``
    are different files and keep apart; the same name uploaded again replaces its earlier version.
    The file itself keeps the safe name, so the title made from it stays readable.
    """
    base = unicodedata.normalize("NFC", _base(filename))
    safe = safe_name(filename)
    if safe == base:
        return safe
    return f"{hashlib.sha256(base.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}/{safe}"


def _base(filename: str) -> str:
    """The last part of a client's file name (either kind of slash)."""
    return re.split(r"[\\/]", filename or "")[-1]


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


def uploads_folder(engine: Engine) -> Path:
    """DATA_DIR/uploads, created on first use."""
    folder = (engine.settings.data_dir / UPLOADS).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def receive(folder: Path, filename: str, stream: BinaryIO, max_bytes: int) -> tuple[Path, Path]:
    """Copy an upload into a private hidden file beside its target; (partial, target)."""
    check_upload(filename, None, max_bytes)
    target = folder / stored_name(filename)
    if not target.resolve().is_relative_to(folder):  # cannot happen with stored_name; the last defence
        raise UploadRejected(f"{filename!r}: not a valid file name")
    partial = folder / f".{uuid.uuid4().hex}.{target.name}"  # same suffix: the loaders read it as is
    written = 0
    try:
        with open(partial, "wb") as out:
            while block := stream.read(_COPY_BLOCK):
                written += len(block)
                if written > max_bytes:
                    raise _too_large(filename, max_bytes)
                out.write(block)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return partial, target


def ingest(engine: Engine, uploads: list[tuple[str, BinaryIO]]) -> list[FileReport]:
    """Save and index each upload with the same ingestion as ``rag index``; one report per file."""
    folder = uploads_folder(engine)
    reports = []
    for filename, stream in uploads:
        try:
            partial, target = receive(folder, filename, stream, engine.settings.max_upload_bytes)
        except RagError as exc:
            reports.append(FileReport(filename, None, "failed", reason=str(exc), error=exc))
            continue
        try:
            with engine.write_lock:  # one file at a time replaces its target and indexes it
                reports.append(_land(engine, filename, partial, target))
        finally:
            partial.unlink(missing_ok=True)
    return reports


def _land(engine: Engine, filename: str, partial: Path, target: Path) -> FileReport:
    """Check the saved copy, then put it in place and index it; a failure leaves the old version alone."""
    root = engine.settings.documents_root
    loaded = load_paths([partial], engine.settings.max_file_bytes, root)
    lines = None
    if target.suffix == ".jsonl":
        lines = _refuse_takeovers(engine, partial, target, _line_reports(partial, target, loaded, root))
    good = [line for line in lines if line.status == "indexed"] if lines is not None else loaded.documents
    if not good:
        return _failed(filename, loaded.failures, lines)
    target.parent.mkdir(exist_ok=True)
    with _intent(uploads_folder(engine), op="index", file=str(target)):
        os.replace(partial, target)
        report = engine.index([target])
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    problems = [reason for _, reason in report.failed] if lines is None else []
    saved_as = str(target.relative_to(uploads_folder(engine)))
    return FileReport(filename, saved_as, "failed" if problems else status, chunks=report.chunks,
                      reason="; ".join(problems) or None, lines=lines)


def _failed(filename: str, failures: list[tuple[str, str]], lines: list[LineReport] | None) -> FileReport:
    """The report of a file none of whose documents could be indexed."""
    if lines:
        conflict = next((line.reason for line in lines if line.reason and "belongs to" in line.reason), None)
        error: RagError = (DocumentConflict(f"{filename!r}: {conflict}") if conflict else
                           UploadRejected(f"{filename!r}: no line could be indexed"))
    else:
        error = UploadRejected(f"{filename!r}: " + ("; ".join(r for _, r in failures) or "no document"))
    return FileReport(filename, None, "failed", reason=str(error).split(": ", 1)[1], lines=lines, error=error)


def _line_reports(partial: Path, target: Path, loaded: LoadReport, root: Path) -> list[LineReport]:
    """One report per non-blank line: its document's id (as the stored file gives it), or why it failed."""
    with partial.open("rb") as handle:
        numbers = [n for n, raw in enumerate(handle, start=1) if raw.strip()]
    failed = {}
    for name, reason in loaded.failures:
        where = name.rsplit(":", 1)[-1]
        failed[int(where) if where.isdigit() else 0] = reason
    ids = iter(_as_stored(d.id, partial, target, root) for d in loaded.documents)
    return [LineReport(n, "failed", reason=failed[n]) if n in failed else LineReport(n, "indexed", next(ids))
            for n in numbers]


def _as_stored(doc_id: str, partial: Path, target: Path, root: Path) -> str:
    """A line without an id is named after its file: the stored file, not the copy being checked."""
    here = file_document_id(partial, root)
    return file_document_id(target, root) + doc_id[len(here):] if doc_id.startswith(here) else doc_id


def _refuse_takeovers(engine: Engine, partial: Path, target: Path,
                      lines: list[LineReport]) -> list[LineReport]:
    """Lines whose id belongs to another file's document fail, and are blanked out of the stored copy."""
    records = engine.store.records()
    owner = str(target.resolve())
    taken = {line.line: records[line.id] for line in lines
             if line.id in records and records[line.id].file not in (owner, "")}
    if not taken:
        return lines
    _blank_lines(partial, set(taken))  # blank, not removed: the other lines keep their numbers
    return [LineReport(line.line, "failed", line.id, _belongs(line.id, taken[line.line], engine))
            if line.line in taken else line for line in lines]


def _belongs(doc_id: str, record: DocumentRecord, engine: Engine) -> str:
    """Why a line's id is refused, naming the document that has it."""
    return (f"id {doc_id!r} belongs to {record.title!r} from {public_file(record.file, engine)}; "
            "delete that document first or use another id")


def _blank_lines(path: Path, numbers: set[int]) -> None:
    """Empty the given lines of a file in place."""
    raw = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(b"\n" if n in numbers else line for n, line in enumerate(raw, start=1)))


def public_file(file: str, engine: Engine) -> str:
    """A stored file as the upload area names it (``uploads/NAME``), or its name."""
    path, folder = Path(file), uploads_folder(engine)
    return f"{UPLOADS}/{path.relative_to(folder)}" if path.is_relative_to(folder) else path.name


def delete(engine: Engine, doc_id: str) -> DocumentRecord:
    """Remove a document; an uploaded file no other document comes from is removed with it."""
    folder = uploads_folder(engine)
    with engine.write_lock:
        record = engine.store.record(doc_id)
        with _intent(folder, op="delete", id=doc_id, file=record.file):
            _delete(engine, folder, doc_id, record.file)
        return record


def _delete(engine: Engine, folder: Path, doc_id: str, file: str) -> None:
    """Remove a document (if still there), then its stored file when no other document uses it."""
    with suppress(DocumentNotFound):
        engine.delete_document(doc_id)
    stored = Path(file or ".")
    if stored.is_relative_to(folder) and not _still_used(engine, file):
        stored.unlink(missing_ok=True)
        if stored.parent != folder and not any(stored.parent.iterdir()):
            stored.parent.rmdir()


@contextmanager
def _intent(folder: Path, **op: str) -> Iterator[None]:
    """Note a write before it starts and forget it once done; ``recover`` finishes a noted one."""
    note = folder / f"{_INTENT}{uuid.uuid4().hex}.json"
    note.write_text(json.dumps(op), encoding="utf-8")
    yield
    note.unlink()


def recover(engine: Engine) -> int:
    """On open, as the only writer: repair the store, then finish the uploads and deletes a kill cut short.

    An interrupted upload is indexed again from its stored file (the new version when it was already
    in place, else the old one); an interrupted delete is carried through. Returns the writes finished.
    """
    folder = uploads_folder(engine)
    with engine.write_lock:
        repaired = engine.store.repair()
        for leftover in folder.glob(".*"):
            if _PARTIAL.match(leftover.name):
                leftover.unlink(missing_ok=True)
        notes = sorted(folder.glob(f"{_INTENT}*.json"))
        for note in notes:
            _finish(engine, folder, json.loads(note.read_text(encoding="utf-8")))
            note.unlink()
        if repaired or notes:
            engine.store.sync()
    return repaired + len(notes)


def _finish(engine: Engine, folder: Path, op: dict) -> None:
    """Carry one noted write through."""
    if op["op"] == "delete":
        _delete(engine, folder, op["id"], op["file"])
    elif Path(op["file"]).exists():
        engine.index([Path(op["file"])])


def _still_used(engine: Engine, file: str) -> bool:
    """True when another document comes from the same file (a .jsonl holds many)."""
    return file.endswith(".jsonl") and any(r.file == file for r in engine.store.records().values())


def refusal(reports: list[FileReport]) -> RagError:
    """When no file landed: the first file's kind of error, with every file's reason on one line."""
    first = next(r.error for r in reports if r.error is not None)
    return type(first)("nothing was indexed: " + "; ".join(str(r.error) for r in reports if r.error))
