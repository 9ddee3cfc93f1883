"""``rag index --repair``: rebuild a collection's vectors from the texts and records its database keeps."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rag.store.chroma import ChunkStore, DocumentRecord
from rag.store.integrity import vector_segment_folders
from rag.types import Chunk, Document

_BATCH = 1024


def drop_vector_segment(index_dir: Path, collection: str) -> int:
    """Remove a collection's vector-segment folders (derived data: rebuilt from the texts); how many."""
    folders = vector_segment_folders(index_dir, collection)
    for folder in folders:
        shutil.rmtree(folder)
    return len(folders)


def read_back(store: ChunkStore) -> tuple[list[Chunk], list[DocumentRecord]]:
    """Every chunk (text and offsets) and every complete record the database holds."""
    return list(store.all_chunks()), list(store.records().values())


def rewrite(store: ChunkStore, chunks: list[Chunk], records: list[DocumentRecord],
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
