"""The store seam: what any store of chunks, vectors and document records must offer.

A ``Catalog`` is one place where collections live (an index folder, a Chroma server, ...); a
``Store`` is one collection in it. Filters are the project's own type (``rag.types.Filters``):
each store translates them into its engine's query language, and nothing outside ``rag/store``
sees that language. The contract every implementation passes is ``tests/test_store_contract.py``.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np

from rag.errors import IndexDamaged, InvalidRequest
from rag.types import Chunk, Document, Filters, ScoredChunk

RESERVED_SUFFIX = "__docs"
LEASE_SECONDS = 600.0  # a pending record younger than this belongs to a writer still at work
PENDING = "pending"
WHOLE_WINDOW = 256  # the word pieces a chunk's vector read before collections recorded it
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,60}[a-zA-Z0-9]$")


@dataclass(frozen=True)
class VectorSpace:
    """What the vectors of a collection were made with; a store refuses to mix two spaces."""

    model: str
    dimension: int
    variant: str = "fp32"
    document_pieces: int = WHOLE_WINDOW  # word pieces of a chunk its vector reads

    def as_built(self, recorded: object) -> VectorSpace:
        """This space with the document pieces an existing collection recorded (the whole window when
        it has none)."""
        return replace(self, document_pieces=int(recorded or WHOLE_WINDOW))


@dataclass(frozen=True)
class DocumentRecord:
    """What the store knows about one indexed document."""

    id: str
    title: str
    source: str
    file: str
    date: str | None
    sha256: str
    chunks: int
    indexed_at: float


def leftovers(records: dict[str, DocumentRecord], pending: dict[str, float], chunks: Counter[str],
              shared: bool) -> set[str]:
    """Documents an interrupted write left behind: chunks without a complete record, a chunk count
    the record disagrees with, or a pending record, unless a live writer's lease still covers it."""
    stale = time.time() - LEASE_SECONDS
    busy = {d for d, leased in pending.items() if shared and leased > stale}
    broken = {d for d, n in chunks.items() if d not in busy and (d not in records or records[d].chunks != n)}
    broken |= {d for d, r in records.items() if chunks.get(d, 0) != r.chunks}
    return broken | (set(pending) - busy)


def check_counts(name: str, look: Callable[[], tuple[int, dict, dict]], shared: bool) -> None:
    """IndexDamaged unless the chunk count ``look()`` sees matches its records (chunks, records, pending)."""
    for attempt in range(3 if shared else 1):
        if attempt:  # on a server, other writers may be between two steps: look again
            time.sleep(0.5)
        actual, records, pending = look()
        expected = sum(r.chunks for r in records.values())
        # Under a writer at work (pending records) there may be more chunks, never fewer.
        if actual == expected or (pending and actual > expected):
            return
    raise IndexDamaged(
        f"collection {name!r} is damaged or half-deleted: it holds {actual} chunks but "
        f"its records list {expected}; run `rag index --collection {name} PATH` to "
        f"repair it, or `rag index --rebuild --collection {name} PATH` to rebuild it")


def validate_collection_name(name: str) -> str:
    """3-62 letters, digits, '.', '_' or '-', not ending in the reserved suffix (InvalidRequest)."""
    if not _NAME.match(name) or name.endswith(RESERVED_SUFFIX):
        raise InvalidRequest(f"collection name must be 3-62 letters, digits, '.', '_' or '-', "
                             f"not ending in {RESERVED_SUFFIX!r}; got {name!r}")
    return name


class Store(Protocol):
    """One collection: chunks with their vectors, and a record per fully indexed document.

    Writes are crash-safe: a document's record is complete only once all its chunks are in, and
    it is removed before its chunks, so a complete record always means complete chunks.
    """

    name: str
    space: VectorSpace  # what its vectors were made with, as the collection recorded it

    def write(self, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Replace these documents' chunks (row i of ``vectors`` is chunk i) and records."""

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Delete documents: their records, then their chunks."""

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks nearest to ``vector`` that pass the filters; ``similarity`` is the cosine."""

    def lexical_search(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks with the best BM25 score (title + text) that pass the filters, in ``lexical``."""

    def records(self, ids: list[str] | None = None) -> dict[str, DocumentRecord]:
        """Every fully indexed document by id, or only those among ``ids`` (a cost that follows them)."""

    def record(self, doc_id: str) -> DocumentRecord:
        """One document's record, or DocumentNotFound."""

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        """Chunks by id (missing ids are left out)."""

    def document_chunks(self, doc_id: str, indexes: list[int] | None = None) -> list[Chunk]:
        """The chunks of one document (all, or those at ``indexes``), in order."""

    def all_chunks(self) -> Iterable[Chunk]:
        """Every chunk, in pages."""

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (missing ids are left out)."""

    def count(self) -> int:
        """Number of chunks."""

    def check(self) -> None:
        """Raise IndexDamaged (naming the command that repairs it) when chunks and records disagree."""

    def repair(self) -> int:
        """Remove leftovers of interrupted writes; the number of documents fixed."""

    def sync(self) -> None:
        """Bring derived indexes (lexical) in step after a batch of writes and deletes."""


@runtime_checkable
class FusingStore(Store, Protocol):
    """A store whose engine fuses dense and lexical lists itself (Milvus): hybrid search in one call."""

    fuses: frozenset[str]  # the fusion methods its engine computes as rag.retrieve.fusion does

    def hybrid_search(self, query: str, vector: np.ndarray, k: int, filters: Filters = Filters(),
                      method: str = "weighted", weight: float = 0.7, depth: int = 50) -> list[ScoredChunk]:
        """The k best of the top-``depth`` dense and lexical lists fused by ``method`` (weighted or rrf)."""


class Catalog(Protocol):
    """Where collections live: opened once per process, closed to release it."""

    shared: bool  # other processes may write at the same time (a server), so repairs wait on leases

    def open(self, name: str, space: VectorSpace) -> Store:
        """The collection ``name`` (created when missing), or IndexMismatch for another vector space."""

    def collections(self) -> dict[str, int]:
        """Every collection with its chunk count (creating none)."""

    def drop(self, name: str) -> None:
        """Delete a collection and everything in it, whatever it was built with."""

    def close(self) -> None:
        """Release what the catalog holds (a folder lock, connections)."""
