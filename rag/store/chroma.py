"""The Chroma store: chunks with their embeddings, and one record per fully indexed document.

The only module that speaks Chroma: an embedded index folder (one writer, locked) or a
``chroma run`` server over HTTP, with BM25 kept beside it (rag.store.lexical).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from chromadb.errors import InternalError

from rag.dates import date_number
from rag.errors import DocumentNotFound, IndexDamaged, IndexMismatch, RagError, StoreUnavailable
from rag.store import integrity
from rag.store.base import (
    LEASE_SECONDS,
    PENDING,
    RESERVED_SUFFIX,
    DocumentRecord,
    VectorSpace,
    validate_collection_name,
)
from rag.store.lexical import LexicalIndex
from rag.store.lock import FolderLock
from rag.types import Chunk, Document, Filters, ScoredChunk

_PAGE = 5000  # rows per Chroma get() call
_WRITE_BATCH = 4000  # rows per Chroma upsert() call
CONNECT_TIMEOUT = 2.0  # seconds to reach a Chroma server before a request is answered with 503
QUERY_ATTEMPTS = 5  # tries of a query a server answers while a segment is still being written
OVERFETCH = 4  # a date-filtered search first looks among this many times the unfiltered hits


class ChromaStore:
    """A pair of Chroma collections: ``NAME`` holds chunks, ``NAME__docs`` the document records.

    A write first marks the document's record pending (with a lease), then replaces its chunks, then
    completes the record; removal deletes the record before the chunks. So a complete record always
    means complete chunks; chunks without a record, or under a pending record whose lease ran out
    (or any pending record, when this process is the only writer), are leftovers of an interrupted
    run and are removed by ``repair``. Chunk ids are deterministic and written with upsert, so two
    writers racing on one document (several indexers on one Chroma server) cannot duplicate it.
    The lexical index beside the store (``lexical``) is told about each change after the store
    made it, so it is never ahead of the store; it catches up on open (rag.store.lexical).
    """

    def __init__(self, client, name: str, space: VectorSpace, lexical_dir: Path,
                 shared: bool = False, folder: Path | None = None) -> None:
        self.name = validate_collection_name(name)
        self.folder = folder  # the embedded index folder, whose manifest (rag.store.integrity) is kept
        self.shared = shared
        meta = {"embed_model": space.model, "dimension": space.dimension, "embed_variant": space.variant,
                "document_pieces": space.document_pieces}
        self.chunks = client.get_or_create_collection(
            name, embedding_function=None, metadata=meta, configuration={"hnsw": {"space": "cosine"}})
        self.docs = client.get_or_create_collection(name + RESERVED_SUFFIX, embedding_function=None)
        check_space(self.name, self.chunks.metadata or {}, space)
        self.space = space.as_built((self.chunks.metadata or {}).get("document_pieces"))
        self.lexical = LexicalIndex(self, lexical_dir / name)
        self._consistent = False  # this process found no leftovers, and every write since completed
        self._changes = 0  # writes and removals begun or ended in this process
        self._read: tuple | None = None  # (changes, counts, what was read) of the last full records read

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
        """Complete records by id, and pending ones (id -> lease start).

        Opening reads them up to three times (repair, BM25's catch-up, the consistency check), at
        0.25 s each for 3,750 documents; as the only writer, this process reads them again only
        after a write of its own or when the numbers of records or chunks moved (a change made
        behind its back).
        """
        changes, counts = self._changes, self.counts()
        if not self.shared and self._read is not None and self._read[:2] == (changes, counts):
            done, pending = self._read[2]
            return dict(done), dict(pending)
        done: dict[str, DocumentRecord] = {}
        pending: dict[str, float] = {}
        for ids, metas in _pages(self.docs):
            for doc_id, meta in zip(ids, metas):
                if meta.get("status") == PENDING:
                    pending[doc_id] = float(meta.get("leased_at", 0))
                else:
                    done[doc_id] = _record(doc_id, meta)
        if self._changes == changes:  # no write of ours began or ended while reading
            self._read = (changes, counts, (dict(done), dict(pending)))
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
        self._changes += 1
        ids = [d.id for d in docs]
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            self.docs.upsert(ids=part, embeddings=[[1.0]] * len(part),
                             metadatas=[{"status": PENDING, "leased_at": time.time()}] * len(part))
            self.chunks.delete(where={"doc_id": {"$in": part}})
        for i in range(0, len(chunks), _WRITE_BATCH):
            batch = chunks[i:i + _WRITE_BATCH]
            self.chunks.upsert(ids=[c.id for c in batch], embeddings=vectors[i:i + _WRITE_BATCH],
                               metadatas=[_chunk_meta(c) for c in batch])
        counts = Counter(c.doc_id for c in chunks)
        now = time.time()
        self.docs.upsert(ids=ids, embeddings=[[1.0]] * len(docs),
                         metadatas=[_doc_meta(d, counts[d.id], now) for d in docs])
        self._consistent = consistent
        self._changes += 1
        self.lexical.write(docs, chunks)

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Delete documents: the record first, then its chunks."""
        doc_ids = list(doc_ids)
        consistent, self._consistent = self._consistent, False  # until this removal completes
        self._changes += 1
        for i in range(0, len(doc_ids), 500):
            part = doc_ids[i:i + 500]
            self.docs.delete(ids=part)
            self.chunks.delete(where={"doc_id": {"$in": part}})
            self.lexical.remove(part)
        self._consistent = consistent
        self._changes += 1

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

    def sync(self) -> None:
        """Bring BM25 and the folder's manifest in step with what the store now holds."""
        self.lexical.sync()
        if self.folder is not None:
            integrity.remember(self.folder, {self.name: (self.docs.count(), self.chunks.count())})

    def lexical_search(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks with the highest BM25 score within the filters (rag.store.lexical)."""
        return self.lexical.search(query, k, filters)

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks nearest to ``vector`` within the filters' dates.

        Chroma's own filtered search costs 150-200 ms at 42k chunks against 6-15 ms unfiltered, so
        the unfiltered nearest ``OVERFETCH * k`` are filtered here first: when k of them pass, they
        are exactly the k nearest that pass. Only otherwise does Chroma filter.
        """
        if filters.empty:
            return self._query(vector, k)
        pool = self._query(vector, OVERFETCH * k)
        kept = [r for r in pool if filters.admits(r.chunk.date)][:k]
        if len(kept) == k or len(pool) < OVERFETCH * k:  # enough, or the pool is the whole collection
            return kept
        return self._query(vector, k, where(filters))

    def _query(self, vector: np.ndarray, k: int, clause: dict | None = None) -> list[ScoredChunk]:
        """The k nearest chunks by cosine similarity, within a Chroma ``where`` clause."""
        got = self._nearest(vector, k, clause)
        return [ScoredChunk(_chunk(i, t, m), similarity=1.0 - float(d)) for i, t, m, d in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]

    def _nearest(self, vector: np.ndarray, k: int, clause: dict | None) -> dict:
        """Chroma's query; on a server, asked again while another writer's first vectors reach disk."""
        def query() -> dict:
            return self.chunks.query(query_embeddings=[vector], n_results=k, where=clause,
                                     include=["documents", "metadatas", "distances"])
        for attempt in range(1, QUERY_ATTEMPTS):
            try:
                return query()
            except InternalError as error:
                # `chroma run` answers "Nothing found on disk" between a writer's first upsert and
                # the flush of its vector segment; a moment later the same query succeeds.
                if not (self.shared and "Nothing found on disk" in str(error)):
                    raise
                time.sleep(0.2 * attempt)
        return query()

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


class ChromaCatalog:
    """The collections of one Chroma client: an embedded folder (locked) or a server."""

    def __init__(self, client, lock: FolderLock | None, side_dir: Path, folder: Path | None = None) -> None:
        self.client = client
        self.lock = lock
        self.shared = lock is None
        self.side_dir = side_dir  # where BM25 indexes are kept, beside the store
        self.folder = folder  # the embedded index folder (None for a server)

    def open(self, name: str, space: VectorSpace) -> ChromaStore:
        """The collection ``name``, created when missing; IndexMismatch for another vector space."""
        return ChromaStore(self.client, name, space, self.side_dir / "lexical", self.shared, self.folder)

    def collections(self) -> dict[str, int]:
        """Our collections (without the record companions) with their chunk counts."""
        names = sorted(c.name for c in self.client.list_collections()
                       if not c.name.endswith(RESERVED_SUFFIX))
        return {name: self.client.get_collection(name).count() for name in names}

    def drop(self, name: str) -> None:
        """Delete a collection, its document records and its BM25 index, if they exist."""
        existing = {c.name for c in self.client.list_collections()}
        for full in (validate_collection_name(name), name + RESERVED_SUFFIX):
            if full in existing:
                self.client.delete_collection(full)
        shutil.rmtree(self.side_dir / "lexical" / name, ignore_errors=True)
        if self.folder is not None:
            integrity.forget(self.folder, name)

    def close(self) -> None:
        """Release the index folder (a server needs nothing released)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def open_folder(folder: Path, side_dir: Path, repairing: str | None = None) -> ChromaCatalog:
    """Embedded Chroma in ``folder``, locked against a second writing process, checked before Chroma
    opens it (rag.store.integrity); ``repairing`` drops that collection's vector index instead."""
    import chromadb

    lock = FolderLock(folder)
    lock.acquire()
    try:
        if repairing:
            integrity.drop_vector_segment(folder, repairing)
        else:
            integrity.check_before_open(folder)
        client = chromadb.PersistentClient(path=str(folder), settings=_chroma_settings())
    except RagError:
        lock.release()
        raise
    except Exception as exc:  # Chroma's own errors on a folder it cannot read
        lock.release()
        raise IndexDamaged(f"the index in {folder} cannot be opened ({integrity.first_line(exc)}); "
                           f"{integrity.repair_hint(folder)}") from exc
    return ChromaCatalog(client, lock, side_dir, folder)


def open_server(url: str, side_dir: Path, repairing: str | None = None) -> ChromaCatalog:
    """A ``chroma run`` server at ``http(s)://HOST:PORT`` or ``chroma://HOST:PORT``."""
    import chromadb

    parsed = urlparse(url)
    try:  # chroma:// is plain HTTP
        client = chromadb.HttpClient(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
                                     ssl=parsed.scheme == "https", settings=_chroma_settings())
        _bound_connect_time(client)
        client.heartbeat()
    except Exception as exc:  # chromadb raises bare Exceptions for connection failures
        raise unreachable(url, exc) from exc
    return ChromaCatalog(client, None, side_dir)


def unreachable(url: str | None, exc: Exception) -> StoreUnavailable:
    """The one-line error for a Chroma server that does not answer."""
    return StoreUnavailable(f"cannot reach the Chroma server at {url}: {exc or type(exc).__name__}")


def _bound_connect_time(client) -> None:
    """Chroma's HTTP session waits forever by default; a server that is gone must fail within seconds."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        session.timeout = httpx.Timeout(60.0, connect=CONNECT_TIMEOUT)


def _chroma_settings():
    """Chroma's client settings: no telemetry (the app runs offline)."""
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def check_space(name: str, meta: dict, space: VectorSpace) -> None:
    """Refuse an index built with another encoder: its vectors would be meaningless here."""
    built = (meta.get("embed_model"), meta.get("dimension"))
    if built != (space.model, space.dimension):
        raise IndexMismatch(
            f"collection {name!r} was built with {built[0]} (dimension {built[1]}), but this "
            f"build embeds with {space.model} (dimension {space.dimension}); rebuild it with "
            f"`rag index --rebuild --collection {name} PATH`")
    variant = meta.get("embed_variant", "fp32")  # collections made before variants were exact
    if variant != space.variant:
        names = {"fp32": "exact", "bf16": "fast"}
        raise IndexMismatch(
            f"collection {name!r} was embedded with the {names.get(variant, variant)} encoder "
            f"({variant}), this process uses the {names.get(space.variant, space.variant)} one "
            f"({space.variant}); set RAG_ENCODER={names.get(variant, variant)}, or rebuild it with "
            f"`rag index --rebuild --collection {name} PATH`")


def where(filters: Filters) -> dict | None:
    """The Chroma ``where`` clause for the project's filters."""
    clauses = []
    if filters.since:
        clauses.append({"date_num": {"$gte": date_number(filters.since)}})
    if filters.latest:
        clauses.append({"date_num": {"$lte": date_number(filters.latest)}})
    if len(clauses) > 1:
        return {"$and": clauses}
    return clauses[0] if clauses else None


def _pages(collection):
    """(ids, metadatas) of a whole collection, in pages."""
    total = collection.count()
    for offset in range(0, total, _PAGE):
        got = collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
        yield got["ids"], got["metadatas"]


def _chunk_meta(c: Chunk) -> dict:
    """Chroma metadata of a chunk, its text included (Chroma refuses None values: absent keys mean none).

    The text is metadata rather than a Chroma document because Chroma builds a trigram full-text
    index of documents, which nothing here searches (BM25 is rag.store.lexical) and which cost half
    the CPU of a write. Indexes written before keep their text as documents; ``_chunk`` reads both.
    """
    meta = {"doc_id": c.doc_id, "index": c.index, "start": c.start, "end": c.end, "text": c.text,
            "title": c.title, "source": c.source, "date_num": date_number(c.date)}
    if c.date:
        meta["date"] = c.date
    if c.page is not None:
        meta["page"] = c.page
    return meta


def _chunk(chunk_id: str, document: str | None, meta: dict) -> Chunk:
    """A Chunk from its Chroma row: the text is in the metadata, or (written before) the document."""
    return Chunk(id=chunk_id, doc_id=meta["doc_id"], index=int(meta["index"]),
                 text=meta.get("text", document), start=int(meta["start"]), end=int(meta["end"]),
                 title=meta.get("title", ""), source=meta.get("source", ""), date=meta.get("date"),
                 page=meta.get("page"))


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
