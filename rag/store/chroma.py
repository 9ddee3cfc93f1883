"""The Chroma store: chunks with their embeddings, and one record per fully indexed document."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rag.errors import DocumentNotFound, IndexDamaged, IndexMismatch, InvalidRequest
from rag.types import Chunk, Document, ScoredChunk

DOCS_SUFFIX = "__docs"
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,60}[a-zA-Z0-9]$")
_PAGE = 5000  # rows per Chroma get() call
_WRITE_BATCH = 4000  # rows per Chroma upsert() call
LEASE_SECONDS = 600.0  # a pending record younger than this belongs to a writer still at work
PENDING = "pending"


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


def validate_collection_name(name: str) -> str:
    """Collection names Chroma accepts, without our reserved suffix."""
    if not _NAME.match(name) or name.endswith(DOCS_SUFFIX):
        raise InvalidRequest(f"collection name must be 3-62 letters, digits, '.', '_' or '-', "
                             f"not ending in {DOCS_SUFFIX!r}; got {name!r}")
    return name


class ChunkStore:
    """A pair of Chroma collections: ``NAME`` holds chunks, ``NAME__docs`` the document records.

    A write first marks the document's record pending (with a lease), then replaces its chunks, then
    completes the record; removal deletes the record before the chunks. So a complete record always
    means complete chunks; chunks without a record, or under a pending record whose lease ran out
    (or any pending record, when this process is the only writer), are leftovers of an interrupted
    run and are removed by ``repair``. Chunk ids are deterministic and written with upsert, so two
    writers racing on one document (several indexers on one Chroma server) cannot duplicate it.
    The lexical index beside the store (``lexical``, when attached) is told about each change after
    the store made it, so it is never ahead of the store; it catches up on open (rag.store.lexical).
    """

    lexical = None  # a rag.store.lexical.LexicalIndex, attached by whoever opens the store

    def __init__(self, client, name: str, model_name: str, dimension: int, variant: str = "fp32",
                 shared: bool = False) -> None:
        self.client = client
        self.name = validate_collection_name(name)
        self.model_name = model_name
        self.dimension = dimension
        self.variant = variant
        self.shared = shared
        meta = {"embed_model": model_name, "dimension": dimension, "embed_variant": variant}
        self.chunks = client.get_or_create_collection(
            name, embedding_function=None, metadata=meta, configuration={"hnsw": {"space": "cosine"}})
        self.docs = client.get_or_create_collection(name + DOCS_SUFFIX, embedding_function=None)
        self._check_model()
        self._consistent = False  # this process found no leftovers, and every write since completed

    def _check_model(self) -> None:
        """Refuse an index built with another encoder: its vectors would be meaningless here."""
        meta = self.chunks.metadata or {}
        built = (meta.get("embed_model"), meta.get("dimension"))
        if built != (self.model_name, self.dimension):
            raise IndexMismatch(
                f"collection {self.name!r} was built with {built[0]} (dimension {built[1]}), but this "
                f"build embeds with {self.model_name} (dimension {self.dimension}); rebuild it with "
                f"`rag index --rebuild --collection {self.name} PATH`")
        variant = meta.get("embed_variant", "fp32")  # collections made before variants were exact
        if variant != self.variant:
            names = {"fp32": "exact", "bf16": "fast"}
            raise IndexMismatch(
                f"collection {self.name!r} was embedded with the {names.get(variant, variant)} encoder "
                f"({variant}), this process uses the {names.get(self.variant, self.variant)} one "
                f"({self.variant}); set RAG_ENCODER={names.get(variant, variant)}, or rebuild it with "
                f"`rag index --rebuild --collection {self.name} PATH`")

    def records(self, ids: list[str] | None = None) -> dict[str, DocumentRecord]:
        """Every fully indexed document by id, or only those among ``ids``."""
        if ids is None:
            return self._all_records()[0]
        found: dict[str, DocumentRecord] = {}
        for i in range(0, len(ids), 500):
            got = self.docs.get(ids=ids[i:i + 500], include=["metadatas"])
            found |= {d: _record(d, m) for d, m in zip(got["ids"], got["metadatas"])
                      if m.get("status") != PENDING}
        return found

    def _all_records(self) -> tuple[dict[str, DocumentRecord], dict[str, float]]:
        """Complete records by id, and pending ones (id -> lease start)."""
        done: dict[str, DocumentRecord] = {}
        pending: dict[str, float] = {}
        for ids, metas in _pages(self.docs):
            for doc_id, meta in zip(ids, metas):
                if meta.get("status") == PENDING:
                    pending[doc_id] = float(meta.get("leased_at", 0))
                else:
                    done[doc_id] = _record(doc_id, meta)
        return done, pending

    def record(self, doc_id: str) -> DocumentRecord:
        """One document's record, or DocumentNotFound."""
        got = self.docs.get(ids=[doc_id], include=["metadatas"])
        if not got["ids"] or got["metadatas"][0].get("status") == PENDING:
            raise DocumentNotFound(f"no document with id {doc_id!r} in collection {self.name!r}")
        return _record(doc_id, got["metadatas"][0])

    def write(self, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Replace these documents' chunks and records; records complete last, so a crash leaves no lie."""
        consistent, self._consistent = self._consistent, False  # until this write completes
        ids = [d.id for d in docs]
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            self.docs.upsert(ids=part, embeddings=[[1.0]] * len(part),
                             metadatas=[{"status": PENDING, "leased_at": time.time()}] * len(part))
            self.chunks.delete(where={"doc_id": {"$in": part}})
        for i in range(0, len(chunks), _WRITE_BATCH):
            batch = chunks[i:i + _WRITE_BATCH]
            self.chunks.upsert(ids=[c.id for c in batch], embeddings=vectors[i:i + _WRITE_BATCH],
                               documents=[c.text for c in batch],
                               metadatas=[_chunk_meta(c) for c in batch])
        counts = Counter(c.doc_id for c in chunks)
        now = time.time()
        self.docs.upsert(ids=ids, embeddings=[[1.0]] * len(docs),
                         metadatas=[_doc_meta(d, counts[d.id], now) for d in docs])
        self._consistent = consistent
        if self.lexical is not None:
            self.lexical.write(docs, chunks)

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Delete documents: the record first, then its chunks."""
        doc_ids = list(doc_ids)
        consistent, self._consistent = self._consistent, False  # until this removal completes
        for i in range(0, len(doc_ids), 500):
            part = doc_ids[i:i + 500]
            self.docs.delete(ids=part)
            self.chunks.delete(where={"doc_id": {"$in": part}})
            if self.lexical is not None:
                self.lexical.remove(part)
        self._consistent = consistent

    def repair(self) -> int:
        """Remove leftovers of interrupted writes (see the class docstring); returns documents fixed.

        Its cost follows what it finds: nothing when this process already found the store
        consistent (and no other writer shares it), the records when nothing was interrupted, and
        every chunk's metadata only when the counts disagree.
        """
        if self._consistent and not self.shared:
            return 0
        records, pending = self._all_records()
        if not pending and self.chunks.count() == sum(r.chunks for r in records.values()):
            self._consistent = True
            return 0
        stale = time.time() - LEASE_SECONDS
        busy = {d for d, leased in pending.items() if self.shared and leased > stale}
        counts: Counter[str] = Counter()
        for _, metas in _pages(self.chunks):
            counts.update(meta["doc_id"] for meta in metas)
        broken = {d for d, n in counts.items() if d not in busy and
                  (d not in records or records[d].chunks != n)}
        broken |= {d for d, r in records.items() if counts.get(d, 0) != r.chunks}
        broken |= set(pending) - busy
        self.remove(sorted(broken))
        self._consistent = not busy
        return len(broken)

    def check(self) -> None:
        """Consistency check on open: the chunks must match what the records say."""
        for attempt in range(3 if self.shared else 1):
            if attempt:  # on a server, other writers may be between two steps: look again
                time.sleep(0.5)
            actual = self.chunks.count()
            records, pending = self._all_records()
            expected = sum(r.chunks for r in records.values())
            # Under a writer at work (pending records) there may be more chunks, never fewer.
            if actual == expected or (pending and actual > expected):
                self._consistent = actual == expected and not pending
                return
        self._consistent = False
        raise IndexDamaged(
            f"collection {self.name!r} is damaged or half-deleted: it holds {actual} chunks but "
            f"its records list {expected}; run `rag index --collection {self.name} PATH` to "
            f"repair it, or `rag index --rebuild --collection {self.name} PATH` to rebuild it")

    def count(self) -> int:
        """Number of chunks."""
        return self.chunks.count()

    def counts(self) -> tuple[int, int]:
        """(document records, pending ones included; chunks): a cheap sign that the store changed."""
        return self.docs.count(), self.chunks.count()

    def query(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[ScoredChunk]:
        """The k nearest chunks by cosine similarity."""
        if self.chunks.count() == 0:
            return []
        got = self.chunks.query(query_embeddings=[vector], n_results=k, where=where,
                                include=["documents", "metadatas", "distances"])
        return [ScoredChunk(_chunk(i, t, m), 1.0 - float(d)) for i, t, m, d in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        """Chunks by id (missing ids are left out)."""
        got = self.chunks.get(ids=ids, include=["documents", "metadatas"])
        return [_chunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (missing ids are left out)."""
        if not ids:
            return {}
        got = self.chunks.get(ids=ids, include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def document_chunks(self, doc_id: str, indexes: list[int] | None = None) -> list[Chunk]:
        """The chunks of one document (all, or those at ``indexes``), in order."""
        where: dict = {"doc_id": doc_id}
        if indexes is not None:
            where = {"$and": [where, {"index": {"$in": indexes}}]}
        got = self.chunks.get(where=where, include=["documents", "metadatas"])
        chunks = [_chunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(chunks, key=lambda c: c.index)

    def chunks_of(self, doc_ids: list[str]) -> list[Chunk]:
        """Every chunk of these documents."""
        got = self.chunks.get(where={"doc_id": {"$in": doc_ids}}, include=["documents", "metadatas"])
        return [_chunk(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def all_chunks(self) -> Iterable[Chunk]:
        """Every chunk, page by page."""
        for offset in range(0, self.chunks.count(), _PAGE):
            got = self.chunks.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            yield from (_chunk(i, t, m) for i, t, m in
                        zip(got["ids"], got["documents"], got["metadatas"]))


def drop_collection(client, name: str) -> None:
    """Delete a collection and its document records, if they exist."""
    existing = {c.name for c in client.list_collections()}
    for full in (validate_collection_name(name), name + DOCS_SUFFIX):
        if full in existing:
            client.delete_collection(full)


def collection_names(client) -> list[str]:
    """Our collections (without the document-record companions)."""
    return sorted(c.name for c in client.list_collections() if not c.name.endswith(DOCS_SUFFIX))


def _pages(collection):
    """(ids, metadatas) of a whole collection, in pages."""
    total = collection.count()
    for offset in range(0, total, _PAGE):
        got = collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
        yield got["ids"], got["metadatas"]


def date_number(date: str | None) -> int:
    """2020-09-12 -> 20200912, for range filters (Chroma compares numbers, not strings)."""
    return int(date.replace("-", "")) if date else 0


def _chunk_meta(c: Chunk) -> dict:
    """Chroma metadata of a chunk (Chroma refuses None values, so absent keys mean none)."""
    meta = {"doc_id": c.doc_id, "index": c.index, "start": c.start, "end": c.end,
            "title": c.title, "source": c.source, "date_num": date_number(c.date)}
    if c.date:
        meta["date"] = c.date
    if c.page is not None:
        meta["page"] = c.page
    return meta


def _chunk(chunk_id: str, text: str, meta: dict) -> Chunk:
    """A Chunk from its Chroma row."""
    return Chunk(id=chunk_id, doc_id=meta["doc_id"], index=int(meta["index"]), text=text,
                 start=int(meta["start"]), end=int(meta["end"]), title=meta.get("title", ""),
                 source=meta.get("source", ""), date=meta.get("date"), page=meta.get("page"))


def _doc_meta(d: Document, chunks: int, now: float) -> dict:
    """Chroma metadata of a document record."""
    # upsert merges into the old record: "status" overwrites pending, and a None date removes the
    # date of an earlier version (else a document that lost its date kept it, and looked changed)
    return {"title": d.title, "source": d.source, "file": d.file, "sha256": d.sha256,
            "chunks": chunks, "indexed_at": now, "status": "done", "date": d.date}


def _record(doc_id: str, meta: dict) -> DocumentRecord:
    """A DocumentRecord from its Chroma row."""
    return DocumentRecord(id=doc_id, title=meta.get("title", ""), source=meta.get("source", ""),
                          file=meta.get("file", ""), date=meta.get("date"),
                          sha256=meta.get("sha256", ""), chunks=int(meta.get("chunks", 0)),
                          indexed_at=float(meta.get("indexed_at", 0)))
