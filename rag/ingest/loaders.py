"""Loading files into Documents: txt, md, html, pdf and eval-style jsonl."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.dates import find_date
from rag.errors import EmptyDocument, RagError, UnreadableFile, UnsupportedFile
from rag.types import Document, sha256_text

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl")
_HEADER_LINE = re.compile(r"^\s*(date|published|title)\b[:\s]\s*(.+?)\s*$", re.IGNORECASE)


@dataclass
class LoadReport:
    """What a walk over some paths produced: documents, and files skipped with the reason."""

    documents: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def file_document_id(path: Path, root: Path | None = None) -> str:
    """A stable id for the document of a file: a hash of its path relative to ``root``.

    Relative, so a clone or a moved folder gives its files (and their citations) the same ids; a
    file outside ``root``, or with no root, hashes its absolute path.
    """
    full = path.resolve()
    home = root.resolve() if root is not None else None
    return _path_id(full.relative_to(home).as_posix() if home and full.is_relative_to(home) else str(full))


def _path_id(key: str) -> str:
    """The id made of a file's key (its relative or absolute path)."""
    return "f" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:15]


def absolute_path_id(doc: Document, root: Path | None) -> str | None:
    """The id an index built before ids were relative gave this document; None when it is the same."""
    if not doc.file:
        return None
    old, new = _path_id(doc.file), file_document_id(Path(doc.file), root)
    return old + doc.id[len(new):] if old != new and doc.id.startswith(new) else None


def iter_files(paths: list[Path]) -> Iterator[Path]:
    """Every file under the given paths, recursively, in a stable order; hidden files skipped."""
    for root in paths:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                # Not only regular files: a fifo, socket or broken link is reported, not skipped.
                if not path.is_dir() and not any(p.startswith(".") for p in path.relative_to(root).parts):
                    yield path
        else:
            yield root


def load_paths(paths: list[Path], max_bytes: int | None = None, root: Path | None = None) -> LoadReport:
    """Load every file under the paths; a broken file is reported and skipped; ids relative to ``root``."""
    report = LoadReport()
    for path in iter_files(paths):
        report.files.append(str(path.resolve()))
        try:
            check_file(path, max_bytes)
            report.documents.extend(load_file(path, report.failures, root))
        except RagError as exc:
            report.failures.append((str(path), str(exc)))
        except OSError as exc:
            report.failures.append((str(path), f"cannot read file: {exc.strerror or exc}"))
    return report


def check_file(path: Path, max_bytes: int | None) -> None:
    """Refuse what is not a regular file, and files over ``max_bytes`` (jsonl holds many documents)."""
    if not path.exists() and not path.is_symlink():
        raise UnreadableFile("file disappeared before it could be read")
    if not path.is_file():
        raise UnreadableFile("not a regular file (a fifo, socket or broken link?)")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes and path.suffix.lower() != ".jsonl":
        raise UnreadableFile(f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB "
                             "limit (RAG_MAX_FILE_BYTES)")


def load_file(path: Path, failures: list[tuple[str, str]] | None = None,
              root: Path | None = None) -> list[Document]:
    """Load one file into its documents (one, or one per line for jsonl); ids relative to ``root``."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(f"unsupported file type {suffix or '(none)'!r}; supported: "
                              + ", ".join(SUPPORTED_SUFFIXES))
    doc_id = file_document_id(path, root)
    if suffix == ".jsonl":
        return list(_load_jsonl(path, doc_id, failures if failures is not None else []))
    if suffix == ".pdf":
        from rag.ingest.pdf import load_pdf

        return [load_pdf(path, doc_id)]
    text = decode_text(path.read_bytes())
    if suffix in (".html", ".htm"):
        from rag.ingest.html import html_to_document_fields

        title, date, text = html_to_document_fields(text)
        return [_document(path, doc_id, text, title or path.stem, date)]
    if suffix in (".md", ".markdown"):
        return [_markdown_document(path, doc_id, text)]
    title, date = _text_header(text)
    return [_document(path, doc_id, text, title or _title_from_name(path), date)]


def _markdown_document(path: Path, doc_id: str, source: str) -> Document:
    """A Markdown file with its markup blanked; front matter, then the first heading, give its title."""
    from rag.ingest.markdown import read_markdown

    read = read_markdown(source)
    header_title, header_date = _text_header(read.text, heading=read.title)
    return _document(path, doc_id, read.text, read.title or header_title or _title_from_name(path),
                     read.date or header_date)


def decode_text(data: bytes) -> str:
    """Decode file bytes: BOMs, then UTF-8, then Windows-1252/Latin-1; binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary content, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _document(path: Path, doc_id: str, text: str, title: str, date: str | None) -> Document:
    """A Document for a whole file; empty text is an error."""
    if not text.strip():
        raise EmptyDocument("no text in file")
    source = str(path.resolve())
    return Document(id=doc_id, title=title, source=source, text=text,
                    sha256=sha256_text(text), date=date, file=source)


def _text_header(text: str, heading: str | None = None) -> tuple[str | None, str | None]:
    """Title and date from leading ``date ...``/``title ...`` lines (after a ``heading`` line, if any)."""
    title = date = None
    for line in text.lstrip("\ufeff").splitlines()[:6]:
        if heading and line.strip() == heading:
            continue
        match = _HEADER_LINE.match(line)
        if not match:
            if line.strip():
                break
            continue
        key, value = match.group(1).lower(), match.group(2)
        if key == "title":
            title = title or value
        elif date is None:
            date = find_date(value)
    return title, date


def _title_from_name(path: Path) -> str:
    """A readable title from a file name: ``india-us_talks`` -> ``India us talks``."""
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def _load_jsonl(path: Path, file_id: str, failures: list[tuple[str, str]]) -> Iterator[Document]:
    """One document per line, in the layout of the eval sets: id, title, text, date/published, url.

    A line without an id is named after its file and line number (``FILEID-LINENO``).
    """
    source_file = str(path.resolve())
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            name = f"{path}:{lineno}"
            try:
                record = json.loads(decode_text(raw))
                text = record.get("text") if isinstance(record, dict) else None
                if not isinstance(text, str) or not text.strip():
                    raise EmptyDocument("line has no 'text'")
            except (ValueError, RagError) as exc:
                failures.append((name, f"bad jsonl line: {exc}"))
                continue
            doc_id = str(record.get("id") or f"{file_id}-{lineno}")
            date = record.get("date") or record.get("published")
            yield Document(id=doc_id, title=str(record.get("title") or doc_id),
                           source=str(record.get("url") or f"{source_file}#{doc_id}"), text=text,
                           sha256=sha256_text(text), date=find_date(str(date)) if date else None,
                           file=source_file)
