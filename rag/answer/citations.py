"""Citation ids and lookup: every citation resolves to real text at real offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.errors import CitationNotFound
from rag.store.base import Store
from rag.types import Chunk

_CITATION_ID = re.compile(r"^([0-9a-f]{16})-(\d+)-(\d+)$")
CONTEXT_CHARS = 600


def citation_id(chunk_id: str, start: int, end: int) -> str:
    """``CHUNKID-START-END``: the chunk and the quoted span's offsets in its document."""
    return f"{chunk_id}-{start}-{end}"


@dataclass(frozen=True)
class CitationLookup:
    """A cited span shown in its document: the quote, the passage, and the text around it."""

    id: str
    doc_id: str
    title: str
    source: str
    date: str | None
    page: int | None
    quote: str
    start: int
    end: int
    chunk_id: str
    passage: str
    passage_start: int
    passage_end: int
    before: str  # up to CONTEXT_CHARS of document text just before the passage
    after: str  # and just after it


def resolve(store: Store, cid: str) -> CitationLookup:
    """Look a citation id up in the store; unknown or stale ids raise CitationNotFound."""
    match = _CITATION_ID.match(cid.strip())
    if not match:
        raise CitationNotFound(f"{cid!r} is not a citation id (expected CHUNKID-START-END)")
    chunk_id, start, end = match.group(1), int(match.group(2)), int(match.group(3))
    found = store.get_chunks([chunk_id])
    if not found:
        raise CitationNotFound(f"citation {cid} not found: its passage is no longer indexed")
    chunk = found[0]
    if not chunk.start <= start < end <= chunk.end:
        raise CitationNotFound(f"citation {cid} not found: offsets lie outside passage {chunk_id}")
    before, after = _context(store, chunk)
    return CitationLookup(
        id=cid, doc_id=chunk.doc_id, title=chunk.title, source=chunk.source, date=chunk.date,
        page=chunk.page, quote=chunk.text[start - chunk.start:end - chunk.start], start=start,
        end=end, chunk_id=chunk.id, passage=chunk.text, passage_start=chunk.start,
        passage_end=chunk.end, before=before, after=after)


def _context(store: Store, chunk: Chunk) -> tuple[str, str]:
    """Up to CONTEXT_CHARS of document text before and after the passage, from its neighbours."""
    neighbours = store.document_chunks(chunk.doc_id, indexes=[chunk.index - 1, chunk.index + 1])
    before = after = ""
    for other in neighbours:
        if other.index < chunk.index and other.start < chunk.start:
            before = other.text[:chunk.start - other.start][-CONTEXT_CHARS:]
        elif other.index > chunk.index and other.end > chunk.end:
            after = other.text[max(0, chunk.end - other.start):][:CONTEXT_CHARS]
    return before, after
