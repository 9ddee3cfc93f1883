"""The engine: the one object the CLI, the API and the chat window all call."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from rag.answer.citations import CitationLookup, resolve
from rag.answer.conversation import standalone_query
from rag.answer.extractive import ExtractiveAnswerer
from rag.embedding import Embedder, shared_embedder
from rag.errors import CollectionNotFound, InvalidRequest
from rag.ingest.indexer import ChunkingOptions, IndexReport, Progress, index_paths
from rag.retrieve.retrievers import CollapsingRetriever, Retriever, make_retriever
from rag.settings import Settings
from rag.store import Catalog, DocumentRecord, Store, VectorSpace, open_catalog
from rag.types import Answer, Filters, ScoredChunk

MAX_K = 50


class Engine:
    """Owns the embedder and the store (both opened lazily) and answers questions over them."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or shared_embedder(settings.embed_batch_size, settings.encoder)
        self._store: Store | None = None
        self._checked = False
        self._catalog: Catalog | None = None
        self._owns_catalog = True
        self._generator = None
        self._open_lock = threading.Lock()
        self.write_lock = threading.RLock()

    @property
    def store(self) -> Store:
        """The collection's store, opened (and locked, when embedded) on first use."""
        if self._store is None:
            with self._open_lock:
                if self._store is None:
                    self._store = self._open_store()
        return self._store

    def _open_store(self) -> Store:
        """Open the catalog (once) and the collection, checking the model it was built with."""
        catalog = self.catalog
        try:
            return catalog.open(self.settings.collection, VectorSpace(
                self.embedder.name, self.embedder.dimension, self.embedder.variant))
        except Exception:
            self.close()
            raise

    @property
    def checked_store(self) -> Store:
        """The store, checked once against its records before the first read (IndexDamaged)."""
        if not self._checked:
            self.store.check()
            self._checked = True
        return self.store

    @property
    def ranker(self) -> Retriever:
        """The configured retriever (dense, lexical or hybrid), before near-duplicates are collapsed."""
        s = self.settings
        return make_retriever(s.retriever, self.checked_store, self.embedder, s.fusion,
                              s.fusion_weight, s.fusion_depth, s.recency)

    @property
    def retriever(self) -> Retriever:
        """The retrieval stage: the ranker, with near-duplicate passages collapsed."""
        return CollapsingRetriever(self.ranker)

    @property
    def answerer(self) -> ExtractiveAnswerer:
        """The answering stage."""
        return ExtractiveAnswerer(self.embedder)

    @property
    def generator(self):
        """The LLM answering stage (a GenerativeAnswerer), or None for the extractive backend."""
        if self._generator is None:
            from rag.answer.llm import make_chat_backend

            backend = make_chat_backend(self.settings)
            if backend is None:
                return None
            from rag.answer.generative import GenerativeAnswerer
            from rag.answer.verification import Verifier

            self._generator = GenerativeAnswerer(
                backend, Verifier(self.embedder, self.settings.min_support), self.answerer,
                self.settings.llm_timeout)
        return self._generator

    def index(self, paths: Iterable[Path], prune: bool = False, rebuild: bool = False,
              progress: Progress | None = None) -> IndexReport:
        """Index files and folders into the collection."""
        options = ChunkingOptions(self.settings.chunk_size, self.settings.chunk_overlap,
                                  self.settings.title_in_chunk)
        with self.write_lock:
            if rebuild:
                self._drop_collection()
            report = index_paths(list(paths), self.store, self.embedder, options, prune, progress,
                                 self.settings.max_file_bytes, self.settings.index_batch)
            self.store.sync()  # keep derived indexes (BM25) in step with what the store now holds
            return report

    def copy_from(self, source: str, progress: Progress | None = None) -> IndexReport:
        """Move the same collection of another store (folder or URL) into this one, without re-embedding."""
        from rag.ingest.transfer import copy_index

        origin = Engine(replace(self.settings, store=source), self.embedder)
        try:
            if self.settings.collection not in origin.catalog.collections():
                raise CollectionNotFound(f"no collection named {self.settings.collection!r} in {source}")
            with self.write_lock:
                report = copy_index(origin.checked_store, self.store, progress)
                self.store.sync()
                return report
        finally:
            origin.close()

    def _drop_collection(self) -> None:
        """Delete the collection whatever it holds, even one built with another model."""
        self.catalog.drop(self.settings.collection)
        self._store = None

    def ensure_index(self, progress: Progress | None = None) -> IndexReport | None:
        """Index the bundled seeds when the collection is empty; None when nothing was needed."""
        if self.store.count() > 0 or not self.settings.seeds_dir.exists():
            return None
        return self.index([self.settings.seeds_dir], progress=progress)

    def search(self, query: str, k: int | None = None, filters: Filters = Filters()) -> list[ScoredChunk]:
        """Ranked passages for a query."""
        query = self._check_text(query, "query")
        return self.retriever.retrieve(query, self._check_k(k), filters)

    def ask(self, question: str, history: list[tuple[str, str]] | None = None,
            k: int | None = None, filters: Filters = Filters()) -> Answer:
        """A cited answer to a question, using the conversation for follow-ups."""
        question = self._check_text(question, "question")
        if self.generator is not None:
            return next(p for p in self._generate(question, history, k, filters) if isinstance(p, Answer))
        query = standalone_query(question, history)
        passages = self.retriever.retrieve(query, self._check_k(k), filters)
        return self.answerer.answer(question, passages, query)

    def ask_stream(self, question: str, history: list[tuple[str, str]] | None = None,
                   k: int | None = None, filters: Filters = Filters()) -> Iterator[str | Answer]:
        """The answer's text in pieces as it is produced, then the final Answer with citations."""
        if self.generator is not None:
            yield from self._generate(self._check_text(question, "question"), history, k, filters)
            return
        answer = self.ask(question, history, k, filters)
        pieces = re.split(r"(?<=\]) ", answer.answer)  # one cited sentence at a time
        for i, piece in enumerate(pieces):
            yield piece if i == len(pieces) - 1 else piece + " "
        yield answer

    def _generate(self, question: str, history: list[tuple[str, str]] | None, k: int | None,
                  filters: Filters) -> Iterator[str | Answer]:
        """The LLM's tokens, then its verified Answer."""
        k = self._check_k(k)
        return self.generator.stream(question, history, lambda q: self.retriever.retrieve(q, k, filters))

    def lookup(self, cid: str) -> CitationLookup:
        """The passage behind a citation id, in its document's context."""
        return resolve(self.store, cid)

    def documents(self) -> list[DocumentRecord]:
        """Indexed documents, newest first."""
        return sorted(self.store.records().values(), key=lambda r: (r.date or "", r.title),
                      reverse=True)

    def delete_document(self, doc_id: str) -> DocumentRecord:
        """Remove one document and its chunks."""
        with self.write_lock:
            record = self.store.record(doc_id)
            self.store.remove([doc_id])
            return record

    def for_collection(self, name: str) -> Engine:
        """An engine over another existing collection of the same store, sharing client and encoder."""
        if name == self.settings.collection:
            return self
        if name not in self.catalog.collections():
            raise CollectionNotFound(f"no collection named {name!r} in this index")
        other = Engine(replace(self.settings, collection=name), self.embedder)
        other._catalog, other._owns_catalog = self.catalog, False  # this engine releases it
        return other

    def collections(self) -> dict[str, int]:
        """Every collection in the store with its chunk count (creating none)."""
        return self.catalog.collections()

    @property
    def catalog(self) -> Catalog:
        """Where the collections live, opened (and an index folder locked) once."""
        if self._catalog is None:
            s = self.settings
            self._catalog = open_catalog(s.store or s.index_dir, s.index_dir)
        return self._catalog

    def close(self) -> None:
        """Release the index folder."""
        if self._catalog is not None and self._owns_catalog:
            self._catalog.close()
        self._store = self._catalog = None
        self._checked = False

    def _check_text(self, text: str, what: str) -> str:
        """A non-empty, not over-long question or query."""
        text = (text or "").strip()
        if not text:
            raise InvalidRequest(f"the {what} is empty")
        if len(text) > self.settings.max_question_chars:
            raise InvalidRequest(f"the {what} is {len(text)} characters long; the limit is "
                                 f"{self.settings.max_question_chars}")
        return text

    def _check_k(self, k: int | None) -> int:
        """k within 1..MAX_K (the default when None)."""
        k = self.settings.top_k if k is None else k
        if not 1 <= k <= MAX_K:
            raise InvalidRequest(f"k must be between 1 and {MAX_K}, got {k}")
        return k

