"""Sentence-aware chunking with character offsets and stable ids."""

from __future__ import annotations

import bisect
import hashlib

from rag.sentences import sentence_spans
from rag.types import Chunk, Document


def chunk_document(doc: Document, size: int = 1000, overlap: int = 150) -> list[Chunk]:
    """Pack whole sentences into chunks of about ``size`` characters, repeating up to ``overlap``.

    A chunk never crosses a page break, so the page of a chunk is the page of every sentence in it.
    """
    if size < 100 or not 0 <= overlap < size // 2:
        raise ValueError(f"chunk size must be >= 100 and overlap in [0, size/2), got {size}/{overlap}")
    spans = _split_long(doc.text, sentence_spans(doc.text), size)
    chunks: list[Chunk] = []
    for page_spans in _by_page(spans, doc.pages):
        for start, end in _pack(page_spans, size, overlap):
            chunks.append(_make_chunk(doc, len(chunks), start, end))
    return chunks


def _by_page(spans: list[tuple[int, int]], pages: tuple[int, ...]) -> list[list[tuple[int, int]]]:
    """Sentence spans grouped by the page they start on (one group when there are no pages)."""
    groups: dict[int, list[tuple[int, int]]] = {}
    for span in spans:
        groups.setdefault(bisect.bisect_right(pages, span[0]), []).append(span)
    return list(groups.values())


def _pack(spans: list[tuple[int, int]], size: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) of each chunk: runs of sentences up to ``size``, the next repeating up to ``overlap``."""
    packed: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last = first
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= size:
            last += 1
        packed.append((spans[first][0], spans[last][1]))
        if last + 1 >= len(spans):
            break
        first = _overlap_start(spans, first, last, overlap)
    return packed


def _overlap_start(spans: list[tuple[int, int]], first: int, last: int, overlap: int) -> int:
    """Index of the first sentence of the next chunk: trailing sentences that fit in ``overlap``."""
    start = last + 1
    while start - 1 > first and spans[last][1] - spans[start - 1][0] <= overlap:
        start -= 1
    return start


def _split_long(text: str, spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Cut sentences longer than ``size`` into pieces, at the last whitespace where there is one."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        while end - start > size:
            cut = text.rfind(" ", start + size // 2, start + size)
            cut = cut if cut > start else start + size
            out.append((start, cut))
            start = cut + 1 if text[cut:cut + 1] == " " else cut
        out.append((start, end))
    return out


def _make_chunk(doc: Document, index: int, start: int, end: int) -> Chunk:
    """A Chunk of ``doc.text[start:end]`` whose id depends on the document, position and text."""
    text = doc.text[start:end]
    digest = hashlib.sha256(f"{doc.id}\0{index}\0{start}\0{text}".encode()).hexdigest()[:16]
    page = bisect.bisect_right(doc.pages, start) if doc.pages else None
    return Chunk(id=digest, doc_id=doc.id, index=index, text=text, start=start, end=end,
                 title=doc.title, source=doc.source, date=doc.date, page=page)
