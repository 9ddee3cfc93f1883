"""The engine: one collection's store and pipeline, and the operations the faces call on them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from rag.answer.citations import CitationLookup, resolve
from rag.embedding import Embedder, shared_embedder
from rag.errors import CollectionNotFound, IndexMismatch
from rag.ingest.indexer import ChunkingOptions, IndexReport, Progress, index_paths
from rag.pipeline import Event, History, Pipeline, build_pipeline
from rag.settings import Settings
from rag.store import Catalog, DocumentRecord, Store, VectorSpace, catalog_for, open_catalog
from rag.store.base import validate_collection_name
from rag.types import Answer, Filters, ScoredChunk

MAX_OTHER_COLLECTIONS = 8  # engines kept for other collections; the least recently used goes first


class Engine:
    """Opens the store for ``settings.collection`` (in ``catalog``, or the one the settings name).

    The pipeline is built once from the settings, on first use, after the store has been checked.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or shared_embedder(settings.embed_batch_size, settings.encoder)
        self.catalog = catalog or catalog_for(settings)
        self._owns_catalog = catalog is None
        try:
            self.store = self._open_store()
        except Exception:
            self.close()
            raise
        self.write_lock = threading.RLock()
        self._others: OrderedDict[str, Engine] = OrderedDict()
        self._others_lock = threading.Lock()

    def _open_store(self, space: VectorSpace | None = None) -> Store:
        """The collection, checked against the model this process embeds with (or ``space``)."""
        e = self.embedder
        space = space or VectorSpace(e.name, e.dimension, e.variant, self.settings.vector_pieces)
        return self.catalog.open(self.settings.collection, space)

    @cached_property
    def pipeline(self) -> Pipeline:
        """The question's stages, built from the settings; the store is checked first (IndexDamaged)."""
        self.store.check()
        return build_pipeline(self.settings, self.store, self.embedder)

    def warm_up(self) -> None:
        """Load the encoder and build the pipeline now, so the first question does not wait for them."""
        self.embedder.embed(["warm up"])
        _ = self.pipeline

    def configured(self, **changes: object) -> Engine:
        """An engine over the same store with some settings changed (for example another LLM)."""
        return Engine(replace(self.settings, **changes), self.embedder, self.catalog)

    def index(self, paths: Iterable[Path], prune: bool = False, rebuild: bool = False,
              progress: Progress | None = None) -> IndexReport:
        """Index files and folders into the collection."""
        options = ChunkingOptions(self.settings.chunk_size, self.settings.chunk_overlap,
                                  self.settings.title_in_chunk)
        with self.write_lock:
            if rebuild:
                self._rebuild()
            report = index_paths(list(paths), self.store, self.embedder, options, prune, progress,
                                 self.settings.max_file_bytes, self.settings.index_batch,
                                 self.settings.documents_root)
            self.store.sync()  # keep derived indexes (BM25) in step with what the store now holds
            return report

    def copy_from(self, source: str, progress: Progress | None = None) -> IndexReport:
        """Move the same collection of another store (folder or URL) into this one, without re-embedding."""
        from rag.ingest.transfer import copy_index

        catalog = open_catalog(source, self.settings.index_dir)
        try:
            if self.settings.collection not in catalog.collections():  # before opening creates it
                raise CollectionNotFound(f"no collection named {self.settings.collection!r} in {source}")
            origin = Engine(replace(self.settings, store=source), self.embedder, catalog)
            with self.write_lock:
                self._take_space(origin.store.space, source)
                report = copy_index(origin.store, self.store, progress)
                self.store.sync()
                return report
        finally:
            catalog.close()

    def _take_space(self, space: VectorSpace, source: str) -> None:
        """Let an empty collection take the vector space of vectors copied into it; refuse a mix."""
        if self.store.space == space:
            return
        if self.store.count() > 0:
            raise IndexMismatch(
                f"collection {self.settings.collection!r} holds vectors of the first "
                f"{self.store.space.document_pieces} word pieces of each chunk, {source} of the first "
                f"{space.document_pieces}: copy into an empty collection, or re-embed with `rag index`")
        self._rebuild(space)

    def _rebuild(self, space: VectorSpace | None = None) -> None:
        """Drop the collection whatever it holds (even one built with another model), then reopen it
        (in ``space`` when given)."""
        self.catalog.drop(self.settings.collection)
        self.store = self._open_store(space)
        self.__dict__.pop("pipeline", None)  # its stages hold the dropped store

    @classmethod
    def for_repair(cls, settings: Settings) -> Engine:
        """An engine whose collection's vector index was dropped unread: a damaged one may not open."""
        catalog = open_catalog(settings.store or settings.index_dir, settings.index_dir,
                               repairing=settings.collection)
        try:
            engine = cls(settings, catalog=catalog)
        except Exception:
            catalog.close()
            raise
        engine._owns_catalog = True
        return engine

    def repair(self) -> int:
        """Rebuild the collection's vectors from the chunk texts and records its store keeps (open the
        engine with ``for_repair``)."""
        from rag.ingest.indexer import chunk_vectors
        from rag.store.repair import read_back, rewrite

        with self.write_lock:
            chunks, records = read_back(self.store)
            self._rebuild()
            written = rewrite(self.store, chunks, records, lambda batch: chunk_vectors(
                self.embedder, self.store, batch, self.settings.title_in_chunk))
            self.store.sync()
            return written

    def ensure_index(self, progress: Progress | None = None) -> IndexReport | None:
        """Index the bundled seeds when the collection is empty; None when nothing was needed."""
        if self.store.count() > 0 or not self.settings.seeds_dir.exists():
            return None
        return self.index([self.settings.seeds_dir], progress=progress)

    def search(self, query: str, k: int | None = None, filters: Filters = Filters()) -> list[ScoredChunk]:
        """Ranked passages for a query."""
        return self.pipeline.search(query, k, filters)

    def ask(self, question: str, history: History | None = None, k: int | None = None,
            filters: Filters = Filters()) -> Answer:
        """A cited answer to a question, using the conversation for follow-ups."""
        return self.pipeline.ask(question, history, k, filters)

    def ask_stream(self, question: str, history: History | None = None, k: int | None = None,
                   filters: Filters = Filters()) -> Iterator[Event]:
        """TextPiece events as the answer is produced, then the Final answer with its citations."""
        return self.pipeline.stream(question, history, k, filters)

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
            self.store.sync()
            return record

    def for_collection(self, name: str | None) -> Engine:
        """The engine of another existing collection of the same store (this one for None or its own)."""
        if not name or name == self.settings.collection:
            return self
        validate_collection_name(name)  # before anything is cached for it
        with self._others_lock:
            if name not in self._others:
                if name not in self.catalog.collections():
                    raise CollectionNotFound(f"no collection named {name!r} in this index")
                self._others[name] = Engine(replace(self.settings, collection=name), self.embedder,
                                            self.catalog)
                if len(self._others) > MAX_OTHER_COLLECTIONS:
                    self._others.popitem(last=False)
            self._others.move_to_end(name)
            return self._others[name]

    def collections(self) -> dict[str, int]:
        """Every collection in the store with its chunk count (creating none)."""
        return self.catalog.collections()

    def close(self) -> None:
        """Release the index folder (when this engine opened the catalog)."""
        if self._owns_catalog:
            self.catalog.close()
