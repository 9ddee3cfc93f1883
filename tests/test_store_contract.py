"""The Store contract: what every store (rag.store.base) must do, run against each real one.

A new store joins by one line in ``LOCATIONS``: how to reach a fresh instance of it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from procs import chroma_server

from rag.embedding import Embedder
from rag.errors import DocumentNotFound, IndexMismatch, InvalidRequest
from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import load_paths
from rag.store import Catalog, Store, VectorSpace, open_catalog
from rag.types import Document, Filters

LOCATIONS = {  # store kind -> its location (a folder or URL) for a test
    "chroma-folder": lambda tmp_path, request: tmp_path / "index",
    "chroma-server": lambda tmp_path, request: request.getfixturevalue("shared_chroma_url"),
    "milvus": lambda tmp_path, request: request.getfixturevalue("milvus_url"),
}
ZEBRA = "date 2021-03-01\ntitle Savanna notes\nZebras graze on the open savanna near the river."
BRIDGE = ("date 2020-06-15\nThe council voted to repair the old stone bridge. " * 30).strip()
UNDATED = "Lighthouses guide ships past the rocks at night with a rotating lamp."


@pytest.fixture(scope="session")
def shared_chroma_url(tmp_path_factory) -> str:
    """One real ``chroma run`` for the whole session; each test uses collections of its own."""
    with chroma_server(tmp_path_factory.mktemp("chroma")) as url:
        yield url


@pytest.fixture(params=sorted(LOCATIONS))
def catalog(request, tmp_path: Path) -> Catalog:
    """A catalog of each kind of store, closed after the test."""
    opened = open_catalog(LOCATIONS[request.param](tmp_path, request), tmp_path / "side")
    yield opened
    opened.close()


@pytest.fixture
def space(embedder: Embedder) -> VectorSpace:
    return VectorSpace(embedder.name, embedder.dimension, embedder.variant)


@pytest.fixture
def store(catalog: Catalog, space: VectorSpace) -> Store:
    """A fresh collection with a unique name (server collections outlive the test)."""
    return catalog.open(f"contract-{uuid.uuid4().hex[:12]}", space)


def documents(tmp_path: Path, **texts: str) -> dict[str, Document]:
    """Documents loaded the way ``rag index`` loads them, by file stem."""
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    loaded = load_paths([folder / f"{name}.txt" for name in texts]).documents
    return {Path(d.file).stem: d for d in loaded}


def write(store: Store, embedder: Embedder, *docs: Document) -> None:
    """Chunk, embed and write documents, then let the store catch up."""
    chunks = [c for d in docs for c in chunk_document(d, 300, 50)]
    store.write(list(docs), chunks, embedder.embed([c.text for c in chunks]))
    store.sync()


def test_written_documents_read_back_with_records_chunks_and_vectors(store, embedder, tmp_path):
    docs = documents(tmp_path, zebra=ZEBRA, bridge=BRIDGE)
    write(store, embedder, *docs.values())
    records = store.records()
    assert set(records) == {d.id for d in docs.values()}
    bridge = docs["bridge"]
    record = store.record(bridge.id)
    assert (record.sha256, record.title, record.date) == (bridge.sha256, bridge.title, "2020-06-15")
    chunks = store.document_chunks(bridge.id)
    assert record.chunks == len(chunks) > 1 and [c.index for c in chunks] == list(range(len(chunks)))
    assert all(bridge.text[c.start:c.end] == c.text for c in chunks)
    assert store.count() == sum(r.chunks for r in records.values()) == len(list(store.all_chunks()))
    assert [c.id for c in store.get_chunks([chunks[1].id, "missing"])] == [chunks[1].id]
    assert [c.index for c in store.document_chunks(bridge.id, indexes=[0, 2])] == [0, 2]
    vectors = store.embeddings([chunks[0].id])
    assert np.allclose(vectors[chunks[0].id], embedder.embed([chunks[0].text])[0], atol=1e-3)
    store.check()
    assert store.repair() == 0


def test_rewriting_a_document_replaces_its_chunks(store, embedder, tmp_path):
    long = documents(tmp_path, note=BRIDGE)["note"]
    write(store, embedder, long)
    old = {c.id for c in store.document_chunks(long.id)}
    short = documents(tmp_path, note=UNDATED)["note"]
    write(store, embedder, short)
    assert store.record(short.id).sha256 == short.sha256
    assert store.count() == 1 and not old & {c.id for c in store.all_chunks()}
    assert store.lexical_search("council bridge", 5) == []


def test_removing_a_document_removes_its_record_chunks_and_search_hits(store, embedder, tmp_path):
    docs = documents(tmp_path, zebra=ZEBRA, lamp=UNDATED)
    write(store, embedder, *docs.values())
    store.remove([docs["zebra"].id])
    store.sync()
    with pytest.raises(DocumentNotFound):
        store.record(docs["zebra"].id)
    assert set(store.records()) == {docs["lamp"].id} and store.count() == 1
    assert store.lexical_search("zebras savanna", 5) == []
    hits = store.dense_search(embedder.embed_query("zebras on the savanna"), 5)
    assert [h.chunk.doc_id for h in hits] == [docs["lamp"].id]


def test_dense_search_ranks_by_cosine_within_the_date_filters(store, embedder, tmp_path):
    docs = documents(tmp_path, zebra=ZEBRA, bridge=BRIDGE, lamp=UNDATED)
    write(store, embedder, *docs.values())
    vector = embedder.embed_query("Where do zebras graze?")
    hits = store.dense_search(vector, 3)
    assert hits[0].chunk.doc_id == docs["zebra"].id and len(hits) == 3
    assert hits[0].similarity > hits[1].similarity and 0.3 < hits[0].similarity <= 1.0
    assert (hits[0].lexical, hits[0].fused) == (None, None)

    def found(filters: Filters) -> set[str]:
        return {h.chunk.doc_id for h in store.dense_search(vector, 10, filters)}

    zebra, bridge, lamp = (docs[n].id for n in ("zebra", "bridge", "lamp"))
    assert found(Filters(since="2021-01-01")) == {zebra}  # undated passages fail `since`
    assert found(Filters(until="2020-12-31")) == {bridge, lamp}  # ... and pass `until`
    assert found(Filters(as_of="2021-02-28")) == {bridge, lamp}
    assert found(Filters(since="2020-06-15", until="2021-03-01")) == {zebra, bridge}


def test_lexical_search_is_stemmed_bm25_over_title_and_text_within_the_filters(store, embedder, tmp_path):
    docs = documents(tmp_path, zebra=ZEBRA, bridge=BRIDGE, lamp=UNDATED)
    write(store, embedder, *docs.values())
    [hit] = store.lexical_search("zebra grazing", 5)  # Snowball: grazing ~ graze, zebra ~ zebras
    assert hit.chunk.doc_id == docs["zebra"].id and hit.lexical > 0
    assert [h.chunk.doc_id for h in store.lexical_search("savanna notes", 5)] == [docs["zebra"].id]
    assert store.lexical_search("Savanna notes", 5, Filters(until="2020-12-31")) == []
    assert store.lexical_search("lighthouse lamp", 5, Filters(since="2000-01-01")) == []
    assert store.lexical_search("the of and", 5) == []  # stop words match nothing
    ranked = store.lexical_search("bridge rocks", 5)
    assert ranked[0].lexical >= ranked[-1].lexical


def test_an_empty_store_finds_nothing(store, embedder):
    assert store.count() == 0 and store.records() == {}
    assert store.dense_search(embedder.embed_query("anything"), 5) == []
    assert store.lexical_search("anything", 5) == []
    store.check()


def test_a_collection_of_another_vector_space_is_refused(catalog, store, space):
    with pytest.raises(IndexMismatch, match="rag index --rebuild"):
        catalog.open(store.name, VectorSpace("another-model", space.dimension * 2, space.variant))


def test_the_catalog_lists_and_drops_collections(catalog, store, embedder, tmp_path):
    write(store, embedder, *documents(tmp_path, lamp=UNDATED).values())
    assert catalog.collections()[store.name] == 1
    catalog.drop(store.name)
    assert store.name not in catalog.collections()
    with pytest.raises(InvalidRequest, match="collection name"):
        catalog.open("x", VectorSpace(embedder.name, embedder.dimension, embedder.variant))


def test_an_unknown_store_scheme_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(InvalidRequest, match=r"unknown store 'redis://h:1'.*chroma://"):
        open_catalog("redis://h:1", tmp_path)
