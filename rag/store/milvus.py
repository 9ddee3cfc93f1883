"""The Milvus store: chunks with dense vectors and BM25 inside the engine, and document records.

Same protocol as the Chroma store (rag.store.chroma): a write marks the record pending with a lease,
replaces the chunks (deterministic ids, upsert), then completes the record; removal deletes the
record first. Lexical and hybrid search run in Milvus, so no process keeps a lexical index.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np

from rag.dates import date_number
from rag.errors import DocumentNotFound, IndexMismatch
from rag.store import milvus_schema as schema
from rag.store.base import PENDING, DocumentRecord, VectorSpace, check_counts, leftovers
from rag.store.lexical import ANALYSIS, analyzer
from rag.types import Chunk, Document, Filters, ScoredChunk

_WRITE_BATCH = 1000  # rows per upsert: one gRPC message stays far below its 64 MB limit
_PAGE = 5000  # rows per query page
_IN_BATCH = 500  # ids per `in [...]` expression
CREATE_WAITS = 8  # looks (about 7 s in all) for a collection another process is creating
RRF_K = 60  # as rag.retrieve.fusion
_CHUNK_FIELDS = ["id", "text", "doc_id", "chunk_index", "start_char", "end_char", "page", "title",
                 "source", "date"]
_DOC_FIELDS = ["id", "status", "title", "source", "file", "date", "sha256", "chunks", "leased_at",
               "indexed_at"]


class MilvusStore:
    """Two Milvus collections per rag collection: ``rag_c_NAME`` (chunks) and ``rag_d_NAME`` (records)."""

    # RRFRanker is our RRF; WeightedRanker normalises each list its own way (realtimeqa_news hybrid
    # nDCG@10 0.619 against 0.683 for our weighted fusion of the same two lists), so that stays ours.
    fuses = frozenset({"rrf"})

    def __init__(self, client, name: str, space: VectorSpace) -> None:
        self.client = client
        self.name = name
        self.space = space
        self.chunks = schema.CHUNKS_PREFIX + schema.encoded(name)
        self.docs = schema.DOCS_PREFIX + schema.encoded(name)
        self._create_missing()
        self.analysis = self._check_build()
        for collection in (self.chunks, self.docs):  # a restarted server holds every collection released
            self.client.load_collection(collection)

    def _create_missing(self) -> None:
        """Create both collections when absent (another process may create them at the same moment)."""
        properties = {"embed_model": self.space.model, "dimension": str(self.space.dimension),
                      "embed_variant": self.space.variant, "lexical_analysis": str(ANALYSIS),
                      "document_pieces": str(self.space.document_pieces)}
        for full, create in ((self.chunks, lambda n: schema.create_chunks(self.client, n,
                                                                           self.space.dimension, properties)),
                             (self.docs, lambda n: schema.create_docs(self.client, n))):
            if self.client.has_collection(full):
                continue
            try:
                create(full)
            except Exception:
                if not self._appears(full):
                    raise

    def _appears(self, full: str) -> bool:
        """True once a collection another process is creating right now exists.

        Milvus Lite creates a collection's folder before it lists the collection: a second creator
        meanwhile fails with "File exists" and sees no collection yet.
        """
        for attempt in range(CREATE_WAITS):
            if self.client.has_collection(full):
                return True
            time.sleep(0.2 * (attempt + 1))
        return False

    def _check_build(self) -> int:
        """Refuse a collection built with another encoder or encoder variant, take the document pieces
        it was embedded with, and return the version of the word analysis its stored terms were made
        with (rag.store.lexical.analyzer)."""
        meta = self.client.describe_collection(self.chunks).get("properties", {})
        built = (meta.get("embed_model"), meta.get("dimension"), meta.get("embed_variant"))
        space = self.space
        if built != (space.model, str(space.dimension), space.variant):
            raise IndexMismatch(
                f"collection {self.name!r} was built with {built[0]} (dimension {built[1]}, "
                f"{built[2]}), but this process embeds with {space.model} (dimension "
                f"{space.dimension}, {space.variant}); rebuild it with "
                f"`rag index --rebuild --collection {self.name} PATH`")
        self.space = space.as_built(meta.get("document_pieces"))
        return int(meta.get("lexical_analysis", 1))  # collections made before it was recorded: 1

    # -- records -------------------------------------------------------------------------------

    def records(self, ids: list[str] | None = None) -> dict[str, DocumentRecord]:
        """Every fully indexed document by id, or only those among ``ids``."""
        if ids is None:
            return self._all_records()[0]
        rows = [row for part in _parts(ids, _IN_BATCH)
                for row in self.client.get(self.docs, ids=part, output_fields=_DOC_FIELDS)]
        return {row["id"]: _record(row) for row in rows if row["status"] != PENDING}

    def _all_records(self) -> tuple[dict[str, DocumentRecord], dict[str, float]]:
        """Complete records by id, and pending ones (id -> lease start)."""
        done: dict[str, DocumentRecord] = {}
        pending: dict[str, float] = {}
        for row in self._scan(self.docs, _DOC_FIELDS):
            if row["status"] == PENDING:
                pending[row["id"]] = float(row["leased_at"])
            else:
                done[row["id"]] = _record(row)
        return done, pending

    def record(self, doc_id: str) -> DocumentRecord:
        """One document's record, or DocumentNotFound."""
        rows = self.client.get(self.docs, ids=[doc_id], output_fields=_DOC_FIELDS)
        if not rows or rows[0]["status"] == PENDING:
            raise DocumentNotFound(f"no document with id {doc_id!r} in collection {self.name!r}")
        return _record(rows[0])

    # -- writing -------------------------------------------------------------------------------

    def write(self, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Replace these documents' chunks and records; records complete last, so a crash leaves no lie."""
        ids = [d.id for d in docs]
        for part in _parts(ids, _IN_BATCH):
            now = time.time()
            self.client.upsert(self.docs, [_pending_row(i, now) for i in part])
            self.client.delete(self.chunks, filter=f"doc_id in {_strings(part)}")
        analyse = analyzer(self.analysis).analyze
        terms = [analyse(f"{c.title}\n{c.text}") for c in chunks]
        for i in range(0, len(chunks), _WRITE_BATCH):
            rows = [_chunk_row(c, v, t) for c, v, t in zip(chunks[i:i + _WRITE_BATCH],
                                                            vectors[i:i + _WRITE_BATCH],
                                                            terms[i:i + _WRITE_BATCH])]
            self.client.upsert(self.chunks, rows)
        counts = Counter(c.doc_id for c in chunks)
        now = time.time()
        for part in _parts(docs, _WRITE_BATCH):
            self.client.upsert(self.docs, [_doc_row(d, counts[d.id], now) for d in part])

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Delete documents: the record first, then its chunks."""
        for part in _parts(list(doc_ids), _IN_BATCH):
            self.client.delete(self.docs, ids=part)
            self.client.delete(self.chunks, filter=f"doc_id in {_strings(part)}")

    def repair(self) -> int:
        """Remove leftovers of interrupted writes (as the Chroma store does); returns documents fixed."""
        counts = Counter(row["doc_id"] for row in self._scan(self.chunks, ["doc_id"]))
        broken = leftovers(*self._all_records(), counts, shared=True)
        self.remove(sorted(broken))
        return len(broken)

    def check(self) -> None:
        """Consistency check on open: the chunks must match what the records say."""
        check_counts(self.name, lambda: (self.count(), *self._all_records()), shared=True)

    # -- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        """Number of chunks."""
        return _count(self.client, self.chunks)

    def sync(self) -> None:
        """Seal what was written into indexed segments, after a batch of writes."""
        # Milvus Lite scores unsealed rows by brute force on every search: at 891 chunks, BM25 took
        # 619 ms per query before a flush and 13 ms after.
        self.client.flush(self.chunks)
        self.client.flush(self.docs)

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k nearest chunks by cosine similarity, within the filters' dates."""
        hits = self.client.search(self.chunks, data=[_floats(vector)], anns_field="vector", limit=k,
                                  filter=date_filter(filters), output_fields=_CHUNK_FIELDS,
                                  search_params={"metric_type": "COSINE"})[0]
        return [_scored(h, similarity=float(h["distance"])) for h in hits]

    def lexical_search(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks with the highest BM25 score (Milvus's BM25 function), best first."""
        terms = query_terms(query, self.analysis)
        if not terms:
            return []
        hits = self.client.search(self.chunks, data=[terms], anns_field="sparse", limit=k,
                                  filter=date_filter(filters), output_fields=_CHUNK_FIELDS,
                                  search_params={"metric_type": "BM25"})[0]
        # Milvus Lite returns BM25 as a negative distance, Milvus itself as a positive score.
        return [_scored(h, lexical=abs(float(h["distance"]))) for h in hits if h["distance"]]

    def hybrid_search(self, query: str, vector: np.ndarray, k: int, filters: Filters = Filters(),
                      method: str = "rrf", weight: float = 0.7, depth: int = 50) -> list[ScoredChunk]:
        """Dense and BM25 top-``depth`` lists fused inside Milvus (RRFRanker or WeightedRanker)."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        expr = date_filter(filters)
        requests = [AnnSearchRequest(data=[_floats(vector)], anns_field="vector", limit=depth,
                                     param={"metric_type": "COSINE"}, expr=expr)]
        terms = query_terms(query, self.analysis)
        if terms:
            requests.append(AnnSearchRequest(data=[terms], anns_field="sparse", limit=depth,
                                             param={"metric_type": "BM25"}, expr=expr))
        ranker = RRFRanker(RRF_K) if method == "rrf" else WeightedRanker(weight, 1 - weight)
        hits = self.client.hybrid_search(self.chunks, requests, ranker, limit=k,
                                         output_fields=[*_CHUNK_FIELDS, "vector"])[0]
        query_vector = np.asarray(vector, dtype=np.float32)
        return [_scored(h, similarity=float(np.asarray(h["entity"]["vector"], np.float32) @ query_vector),
                        fused=abs(float(h["distance"]))) for h in hits]

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        """Chunks by id (missing ids are left out)."""
        if not ids:
            return []
        return [_chunk(row) for part in _parts(ids, _IN_BATCH)
                for row in self.client.get(self.chunks, ids=part, output_fields=_CHUNK_FIELDS)]

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (missing ids are left out)."""
        return {row["id"]: np.asarray(row["vector"], dtype=np.float32) for part in _parts(ids, _IN_BATCH)
                for row in self.client.get(self.chunks, ids=part, output_fields=["id", "vector"])}

    def document_chunks(self, doc_id: str, indexes: list[int] | None = None) -> list[Chunk]:
        """The chunks of one document (all, or those at ``indexes``), in order."""
        expr = f"doc_id == {_strings([doc_id])[1:-1]}"
        if indexes is not None:
            expr += f" and chunk_index in {[int(i) for i in indexes]}"
        rows = self.client.query(self.chunks, filter=expr, output_fields=_CHUNK_FIELDS)
        return sorted((_chunk(row) for row in rows), key=lambda c: c.index)

    def all_chunks(self) -> Iterator[Chunk]:
        """Every chunk, page by page."""
        return (_chunk(row) for row in self._scan(self.chunks, _CHUNK_FIELDS))

    def chunks_with_vectors(self, doc_ids: list[str]) -> tuple[list[Chunk], np.ndarray]:
        """These documents' chunks in order, with their stored vectors (for moving an index)."""
        rows = [row for part in _parts(doc_ids, _IN_BATCH)
                for row in self.client.query(self.chunks, filter=f"doc_id in {_strings(part)}",
                                             output_fields=[*_CHUNK_FIELDS, "vector"])]
        rows.sort(key=lambda r: (r["doc_id"], r["chunk_index"]))
        vectors = np.asarray([r["vector"] for r in rows], dtype=np.float32).reshape(len(rows), -1)
        return [_chunk(r) for r in rows], vectors

    def _scan(self, collection: str, fields: list[str]) -> Iterator[dict]:
        """Every row of a collection (a query iterator: Milvus caps offset paging at 16,384 rows)."""
        rows = self.client.query_iterator(collection, batch_size=_PAGE, filter="", output_fields=fields)
        try:
            while batch := rows.next():
                yield from batch
        finally:
            rows.close()


class MilvusCatalog:
    """The rag collections on one Milvus server (Lite, Standalone or Distributed)."""

    shared = True  # a server: other processes may write at the same time

    def __init__(self, client) -> None:
        self.client = client

    def open(self, name: str, space: VectorSpace) -> MilvusStore:
        """The collection ``name``, created when missing; IndexMismatch for another vector space."""
        return MilvusStore(self.client, name, space)

    def collections(self) -> dict[str, int]:
        """Our collections with their chunk counts."""
        return {name: _count(self.client, schema.CHUNKS_PREFIX + schema.encoded(name))
                for name in schema.collection_names(self.client)}

    def drop(self, name: str) -> None:
        """Delete a collection and its document records, if they exist."""
        schema.drop_collection(self.client, name)

    def close(self) -> None:
        """Close the connection."""
        self.client.close()


def open_server(url: str, side_dir=None, repairing: str | None = None) -> MilvusCatalog:
    """The Milvus server at ``milvus://HOST:PORT`` (nothing is kept beside it: ``side_dir`` is unused)."""
    return MilvusCatalog(schema.open_client(url))


def _count(client, collection: str) -> int:
    """Rows in a Milvus collection."""
    return int(client.query(collection, filter="", output_fields=["count(*)"])[0]["count(*)"])


def date_filter(filters: Filters) -> str:
    """The Milvus boolean expression for the filters' dates ('' for none)."""
    clauses = [f"date_num >= {date_number(filters.since)}"] if filters.since else []
    clauses += [f"date_num <= {date_number(filters.latest)}"] if filters.latest else []
    return " and ".join(clauses)


def query_terms(query: str, analysis: int) -> str:
    """The query analysed as the chunks were (rag.store.lexical.analyzer), joined by spaces."""
    return " ".join(analyzer(analysis).analyze(query))


def _parts(items: list, size: int) -> Iterator[list]:
    """Consecutive slices of at most ``size`` items."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _strings(values: list[str]) -> str:
    """A list literal for a Milvus expression (double-quoted, escaped)."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "[" + ", ".join(quoted) + "]"


def _floats(vector) -> list[float]:
    """A vector as the list of floats pymilvus sends."""
    return np.asarray(vector, dtype=np.float32).tolist()


def _chunk_row(c: Chunk, vector, terms: list[str]) -> dict:
    """The Milvus row of a chunk (absent date and page stored as '' and -1)."""
    return {"id": c.id, "vector": _floats(vector), "text": c.text, "terms": " ".join(terms),
            "doc_id": c.doc_id, "chunk_index": c.index, "start_char": c.start, "end_char": c.end,
            "page": -1 if c.page is None else c.page, "title": c.title, "source": c.source,
            "date": c.date or "", "date_num": date_number(c.date)}


def _scored(hit: dict, similarity: float | None = None, lexical: float | None = None,
            fused: float | None = None) -> ScoredChunk:
    """A search hit as a ScoredChunk."""
    return ScoredChunk(_chunk(hit["entity"] | {"id": hit["id"]}), similarity, lexical, fused)


def _chunk(row: dict) -> Chunk:
    """A Chunk from its Milvus row."""
    return Chunk(id=row["id"], doc_id=row["doc_id"], index=int(row["chunk_index"]), text=row["text"],
                 start=int(row["start_char"]), end=int(row["end_char"]), title=row["title"],
                 source=row["source"], date=row["date"] or None,
                 page=None if int(row["page"]) < 0 else int(row["page"]))


def _pending_row(doc_id: str, now: float) -> dict:
    """A record that says: a writer is replacing this document's chunks since ``now``."""
    return {"id": doc_id, "unused": [0.0, 0.0], "status": PENDING, "title": "", "source": "", "file": "",
            "date": "", "sha256": "", "chunks": 0, "leased_at": now, "indexed_at": 0.0}


def _doc_row(d: Document, chunks: int, now: float) -> dict:
    """The complete record of a document."""
    return {"id": d.id, "unused": [0.0, 0.0], "status": "done", "title": d.title, "source": d.source,
            "file": d.file, "date": d.date or "", "sha256": d.sha256, "chunks": chunks,
            "leased_at": 0.0, "indexed_at": now}


def _record(row: dict) -> DocumentRecord:
    """A DocumentRecord from its Milvus row."""
    return DocumentRecord(id=row["id"], title=row["title"], source=row["source"], file=row["file"],
                          date=row["date"] or None, sha256=row["sha256"], chunks=int(row["chunks"]),
                          indexed_at=float(row["indexed_at"]))

