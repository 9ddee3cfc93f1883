"""Milvus behind the store seam, against a real ``milvus-lite server``: BM25 and fusion inside it."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from rag.engine import Engine
from rag.errors import CollectionNotFound, IndexMismatch
from rag.retrieve import fusion
from rag.retrieve.retrievers import make_retriever, similarities
from rag.settings import Settings
from rag.store import VectorSpace, catalog_for, milvus_schema
from rag.types import Filters

pytest.importorskip("pymilvus")

_names = (f"m{n:03d}" for n in itertools.count())


@pytest.fixture
def milvus_engine(settings, embedder, milvus_url):
    """An engine over a fresh collection on the session's Milvus server, with the seeds indexed."""
    engine = Engine(replace(settings, store=milvus_url, collection=next(_names)), embedder=embedder)
    engine.ensure_index()
    yield engine
    engine.close()


def test_collection_names_round_trip_through_the_encoding_milvus_accepts():
    for name in ("eval-realtimeqa_news-1000o150t", "a.b-c_d", "documents"):
        assert milvus_schema.decoded(milvus_schema.encoded(name)) == name
        assert milvus_schema.encoded(name).replace("_", "").isalnum()


def test_bm25_in_milvus_ranks_as_the_chroma_stores_bm25_does(milvus_engine, settings, embedder):
    chroma = Engine(settings, embedder=embedder)
    chroma.ensure_index()
    for query in ("Pathankot attack troops", "sanctions designating terrorist groups", "Nathan Sales"):
        want = chroma.store.lexical_search(query, 3)
        got = milvus_engine.store.lexical_search(query, 3)
        assert [r.chunk.id for r in got] == [r.chunk.id for r in want]
        # the same BM25; tantivy keeps document lengths to one byte, so its scores differ by ~1%
        assert [r.lexical for r in got] == pytest.approx([r.lexical for r in want], rel=0.03)
    chroma.close()


def test_dates_are_filtered_by_milvus_expressions(milvus_engine):
    store = milvus_engine.store
    vector = milvus_engine.embedder.embed_query("Pathankot")
    assert store.dense_search(vector, 3, Filters("2020-09-12", "2020-09-12"))
    assert store.dense_search(vector, 3, Filters(since="2020-09-13")) == []
    assert store.lexical_search("Pathankot", 3, Filters(as_of="2020-09-11")) == []
    assert store.lexical_search("Pathankot", 3, Filters("2020-01-01", "2020-12-31"))
    assert store.hybrid_search("Pathankot", vector, 3, Filters(until="2020-09-11")) == []


def test_rrf_inside_milvus_equals_our_rrf_over_its_two_lists(milvus_engine):
    store = milvus_engine.store
    query = "Which attack killed Indian troops?"
    vector = milvus_engine.embedder.embed_query(query)
    dense = [r.chunk.id for r in store.dense_search(vector, 3)]
    lexical = [r.chunk.id for r in store.lexical_search(query, 3)]
    got = store.hybrid_search(query, vector, 3, method="rrf", depth=3)
    want = fusion.rrf([dense, lexical])
    assert sorted(r.chunk.id for r in got) == sorted(want)
    assert got[0].chunk.id == fusion.order(want)[0]
    stored = store.embeddings([r.chunk.id for r in got])
    cosines = [float(stored[r.chunk.id] @ vector) for r in got]
    assert [r.similarity for r in got] == pytest.approx(cosines, abs=1e-5)


def test_weighted_hybrid_on_milvus_is_our_fusion_of_its_two_lists(milvus_engine):
    store, embedder = milvus_engine.store, milvus_engine.embedder
    query = "Which attack killed Indian troops?"
    vector = embedder.embed_query(query)
    got = make_retriever("hybrid", store, embedder, "weighted", 0.7, depth=10).retrieve(query, 5)
    dense, lexical = store.dense_search(vector, 10), store.lexical_search(query, 10)
    cosine = {r.chunk.id: r.similarity for r in dense}
    cosine |= similarities(store, vector, [r.chunk.id for r in lexical if r.chunk.id not in cosine])
    want = fusion.weighted(cosine, {r.chunk.id: r.lexical for r in lexical}, 0.7)
    assert [r.chunk.id for r in got] == fusion.order(want)[:5]
    assert [r.fused for r in got] == pytest.approx([want[r.chunk.id] for r in got])


def test_a_collection_built_with_another_encoder_is_refused(milvus_engine, embedder):
    other = Settings.load(environ={}, store=milvus_engine.settings.store,
                          collection=milvus_engine.settings.collection, encoder="exact")
    with pytest.raises(IndexMismatch, match="rebuild"):
        Engine(other, embedder=_Variant(embedder, "fp32")).search("anything")


