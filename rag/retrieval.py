"""Retrievers: a query in, ranked chunks out. Dense search is the first; others plug in beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rag.embedding import Embedder
from rag.errors import InvalidRequest
from rag.store import ChunkStore, date_number
from rag.types import ScoredChunk


@dataclass(frozen=True)
class Filters:
    """Restrictions on what may be retrieved: a date range (ISO dates, inclusive)."""

    since: str | None = None
    until: str | None = None

    def where(self) -> dict | None:
        """The Chroma ``where`` clause for these filters."""
        clauses = []
        if self.since:
            clauses.append({"date_num": {"$gte": date_number(self.since)}})
        if self.until:
            clauses.append({"date_num": {"$lte": date_number(self.until)}})
        if len(clauses) > 1:
            return {"$and": clauses}
        return clauses[0] if clauses else None


class Retriever(Protocol):
    """Anything that ranks chunks for a query."""

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k best chunks, best first."""
        ...


class DenseRetriever:
    """Nearest neighbours of the query embedding in Chroma."""

    def __init__(self, store: ChunkStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks closest to the query by cosine similarity."""
        return self.store.query(self.embedder.embed_query(query), k, filters.where())


class LexicalRetriever:
    """BM25 over the chunks (see rag.lexical)."""

    def __init__(self, lexical) -> None:
        self.lexical = lexical

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks with the highest BM25 scores."""
        return self.lexical.search(query, k, filters.since, filters.until)


class HybridRetriever:
    """Dense and BM25 candidates fused (weighted scores or RRF); scores stay cosine similarities.

    The order is the fused one; each chunk's ``score`` is its cosine similarity to the query, so
    the relevance threshold for declining means the same whichever retriever ranked the chunks.
    """

    def __init__(self, store: ChunkStore, embedder: Embedder, lexical, method: str = "weighted",
                 weight: float = 0.7, depth: int = 50) -> None:
        self.store = store
        self.embedder = embedder
        self.lexical = lexical
        self.method = method
        self.weight = weight
        self.depth = depth

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k best chunks by fused rank."""
        from rag import fusion

        vector = self.embedder.embed_query(query)
        n = max(k, self.depth)
        dense = self.store.query(vector, n, filters.where())
        lexical = self.lexical.search(query, n, filters.since, filters.until)
        chunks = {r.chunk.id: r.chunk for r in dense + lexical}
        cosine = {r.chunk.id: r.score for r in dense}
        missing = [r.chunk.id for r in lexical if r.chunk.id not in cosine]
        cosine |= {i: float(v @ vector) for i, v in self.store.embeddings(missing).items()}
        if self.method == "rrf":
            fused = fusion.rrf([[r.chunk.id for r in dense], [r.chunk.id for r in lexical]])
        else:
            fused = fusion.weighted(cosine, {r.chunk.id: r.score for r in lexical}, self.weight)
        return [ScoredChunk(chunks[i], cosine.get(i, 0.0)) for i in fusion.order(fused)[:k]]


class CollapsingRetriever:
    """Wraps a retriever so that near-duplicate passages are collapsed into one result."""

    def __init__(self, inner: Retriever, widen: int = 3) -> None:
        self.inner = inner
        self.widen = widen

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k best distinct passages; each lists the sources of the copies it stands for."""
        from rag.dedup import collapse

        return collapse(self.inner.retrieve(query, k * self.widen, filters))[:k]


RETRIEVERS = ("dense", "lexical", "hybrid")


def make_retriever(kind: str, store: ChunkStore, embedder: Embedder, lexical=None,
                   method: str = "weighted", weight: float = 0.7, depth: int = 50) -> Retriever:
    """The retriever named ``kind`` (dense, lexical or hybrid)."""
    if kind == "dense":
        return DenseRetriever(store, embedder)
    if kind == "lexical":
        return LexicalRetriever(lexical)
    if kind == "hybrid":
        return HybridRetriever(store, embedder, lexical, method, weight, depth)
    raise InvalidRequest(f"unknown retriever {kind!r}; choose one of {', '.join(RETRIEVERS)}")
