"""Retrievers: a query in, ranked chunks out, every result with its cosine ``similarity`` filled in."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from rag.embedding import Embedder
from rag.retrieve.recency import Recency
from rag.settings import RetrieverKind
from rag.store.base import FusingStore, Store
from rag.types import Filters, ScoredChunk

NO_RECENCY = Recency(0.0, 0.0)
OVERFETCH = 4  # the recency window's dense candidates come from this many times the unfiltered hits


class Retriever(Protocol):
    """Anything that ranks chunks for a query; ``ranks_by`` names the score its order follows."""

    ranks_by: str  # "similarity", "lexical" or "fused"

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k best chunks, best first."""
        ...


class DenseRetriever:
    """Nearest neighbours of the query embedding in the store."""

    ranks_by = "similarity"

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks closest to the query by cosine similarity."""
        return self.store.dense_search(self.embedder.embed_query(query), k, filters)


class LexicalRetriever:
    """BM25 over the chunks (the store's lexical search); the similarity is added for the gates."""

    ranks_by = "lexical"

    def __init__(self, store: Store, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks with the highest BM25 scores."""
        hits = self.store.lexical_search(query, k, filters)
        if not hits:
            return []
        cosine = similarities(self.store, self.embedder.embed_query(query), [r.chunk.id for r in hits])
        return [replace(r, similarity=cosine.get(r.chunk.id, 0.0)) for r in hits]


def similarities(store: Store, vector, ids: list[str]) -> dict[str, float]:
    """The cosine of each stored chunk's vector to the query's."""
    return {i: float(v @ vector) for i, v in store.embeddings(ids).items()}


class HybridRetriever:
    """Dense and BM25 candidates fused (weighted scores or RRF), ranked by the ``fused`` score.

    Each result keeps its cosine ``similarity`` (computed for BM25-only candidates too), so the
    relevance gates mean the same whichever retriever ranked the chunks, and its BM25 score.
    Given an as-of date, candidates from the weeks before it are searched for as well and gain a
    recency bonus: a share of the best fused score, so it means the same for both fusions.
    A store whose engine fuses as we do (a FusingStore: Milvus, for RRF) does it all in one call,
    except with an as-of date, whose recency bonus needs both lists here.
    """

    ranks_by = "fused"

    def __init__(self, store: Store, embedder: Embedder, method: str = "weighted",
                 weight: float = 0.7, depth: int = 50, recency: Recency = NO_RECENCY) -> None:
        self.store = store
        self.embedder = embedder
        self.method = method
        self.weight = weight
        self.depth = depth
        self.recency = recency

    def retrieve(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k best chunks by fused rank."""
        from rag.retrieve import fusion

        vector = self.embedder.embed_query(query)
        n = max(k, self.depth)
        as_of = filters.as_of if self.recency.enabled else None
        if isinstance(self.store, FusingStore) and self.method in self.store.fuses and not as_of:
            return self.store.hybrid_search(query, vector, k, filters, self.method, self.weight, n)
        dense = self.store.dense_search(vector, n, filters)
        lexical = self.store.lexical_search(query, n, filters)
        if as_of:  # the weeks before the as-of date get candidates of their own
            recent = replace(filters, since=max(filters.since or "", self.recency.window_start(as_of)))
            pool = self.store.dense_search(vector, OVERFETCH * n)
            dense = _union(dense, [r for r in pool if recent.admits(r.chunk.date)][:n])
            lexical = _union(lexical, self.store.lexical_search(query, n, recent))
        chunks = {r.chunk.id: r.chunk for r in dense + lexical}
        cosine = {r.chunk.id: r.similarity for r in dense}
        cosine |= similarities(self.store, vector, [r.chunk.id for r in lexical if r.chunk.id not in cosine])
        bm25 = {r.chunk.id: r.lexical for r in lexical}
        if self.method == "rrf":
            fused = fusion.rrf([[r.chunk.id for r in dense], [r.chunk.id for r in lexical]])
        else:
            fused = fusion.weighted(cosine, bm25, self.weight)
        if as_of:
            scale = max(fused.values(), default=0.0)
            fused = {i: s + scale * self.recency.bonus(chunks[i].date, as_of) for i, s in fused.items()}
        return [ScoredChunk(chunks[i], cosine.get(i, 0.0), bm25.get(i), fused[i])
                for i in fusion.order(fused)[:k]]


def _union(first: list[ScoredChunk], second: list[ScoredChunk]) -> list[ScoredChunk]:
    """Both lists' chunks, each once (scores for one query agree wherever a chunk appears)."""
    seen = {r.chunk.id for r in first}
    return first + [r for r in second if r.chunk.id not in seen]


def make_retriever(kind: RetrieverKind | str, store: Store, embedder: Embedder, method: str = "weighted",
                   weight: float = 0.7, depth: int = 50, recency: Recency = NO_RECENCY) -> Retriever:
    """The retriever named ``kind`` (dense, lexical or hybrid; checked by Settings)."""
    match RetrieverKind(kind):
        case RetrieverKind.DENSE:
            return DenseRetriever(store, embedder)
        case RetrieverKind.LEXICAL:
            return LexicalRetriever(store, embedder)
        case RetrieverKind.HYBRID:
            return HybridRetriever(store, embedder, method, weight, depth, recency)
