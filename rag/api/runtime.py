"""The served engine: loaded in the background at startup, ready once the model and the store are."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from rag.conversations import ConversationStore
from rag.engine import Engine
from rag.errors import NotReady, RagError
from rag.settings import Settings

log = logging.getLogger("rag.serve")


class Runtime:
    """Holds the engine, loads it off the event loop, and hands it out only once it is ready."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._owns_engine = engine is None
        self._ready = threading.Event()
        self._collections: dict[str, Engine] = {}
        self.conversations = ConversationStore.in_folder(settings.data_dir)
        self.error: str | None = None
        self.on_failure: Callable[[], None] | None = None  # called when loading fails
        self.on_ready: Callable[[], None] | None = None  # called once the engine answers
        self.on_close: Callable[[], None] | None = None  # called when the server shuts down

    @property
    def ready(self) -> bool:
        """True once the model and the store are loaded."""
        return self._ready.is_set()

    def start(self) -> threading.Thread:
        """Begin loading in a background thread."""
        thread = threading.Thread(target=self.load, name="rag-load", daemon=True)
        thread.start()
        return thread

    def load(self) -> None:
        """Open the store (failing fast on a locked index), load the encoder, seed an empty collection."""
        try:
            engine = self._engine or Engine(self.settings)
            self._engine = engine
            log.info("collection %r: %d chunks", engine.settings.collection, engine.store.count())
            engine.embedder.embed(["warm up"])
            seeded = engine.ensure_index()
            if seeded is not None:
                log.info("the index was empty: indexed %s first (%s)", engine.settings.seeds_dir,
                         seeded.summary())
            self._ready.set()
            if self.on_ready:
                self.on_ready()
            log.info("ready")
        except RagError as exc:
            self._fail(str(exc))
        except Exception:
            log.exception("loading failed")
            self._fail("loading the model or the index failed; the server log has the details")

    def _fail(self, error: str) -> None:
        """Record why the server cannot answer, and tell whoever runs it."""
        self.error = error
        log.error("cannot serve: %s", error)
        if self.on_failure:
            self.on_failure()

    def engine(self, collection: str | None = None) -> Engine:
        """The engine (for another collection when named), or NotReady while loading or after a failure."""
        if self.error:
            raise NotReady(f"the server could not load: {self.error}")
        if not self.ready or self._engine is None:
            raise NotReady("the server is still loading the model and the index; try again in a moment")
        if not collection or collection == self.settings.collection:
            return self._engine
        if collection not in self._collections:
            self._collections[collection] = self._engine.for_collection(collection)
        return self._collections[collection]

    def close(self) -> None:
        """Release the index folder when this runtime opened it."""
        if self.on_close:
            self.on_close()
        if self._owns_engine and self._engine is not None:
            self._engine.close()
