"""BM25 over a collection's chunks: a tantivy index beside the store, changed document by document.

The store tells the index about every write and removal after it made them (``write``,
``remove``), so a change costs time in proportion to the document. Every tantivy commit is atomic
and each chunk carries its document's version, so after a crash between the store's step and the
index's, ``sync`` finds the documents whose versions differ from the store's records and redoes
only those. Files that fail tantivy's own checksums, or an index of another format or word
analysis, are rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from rag.dates import date_number
from rag.store.lexical_files import damaged_files
from rag.types import Chunk, Document, Filters, ScoredChunk

log = logging.getLogger(__name__)

FORMAT = 3  # bump when the schema changes: an index of another format or analysis is rebuilt
# The analysis (what a text's words are), by version: 1 kept accents, 2 folds them; bump when it
# changes. Milvus stores the analysed words, so its collections keep the analysis they were built
# with (rag.store.milvus).
ANALYSIS = 2
_MARKER = "rag-lexical.json"
_ANALYZER = "rag_en"
# Lucene's English stop words (what BM25 used before, via bm25s), removed before stemming.
STOP_WORDS = ("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
              "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then",
              "there", "these", "they", "this", "to", "was", "will", "with")
_KEY_SEP = "\x1f"  # between a document's id and its version in the doc_key field
_BATCH_DOCS = 200  # documents fetched from the store per call when catching up
_PARTS = 64  # chunks fall into parts by a hash of their document id, so that ...
_BUCKETS = 50_000  # ... each look at the versions stays under tantivy's 65,000 buckets (4M docs)
_WRITER_WAIT = 30.0  # seconds to wait for another process's writer to finish
_POLL = 1.0  # on a shared store, seconds between cheap looks for other writers' changes
_RECHECK = 30.0  # ... and between full comparisons (an edit elsewhere that kept every count)


class ChunkSource(Protocol):
    """What the lexical index reads from the store it follows."""

    shared: bool  # other processes may write to the store

    def records(self) -> dict:
        """Every fully indexed document's record (id, sha256, title, date, chunks), by id."""

    def counts(self) -> tuple[int, int]:
        """(records, chunks): a cheap sign that the store changed."""

    def get_chunks(self, ids: list[str]) -> list[Chunk]:
        """Chunks by id."""

    def chunks_of(self, doc_ids: list[str]) -> list[Chunk]:
        """Every chunk of these documents."""


def version(sha256: str, title: str, date: str | None, chunks: int) -> str:
    """What a document's chunks in the index were made from; any change gives another version."""
    return hashlib.sha1(f"{sha256}\0{title}\0{date or ''}\0{chunks}".encode()).hexdigest()[:16]


