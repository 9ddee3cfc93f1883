"""Past one machine: a real Chroma server, two indexers filling it at once, a third process asking."""

from __future__ import annotations

import json
import time

import pytest
from procs import chroma_server, make_corpus, run, start

from rag.engine import Engine
from rag.ingest.loaders import load_paths
from rag.settings import Settings


@pytest.fixture
def chroma_url(tmp_path):
    """A real ``chroma run`` of this test's own, stopped after it."""
    with chroma_server(tmp_path / "chroma") as url:
        yield url


def test_two_indexers_fill_one_server_while_a_third_process_answers(tmp_path, chroma_url, embedder):
    only_a, only_b, shared = tmp_path / "a", tmp_path / "b", tmp_path / "shared"
    make_corpus(only_a, 25, seed=1)
    make_corpus(only_b, 25, seed=2)
    make_corpus(shared, 25, seed=3)  # both indexers race on these very documents
    url = ["--store", chroma_url]
    indexers = [start("index", only_a, shared, *url, RAG_INDEX_BATCH="8"),
                start("index", shared, only_b, *url, RAG_INDEX_BATCH="8")]
    answered_during = 0
    while any(p.poll() is None for p in indexers):
        asked = run("search", "harbour election", "--json", *url)
        assert asked.returncode == 0, asked.stderr
        answered_during += any(p.poll() is None for p in indexers)
    outputs = [p.communicate() for p in indexers]
    assert [p.returncode for p in indexers] == [0, 0], outputs
    assert answered_during >= 1

    answer = json.loads(run("ask", "Which report covers the harbour?", "--json", *url).stdout)
    assert answer["answered"] and answer["citations"]
    engine = Engine(Settings.load(environ={}, store=chroma_url), embedder=embedder)
    store = engine.store
    store.check()
    docs = load_paths([only_a, only_b, shared]).documents
    records = store.records()
    assert set(records) == {d.id for d in docs}
    ids = store.chunks.get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == sum(r.chunks for r in records.values())  # no duplicates
    assert store.docs.count() == len(records)  # nothing left pending
    assert store.repair() == 0


def test_bm25_of_one_process_follows_what_another_process_changed(tmp_path, chroma_url, embedder,
                                                                     monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    note = docs / "zebra.txt"
    note.write_text("Zebras graze on the savanna at dawn.\n")
    reader = Engine(Settings.load(environ={}, index_dir=tmp_path / "reader", store=chroma_url),
                    embedder=embedder)
    assert reader.store.lexical_search("zebras savanna", 3) == []  # its own BM25 folder, in step (empty)
    added = run("index", docs, "--chroma-url", chroma_url, "--index", tmp_path / "writer")
    assert added.returncode == 0, added.stderr
    time.sleep(1.1)  # the reader looks at the store's counts at most once a second
    hit = reader.store.lexical_search("zebras savanna", 3)[0]
    assert hit.chunk.title == "Zebra"
    note.write_text("Zebras graze on the savanna at dusk.\n")  # same counts: noticed on the next full look
    assert run("index", docs, "--chroma-url", chroma_url, "--index", tmp_path / "writer").returncode == 0
    monkeypatch.setattr("rag.store.lexical._RECHECK", 0.0)
    time.sleep(1.1)
    assert "dusk" in reader.store.lexical_search("zebras savanna", 3)[0].chunk.text
    writer = Engine(Settings.load(environ={}, index_dir=tmp_path / "writer", store=chroma_url),
                    embedder=embedder)
    writer.delete_document(hit.chunk.doc_id)
    time.sleep(1.1)
    assert reader.store.lexical_search("zebras savanna", 3) == []
    assert writer.store.lexical_search("zebras savanna", 3) == []  # its own removal, seen at once
