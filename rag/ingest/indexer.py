"""Incremental indexing: load, skip what is unchanged, chunk, embed, replace, prune."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rag.embedding import Embedder
from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import absolute_path_id, load_paths
from rag.store.base import DocumentRecord, Store
from rag.types import Chunk, Document

Progress = Callable[[int, int], None]  # (chunks done, chunks total)


@dataclass
class IndexReport:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    repaired: int = 0
    chunks: int = 0
    seconds: float = 0.0
    encode_seconds: float = 0.0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people, with the figures: rate and time spent in the encoder."""
        figures = ""
        if self.chunks and self.seconds:
            figures = (f", {self.chunks / self.seconds:.1f} chunks/s; encoder {self.encode_seconds:.1f}s"
                       f" ({100 * self.encode_seconds / self.seconds:.0f}% of the run)")
        return (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"removed {self.removed}, failed {len(self.failed)}; "
                f"{self.chunks} chunks embedded in {self.seconds:.1f}s{figures}")


@dataclass(frozen=True)
class ChunkingOptions:
    """How documents are cut and what text is embedded for each chunk."""

    size: int = 1000
    overlap: int = 150
    title_in_chunk: bool = False


def index_paths(paths: list[Path], store: Store, embedder: Embedder,
                options: ChunkingOptions = ChunkingOptions(), prune: bool = False,
                progress: Progress | None = None, max_file_bytes: int | None = None,
                batch_chunks: int = 1024, root: Path | None = None) -> IndexReport:
    """Bring the store in step with the files under ``paths``; files are named relative to ``root``.

    Chunks are embedded ``batch_chunks`` at a time: the Embedder sorts each call's texts by
    length, so large calls pad little; each batch goes to Chroma in one write while the next one is
    being encoded.
    """
    began = time.perf_counter()
    report = IndexReport()
    missing = [str(p) for p in paths if not p.exists()]
    report.failed += [(p, "no such file or folder") for p in missing]
    loaded = load_paths([p for p in paths if p.exists()], max_file_bytes, root)
    report.failed += loaded.failures
    report.repaired = store.repair()
    documents = _unique(loaded.documents, report)
    records = store.records(None if prune else [d.id for d in documents])  # pruning needs them all
    todo = [d for d in documents if d.id not in records or _changed(records[d.id], d)]
    report.unchanged = len(documents) - len(todo)
    report.updated = sum(1 for d in todo if d.id in records)
    report.added = len(todo) - report.updated
    report.chunks, report.encode_seconds = _embed_and_write(todo, store, embedder, options, progress,
                                                              batch_chunks)
    moved = _retire_absolute_ids(documents, root, store)
    report.added, report.updated = report.added - moved, report.updated + moved
    if prune:
        report.removed = _prune(paths, records, documents, loaded.failures, store)
    report.seconds = time.perf_counter() - began
    return report


def _changed(record: DocumentRecord, doc: Document) -> bool:
    """The text or what travels with its chunks (title, source, date) differs from what is stored."""
    return (record.sha256, record.title, record.source, record.date) != (
        doc.sha256, doc.title, doc.source, doc.date)


def _retire_absolute_ids(documents: list[Document], root: Path | None, store: Store) -> int:
    """Remove the documents an older index keeps under ids of absolute paths, now written anew.

    Runs after the new documents are written, so an interruption leaves both, never neither.
    """
    old = [i for i in (absolute_path_id(d, root) for d in documents) if i]
    found = list(store.records(old)) if old else []
    store.remove(found)
    return len(found)


def _unique(documents: list[Document], report: IndexReport) -> list[Document]:
    """Drop later documents that reuse an id, reporting them."""
    seen: dict[str, Document] = {}
    for doc in documents:
        if doc.id in seen:
            report.failed.append((doc.source, f"duplicate document id {doc.id!r} (kept the first)"))
        else:
            seen[doc.id] = doc
    return list(seen.values())


def _embed_and_write(todo: list[Document], store: Store, embedder: Embedder,
                     options: ChunkingOptions, progress: Progress | None,
                     batch_chunks: int) -> tuple[int, float]:
    """Chunk, embed and store documents, writing one batch while encoding the next.

    Returns the number of chunks written and the seconds spent in the encoder.
    """
    chunked = [(d, chunk_document(d, options.size, options.overlap)) for d in todo]
    total = sum(len(chunks) for _, chunks in chunked)
    done, encoding = 0, 0.0
    writing: Future | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-write") as writer:
        for docs, chunks in document_batches(chunked, batch_chunks):
            began = time.perf_counter()
            vectors = chunk_vectors(embedder, store, chunks, options.title_in_chunk)
            encoding += time.perf_counter() - began
            if writing is not None:
                writing.result()
            writing = writer.submit(store.write, docs, chunks, vectors)
            done += len(chunks)
            if progress:
                progress(done, total)
        if writing is not None:
            writing.result()
    return total, encoding


def document_batches(chunked: list[tuple[Document, list[Chunk]]],
             size: int) -> Iterator[tuple[list[Document], list[Chunk]]]:
    """Whole documents grouped into batches of about ``size`` chunks."""
    docs: list[Document] = []
    chunks: list[Chunk] = []
    for doc, doc_chunks in chunked:
        docs.append(doc)
        chunks.extend(doc_chunks)
        if len(chunks) >= size:
            yield docs, chunks
            docs, chunks = [], []
    if docs:
        yield docs, chunks


def embedding_text(chunk: Chunk, title_in_chunk: bool) -> str:
    """The text the encoder sees for a chunk: optionally its title first."""
    return f"{chunk.title}\n{chunk.text}" if title_in_chunk and chunk.title else chunk.text


def chunk_vectors(embedder: Embedder, store: Store, chunks: list[Chunk], title_in_chunk: bool):
    """The chunks' vectors as the store's collection holds them (its cut of word pieces)."""
    return embedder.embed([embedding_text(c, title_in_chunk) for c in chunks], store.space.document_pieces)


def _prune(paths: list[Path], records: dict, documents: list[Document],
           failures: list[tuple[str, str]], store: Store) -> int:
    """Remove documents under ``paths`` that this run no longer found; failed files are kept."""
    roots = [str(p.resolve()) for p in paths]
    seen = {d.id for d in documents}
    failed = {str(Path(name.rsplit(":", 1)[0]).resolve()) for name, _ in failures} | {
        str(Path(name).resolve()) for name, _ in failures}
    gone = [r.id for r in records.values()
            if r.id not in seen and r.file not in failed and _under(r.file, roots)]
    store.remove(gone)
    return len(gone)


def _under(file: str, roots: list[str]) -> bool:
    """True when ``file`` is one of ``roots`` or inside one of them."""
    return any(file == root or file.startswith(root.rstrip("/") + "/") for root in roots)
