"""Retrievers: a query in, ranked chunks out. Dense search is the first; others plug in beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rag.embedding import Embedder
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
