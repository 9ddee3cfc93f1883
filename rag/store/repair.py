"""``rag index --repair``: rebuild a collection's vectors from the texts and records its database keeps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rag.store.base import DocumentRecord, Store
from rag.types import Chunk, Document

_BATCH = 1024


def read_back(store: Store) -> tuple[list[Chunk], list[DocumentRecord]]:
    """Every chunk (text and offsets) and every complete record the database holds."""
    return list(store.all_chunks()), list(store.records().values())


def rewrite(store: Store, chunks: list[Chunk], records: list[DocumentRecord],
            embed: Callable[[list[Chunk]], np.ndarray]) -> int:
    """Write chunks with fresh vectors, and their records; returns the chunks written."""
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    kept = [r for r in records if by_doc.get(r.id)]
    batch_docs: list[Document] = []
    batch_chunks: list[Chunk] = []
    for record in kept:
        batch_docs.append(Document(id=record.id, title=record.title, source=record.source, text="",
                                   sha256=record.sha256, date=record.date, file=record.file))
        batch_chunks += by_doc[record.id]
        if len(batch_chunks) >= _BATCH or record is kept[-1]:
            store.write(batch_docs, batch_chunks, embed(batch_chunks))
            batch_docs, batch_chunks = [], []
    return sum(len(by_doc[r.id]) for r in kept)
