"""The JSON shapes of results, shared by the CLI, the API and the window: one edit per new field."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI's path through a server imports this module without numpy or Chroma
    from rag.answer.citations import CitationLookup
    from rag.store.base import DocumentRecord
    from rag.types import Answer, ScoredChunk


def public_source(source: str) -> str:
    """A source without the server's absolute path: URLs as they are, files relative to where they live.

    An uploaded file is ``uploads/NAME``; a file under the server's working folder is relative to it;
    any other file is ``FOLDER/NAME`` (the indexed folder and the file). A ``#id`` suffix is kept.
    """
    path, hashmark, fragment = source.partition("#")
    if "://" in path or not path.startswith("/"):
        return source
    file, here = Path(path), Path.cwd()
    shown = str(file.relative_to(here)) if here != Path("/") and file.is_relative_to(here) else "/".join(
        file.parts[-2:])
    return shown + hashmark + fragment


def score(value: float | None) -> float | None:
    """A score rounded for display; None stays None (the score does not apply)."""
    return None if value is None else round(value, 4)


def passage_dict(r: ScoredChunk) -> dict:
    """A ranked passage: its three scores, where it is, and the near-duplicates it stands for."""
    c = r.chunk
    return {"similarity": score(r.similarity), "lexical": score(r.lexical), "fused": score(r.fused),
            "chunk_id": c.id, "doc_id": c.doc_id, "title": c.title, "source": public_source(c.source),
            "date": c.date, "page": c.page, "start": c.start, "end": c.end, "text": c.text,
            "duplicates": list(r.duplicates)}


def answer_dict(answer: Answer) -> dict:
    """An answer with its citations: the shape of ``rag ask --json`` and ``/api/ask``."""
    body = asdict(answer)
    for citation in body["citations"]:
        citation["source"] = public_source(citation["source"])
    return body


def lookup_dict(found: CitationLookup) -> dict:
    """A cited passage in its document: ``rag show --json`` and ``/api/citations/{id}``."""
    body = asdict(found)
    body["source"] = public_source(body["source"])
    return body


def record_dict(record: DocumentRecord) -> dict:
    """An indexed document, without the server-side path of its file."""
    public = asdict(record)
    public.pop("file", None)
    public["source"] = public_source(public["source"])
    return public
