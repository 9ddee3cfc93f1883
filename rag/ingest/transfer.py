"""Moving an index into another store: chunks, vectors and records as they are, nothing re-embedded."""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from rag.ingest.indexer import IndexReport, Progress, document_batches
from rag.types import Chunk, Document

BATCH_CHUNKS = 2000  # chunks read from the source and written to the target at a time


def copy_index(source, target, progress: Progress | None = None,
               batch_chunks: int = BATCH_CHUNKS) -> IndexReport:
    """Write every complete document of ``source`` into ``target`` unless it is already there, unchanged.

    Both stores hold vectors of the same encoder (each checks it on open), so the source's vectors
    are written as they are. The target's own write protocol applies, so an interrupted copy is
    repaired and resumed by running it again.
    """
    began = time.perf_counter()
    report = IndexReport(repaired=target.repair())
    records, have = source.records(), target.records()
    todo = {d: r for d, r in records.items() if have.get(d) is None or _key(have[d]) != _key(r)}
    report.unchanged = len(records) - len(todo)
    report.updated = sum(1 for d in todo if d in have)
    report.added = len(todo) - report.updated
    chunks: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in source.all_chunks():
        if chunk.doc_id in todo:
            chunks[chunk.doc_id].append(chunk)
    total = sum(len(c) for c in chunks.values())
    documents = [(_document(doc_id, record), sorted(chunks[doc_id], key=lambda c: c.index))
                 for doc_id, record in todo.items()]
    for docs, batch in document_batches(documents, batch_chunks):
        vectors = source.embeddings([c.id for c in batch])
        target.write(docs, batch, np.stack([vectors[c.id] for c in batch]) if batch else np.zeros((0, 0)))
        report.chunks += len(batch)
        if progress:
            progress(report.chunks, total)
    report.seconds = time.perf_counter() - began
    return report


def _key(record) -> tuple:
    """What makes two records of one document the same indexed content."""
    return record.sha256, record.title, record.source, record.date, record.chunks


def _document(doc_id: str, record) -> Document:
    """The document a record describes, without its text (chunks carry the text)."""
    return Document(id=doc_id, title=record.title, source=record.source, text="", sha256=record.sha256,
                    date=record.date, file=record.file)


def copy_summary(report: IndexReport) -> str:
    """One line for people about a copy."""
    return (f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}; "
            f"{report.chunks} chunks copied with their vectors in {report.seconds:.1f}s, none re-embedded")
