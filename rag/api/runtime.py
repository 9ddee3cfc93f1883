"""The served engine: loaded in the background at startup, ready once the model and the store are."""

from __future__ import annotations

import logging
import threading

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
        self.error: str | None = None

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
        """Load the encoder and the store; index the seeds when the collection is empty."""
        try:
            engine = self._engine or Engine(self.settings)
            self._engine = engine
            engine.embedder.embed(["warm up"])
            log.info("collection %r: %d chunks", engine.settings.collection, engine.store.count())
            seeded = engine.ensure_index()
            if seeded is not None:
                log.info("the index was empty: indexed %s first (%s)", engine.settings.seeds_dir,
                         seeded.summary())
            self._ready.set()
            log.info("ready")
        except RagError as exc:
            self.error = str(exc)
            log.error("cannot serve: %s", exc)
        except Exception:
            self.error = "loading the model or the index failed; the server log has the details"
            log.exception("loading failed")

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
        if self._owns_engine and self._engine is not None:
            self._engine.close()