@pytest.mark.parametrize("analysis, found_by", [(1, "Hōryū"), (2, "horyu")])
def test_a_collection_keeps_the_word_analysis_its_terms_were_made_with(settings, embedder, milvus_url,
                                                                       tmp_path, monkeypatch, analysis,
                                                                       found_by):
    (tmp_path / "temple.txt").write_text("date 2021-03-01\nThe monuments of Hōryū-ji near Nara.\n")
    where = replace(settings, store=milvus_url, collection=next(_names))
    monkeypatch.setattr("rag.store.milvus.ANALYSIS", analysis)  # analysis 1: made before accents folded
    made = Engine(where, embedder=embedder)
    made.index([tmp_path])
    made.close()
    monkeypatch.undo()
    reopened = Engine(where, embedder=embedder)
    assert [r.chunk.title for r in reopened.store.lexical_search(found_by, 1)] == ["Temple"]
    reopened.close()


def test_a_pending_record_with_a_live_lease_is_left_to_its_writer(milvus_engine):
    store = milvus_engine.store
    doc_id = next(iter(store.records()))
    store.client.upsert(store.docs, [milvus_schema_pending(doc_id)])
    assert store.repair() == 0  # another writer holds the lease
    assert doc_id not in store.records()
    store.client.upsert(store.docs, [milvus_schema_pending(doc_id, leased_at=0.0)])
    assert store.repair() == 1  # its lease ran out: the leftover goes
    assert store.count() == 0 and store.records() == {}


def milvus_schema_pending(doc_id: str, leased_at: float | None = None) -> dict:
    """A pending record row, as a writer leaves it between its first and last step."""
    import time

    from rag.store.milvus import _pending_row

    return _pending_row(doc_id, time.time() if leased_at is None else leased_at)


class _Variant:
    """The session embedder, claiming another encoder variant."""

    def __init__(self, inner, variant: str) -> None:
        self.inner, self.variant = inner, variant
        self.name, self.dimension = inner.name, inner.dimension


def test_an_index_moves_from_a_chroma_folder_into_milvus_without_re_embedding(settings, embedder, milvus_url):
    settings = replace(settings, collection=next(_names))
    chroma = Engine(settings, embedder=embedder)
    chroma.ensure_index()
    records = chroma.store.records()
    chunks = {c.id: c for c in chroma.store.all_chunks()}
    vectors = chroma.store.embeddings(list(chunks))
    chroma.close()  # the copy opens the folder itself

    target = Engine(replace(settings, store=milvus_url), embedder=embedder)
    with pytest.raises(CollectionNotFound, match="no collection named 'absent'"):
        Engine(replace(settings, store=milvus_url, collection="absent"), embedder).copy_from(
            str(settings.index_dir))
    report = target.copy_from(str(settings.index_dir))
    assert (report.added, report.chunks) == (len(records), len(chunks))
    assert target.store.records() == {i: replace(r, indexed_at=target.store.records()[i].indexed_at)
                                      for i, r in records.items()}
    assert {c.id: c for c in target.store.all_chunks()} == chunks
    moved = target.store.embeddings(list(chunks))
    assert all(np.allclose(moved[i], vectors[i], atol=1e-6) for i in chunks)
    assert target.copy_from(str(settings.index_dir)).unchanged == len(records)  # a rerun copies nothing
    answer = target.ask("How many Indian troops died in the Pathankot attack?")
    assert "seven" in answer.answer and target.lookup(answer.citations[0].id).quote
    target.close()


def test_a_moved_index_keeps_the_word_pieces_its_vectors_read(settings, embedder, milvus_url):
    settings = replace(settings, collection=next(_names))
    catalog = catalog_for(settings)  # made before chunk vectors were cut: whole chunks (256 pieces)
    catalog.open(settings.collection, VectorSpace(embedder.name, embedder.dimension, embedder.variant))
    catalog.close()
    chroma = Engine(settings, embedder=embedder)
    chroma.ensure_index()
    chroma.close()
    where = replace(settings, store=milvus_url)
    target = Engine(where, embedder=embedder)
    target.ensure_index()  # this version's vectors: 128 pieces
    with pytest.raises(IndexMismatch, match=r"first 128 word pieces .* first 256: copy into an empty"):
        target.copy_from(str(settings.index_dir))
    target.store.remove(list(target.store.records()))
    assert target.copy_from(str(settings.index_dir)).added == 1
    target.close()
    reopened = Engine(where, embedder=embedder)
    assert reopened.store.space.document_pieces == 256 and reopened.store.count() > 0
    reopened.close()


def test_a_restarted_server_answers_from_what_it_kept(settings, embedder, tmp_path):
    from procs import milvus_lite_server

    settings = replace(settings, collection=next(_names))
    for run in range(2):  # the second server starts with every collection released
        with milvus_lite_server(tmp_path) as url:
            engine = Engine(replace(settings, store=url), embedder=embedder)
            if run == 0:
                engine.ensure_index()
            hits = engine.search("How many Indian troops died in the Pathankot attack?", k=3)
            assert any("seven Indian troops" in h.chunk.text for h in hits)
            engine.close()