class LexicalIndex:
    """BM25 (Snowball-stemmed English, title + text) over one collection, kept in ``folder``."""

    def __init__(self, store: ChunkSource, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self._index = None
        self._synced = False
        self._lock = threading.RLock()
        self._counts: tuple[int, int] | None = None  # the store's counts when last compared
        self._polled = self._compared = 0.0

    def search(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks with the highest BM25 score within the filters' dates, best first."""
        import tantivy

        self._follow()
        terms = analyzer().analyze(query)
        if not terms:
            return []
        schema = self._index.schema
        words = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t)) for t in terms])
        if not filters.empty:  # a filter only: it adds nothing to the score
            since, latest = filters.since, filters.latest
            dates = tantivy.Query.range_query(schema, "date", tantivy.FieldType.Integer,
                                              date_number(since) if since else None,
                                              date_number(latest) if latest else None)
            words = tantivy.Query.boolean_query([(tantivy.Occur.Must, words), (
                tantivy.Occur.Must, tantivy.Query.const_score_query(dates, 0.0))])
        searcher = self._index.searcher()
        ranked = sorted(((searcher.doc(address)["chunk_id"][0], score)
                         for score, address in searcher.search(words, k, count=False).hits),
                        key=lambda hit: (-hit[1], hit[0]))  # ties by id, whatever the segments
        chunks = {c.id: c for c in self.store.get_chunks([cid for cid, _ in ranked])} if ranked else {}
        return [ScoredChunk(chunks[cid], lexical=score) for cid, score in ranked if cid in chunks]

    def write(self, docs: list[Document], chunks: list[Chunk]) -> None:
        """Replace these documents' chunks (the store has just written them)."""
        by_doc: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            by_doc[chunk.doc_id].append(chunk)
        with self._lock, self._changing(), self._writer() as writer:
            for doc in docs:
                writer.delete_documents_by_term("doc_id", doc.id)
                key = version(doc.sha256, doc.title, doc.date, len(by_doc[doc.id]))
                for chunk in by_doc[doc.id]:
                    writer.add_document(_document(chunk, key))
        self._saw_own_change()

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Drop these documents' chunks (the store has just removed them)."""
        with self._lock, self._changing(), self._writer() as writer:
            for doc_id in doc_ids:
                writer.delete_documents_by_term("doc_id", doc_id)
        self._saw_own_change()

    def sync(self) -> int:
        """Bring the index in step with the store; returns the documents redone or dropped."""
        with self._lock:
            if self._synced and not self.store.shared:
                return 0  # every change since the last comparison came through write / remove
            return self._reconcile()

    def _reconcile(self) -> int:
        """Compare versions with the store's records and redo or drop the documents that differ.

        Reads the records (not the chunks) and the versions the index holds; only documents whose
        versions differ are fetched from the store again.
        """
        with self._lock:
            self._open()
            self._index.reload()  # another process sharing the folder may have committed
            self._counts, self._compared = self.store.counts(), time.monotonic()
            want = {r.id: (version(r.sha256, r.title, r.date, r.chunks), r.chunks)
                    for r in self.store.records().values()}
            held = self.held()
            stale = [d for d in held if d not in want]
            todo = sorted(d for d, v in want.items() if held.get(d) != v)
            if stale or todo:
                log.info("lexical index %s: redoing %d documents, dropping %d", self.folder,
                         len(todo), len(stale))
                self._catch_up(stale, todo, want)
            self._synced = True
            return len(stale) + len(todo)

    def _follow(self) -> None:
        """Catch up before searching: once per process, then on a shared store what others changed.

        The store's counts are looked at most once a second; when they moved, or every
        ``_RECHECK`` seconds in any case, the versions are compared (``sync``).
        """
        if not self._synced:
            self._reconcile()
            return
        now = time.monotonic()
        if not self.store.shared or now - self._polled < _POLL:
            return
        self._polled = now
        if self.store.counts() != self._counts or now - self._compared > _RECHECK:
            self._reconcile()

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """A change the store has made: if it fails here, the next search compares versions."""
        try:
            yield
        except BaseException:
            self._synced = False
            raise

    def _saw_own_change(self) -> None:
        """After our own write, the store's new counts are no news (a shared store's poll skips them)."""
        if self._synced and self.store.shared:
            self._counts = self.store.counts()

    def held(self) -> dict[str, tuple[str, int]]:
        """The documents in the index: id -> (version, chunk count)."""
        import tantivy

        self._open()
        searcher = self._index.searcher()
        groups = min(_PARTS, -(-searcher.num_docs // _BUCKETS))
        held: dict[str, tuple[str, int]] = {}
        for group in range(groups):
            parts = [p for p in range(_PARTS) if p % groups == group]
            agg = searcher.aggregate(tantivy.Query.term_set_query(self._index.schema, "part", parts), {
                "docs": {"terms": {"field": "doc_key", "size": _BUCKETS}}})
            for bucket in agg["docs"]["buckets"]:
                doc_id, _, key = bucket["key"].rpartition(_KEY_SEP)
                # two versions of one document would be a fault: count it as out of step
                held[doc_id] = ("", -1) if doc_id in held else (key, bucket["doc_count"])
        return held

    def _catch_up(self, stale: list[str], todo: list[str], want: dict[str, tuple[str, int]]) -> None:
        """Drop ``stale`` documents and re-add ``todo`` ones from the store, committing per batch."""
        with self._writer() as writer:
            for doc_id in stale:
                writer.delete_documents_by_term("doc_id", doc_id)
        for part in _parts(todo, _BATCH_DOCS):
            chunks = self.store.chunks_of(part)
            counts = Counter(c.doc_id for c in chunks)
            with self._writer() as writer:
                for doc_id in part:
                    writer.delete_documents_by_term("doc_id", doc_id)
                for chunk in chunks:
                    # a count that differs from the record's (a writer at work) stays visible: redone
                    key = want[chunk.doc_id][0] if counts[chunk.doc_id] == want[chunk.doc_id][1] else "-"
                    writer.add_document(_document(chunk, key))

    def _open(self) -> None:
        """Open the index folder, rebuilding it empty when missing, damaged, of another format or analysis."""
        import tantivy

        if self._index is not None:
            return
        with _only_one_opener(self.folder):
            problem = self._problem()
            if problem:
                if problem != "missing":
                    log.warning("lexical index %s is %s; rebuilding it from the store", self.folder, problem)
                self._create()
            index = tantivy.Index.open(str(self.folder))
        index.register_tokenizer(_ANALYZER, analyzer())
        self._index = index

    def _problem(self) -> str | None:
        """Why the folder cannot be used as it is: missing, another format, damaged; None if fine."""
        import tantivy

        if not (self.folder / _MARKER).is_file() or not tantivy.Index.exists(str(self.folder)):
            return "missing"
        try:
            if json.loads((self.folder / _MARKER).read_text()) != _marker():
                return "of another format or analysis"
        except (OSError, ValueError):
            return "damaged (unreadable format marker)"
        bad = damaged_files(self.folder)
        return f"damaged ({', '.join(bad)})" if bad else None

    def _create(self) -> None:
        """A fresh, empty index in the folder (the format marker is written last)."""
        import tantivy

        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        tantivy.Index(_schema(), path=str(self.folder), reuse=False)
        (self.folder / _MARKER).write_text(json.dumps(_marker()))
        self._synced = False

    def _writer(self) -> _Writing:
        """A context that holds tantivy's writer, commits on success and makes the commit visible."""
        self._open()
        return _Writing(self._index)


@contextmanager
def _only_one_opener(folder: Path) -> Iterator[None]:
    """Processes sharing the folder (several on one Chroma server) check and create it one at a time.

    Two of them finding it missing would otherwise each empty it while the other creates it.
    """
    import fcntl

    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.open-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


class _Writing:
    """One batch of changes: the writer lock (waiting for another process's), commit, reload."""

    def __init__(self, index) -> None:
        self.index = index
        self.writer = None

    def __enter__(self):
        deadline = time.monotonic() + _WRITER_WAIT
        while True:
            try:
                self.writer = self.index.writer(heap_size=15_000_000, num_threads=1)
                return self.writer
            except ValueError as exc:  # LockBusy: another process (or object) is writing
                if "Lock" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.writer.commit()
        else:
            self.writer.rollback()
        self.writer.wait_merging_threads()  # also releases the writer lock
        self.index.reload()


def _marker() -> dict[str, int]:
    """What the index folder was made with: schema format and word analysis."""
    return {"format": FORMAT, "analysis": ANALYSIS}


def _document(chunk: Chunk, key: str):
    """The tantivy document of one chunk."""
    import tantivy

    return tantivy.Document(chunk_id=chunk.id, doc_id=chunk.doc_id,
                            doc_key=f"{chunk.doc_id}{_KEY_SEP}{key}", date=date_number(chunk.date),
                            part=zlib.crc32(chunk.doc_id.encode()) % _PARTS,
                            body=f"{chunk.title}\n{chunk.text}")


def _schema():
    """Chunk id (returned), document id (for deletes), version, part, date, and the words."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("doc_id", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("doc_key", tokenizer_name="raw", index_option="basic", fast=True)
    builder.add_integer_field("date", indexed=True, fast=True)
    builder.add_integer_field("part", indexed=True)
    builder.add_text_field("body", tokenizer_name=_ANALYZER, index_option="freq")
    return builder.build()


_ANALYZERS = threading.local()


def analyzer(analysis: int = ANALYSIS):
    """Words of two or more letters or digits, lower-cased, accents off (from analysis 2), stop words
    out, Snowball-stemmed."""
    import tantivy

    if not hasattr(_ANALYZERS, "by_version"):
        _ANALYZERS.by_version = {}
    made = _ANALYZERS.by_version
    if analysis not in made:
        words = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"\w\w+"))
                 .filter(tantivy.Filter.lowercase()))
        if analysis >= 2:
            words = words.filter(tantivy.Filter.ascii_fold())  # Hōryū-ji is found by "horyu ji", and back
        made[analysis] = (words.filter(tantivy.Filter.custom_stopword(list(STOP_WORDS)))
                          .filter(tantivy.Filter.stemmer("english")).build())
    return made[analysis]


def _parts(items: list[str], size: int) -> Iterator[list[str]]:
    """``items`` in consecutive slices of ``size``."""
    for i in range(0, len(items), size):
        yield items[i:i + size]
