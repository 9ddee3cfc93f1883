"""BM25 search over a collection's chunks (bm25s), persisted beside the index and kept in step."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from rag.dates import date_number
from rag.store.base import Store
from rag.types import Filters, ScoredChunk

_STATE = "state.json"


@dataclass(frozen=True)
class _Loaded:
    """A BM25 model with the chunk ids and dates of its rows."""

    model: object
    ids: list[str]
    dates: np.ndarray
    signature: str


def store_signature(store: Store) -> str:
    """A fingerprint of what BM25 holds: every document's id, text hash, title, date and chunk count."""
    rows = sorted(f"{r.id}\0{r.sha256}\0{r.title}\0{r.date}\0{r.chunks}" for r in store.records().values())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:32] + f"-{store.count()}"


class LexicalIndex:
    """BM25 over the chunks of one collection, saved in ``folder`` and rebuilt when the store moves on."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    def sync(self) -> bool:
        """Bring the saved index in step with the store; True when it had to be rebuilt."""
        with self._lock:
            signature = store_signature(self.store)
            if self._loaded is None:
                self._loaded = self._load(signature)
            if self._loaded is not None and self._loaded.signature == signature:
                return False
            self._loaded = self._build(signature)
            return True

    def search(self, query: str, k: int, filters: Filters = Filters()) -> list[ScoredChunk]:
        """The k chunks with the highest BM25 score (zero scores left out), best first."""
        if self._loaded is None or self._stale():
            self.sync()
        loaded = self._loaded
        tokens = tokenize([query])
        if not loaded.ids or not tokens[0]:
            return []
        mask = _date_mask(loaded.dates, filters.since, filters.latest)
        hits, scores = loaded.model.retrieve(tokens, k=min(k, len(loaded.ids)), show_progress=False,
                                             weight_mask=mask, n_threads=1)
        ranked = [(loaded.ids[int(i)], float(s)) for i, s in zip(hits[0], scores[0]) if s > 0]
        if not ranked:
            return []
        chunks = {c.id: c for c in self.store.get_chunks([cid for cid, _ in ranked])}
        return [ScoredChunk(chunks[cid], lexical=s) for cid, s in ranked if cid in chunks]

    def _stale(self) -> bool:
        """Cheap check on every query: the chunk count moved (another writer, or a delete)."""
        return not self._loaded.signature.endswith(f"-{self.store.count()}")

    def _load(self, signature: str) -> _Loaded | None:
        """The saved index when it matches the store's signature, else None."""
        import bm25s

        try:
            state = json.loads((self.folder / _STATE).read_text(encoding="utf-8"))
            if state["signature"] != signature:
                return None
            model = bm25s.BM25.load(str(self.folder), show_progress=False, mmap=False)
        except (OSError, ValueError, KeyError):
            return None
        return _Loaded(model, state["ids"], np.asarray(state["dates"], dtype=np.int64), signature)

    def _build(self, signature: str) -> _Loaded:
        """Index every chunk of the store and save it (written aside, then swapped in)."""
        import bm25s

        chunks = list(self.store.all_chunks())
        model = bm25s.BM25()
        if chunks:
            model.index(tokenize([f"{c.title}\n{c.text}" for c in chunks]), show_progress=False)
        ids = [c.id for c in chunks]
        dates = [date_number(c.date) for c in chunks]
        self._save(model, {"signature": signature, "ids": ids, "dates": dates}, bool(chunks))
        return _Loaded(model, ids, np.asarray(dates, dtype=np.int64), signature)

    def _save(self, model, state: dict, has_rows: bool) -> None:
        """Write the model and its state to a fresh folder, then replace the old one."""
        fresh = self.folder.with_name(self.folder.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        if has_rows:
            model.save(str(fresh), show_progress=False)
        (fresh / _STATE).write_text(json.dumps(state), encoding="utf-8")
        shutil.rmtree(self.folder, ignore_errors=True)
        fresh.rename(self.folder)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stemmed English words without stop words."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False,
                          show_progress=False)


@cache
def _stemmer():
    """The Snowball English stemmer's word function, made once."""
    import Stemmer

    return Stemmer.Stemmer("english").stemWords


def _date_mask(dates: np.ndarray, since: str | None, until: str | None) -> np.ndarray | None:
    """1 for rows inside the date range, 0 outside (None when there is no range)."""
    if not since and not until:
        return None
    keep = np.ones(len(dates), dtype=bool)
    if since:
        keep &= dates >= date_number(since)
    if until:
        keep &= dates <= date_number(until)
    return keep.astype(np.float32)
