"""Past one machine on Milvus: indexers and searchers in separate processes against one milvus-lite server."""

from __future__ import annotations

import json
import random
import shutil
import threading

import httpx
import pytest
from conftest import SEEDS
from procs import make_corpus, run, serving, start
from test_faults import _kill_when_embedded
from test_serve import PATHANKOT

from rag.engine import Engine
from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import load_paths
from rag.settings import Settings

pytest.importorskip("pymilvus")


def _store(url: str, collection: str, embedder):
    """The Milvus store of ``collection``, opened in this process."""
    return Engine(Settings.load(environ={}, store=url, collection=collection), embedder=embedder).store


def _assert_each_document_once(store, docs, settings) -> None:
    """Every document indexed once with exactly its chunks: no duplicate, orphan or pending row."""
    store.check()
    records = store.records()
    assert set(records) == {d.id for d in docs}
    ids = [c.id for c in store.all_chunks()]
    assert len(ids) == len(set(ids)) == sum(r.chunks for r in records.values())
    for doc in docs:
        expected = [c.id for c in chunk_document(doc, settings.chunk_size, settings.chunk_overlap)]
        assert sorted(c.id for c in store.document_chunks(doc.id)) == sorted(expected)
    assert store.repair() == 0  # nothing left pending


def test_two_indexers_fill_one_milvus_while_a_third_process_searches(tmp_path, milvus_url, embedder,
                                                                      settings):
    only_a, only_b, shared = tmp_path / "a", tmp_path / "b", tmp_path / "shared"
    make_corpus(only_a, 15, seed=1)
    make_corpus(only_b, 15, seed=2)
    make_corpus(shared, 15, seed=3)  # both indexers race on these very documents
    env = {"RAG_STORE": milvus_url, "RAG_COLLECTION": "race", "RAG_INDEX_BATCH": "8"}
    indexers = [start("index", only_a, shared, **env), start("index", shared, only_b, **env)]
    searched_during = 0
    while any(p.poll() is None for p in indexers):
        found = run("search", "harbour election", "--json", timeout=300, **env)
        assert found.returncode == 0, found.stderr
        searched_during += any(p.poll() is None for p in indexers)
    outputs = [p.communicate() for p in indexers]
    assert [p.returncode for p in indexers] == [0, 0], outputs
    assert searched_during >= 1

    # the store is under test, not the answerer (which may decline made-up sentences): a passage's own id
    [hit, *_] = json.loads(run("search", "harbour", "--json", **env).stdout)
    shown = run("show", f"{hit['chunk_id']}-{hit['start']}-{hit['end']}", **env)
    assert shown.returncode == 0 and shown.stdout.startswith(hit["title"])
    _assert_each_document_once(_store(milvus_url, "race", embedder),
                               load_paths([only_a, only_b, shared]).documents, settings)


def test_kill_9_of_an_indexer_then_a_rerun_leaves_each_document_once(tmp_path, milvus_url, embedder,
                                                                     settings):
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 40)
    env = {"RAG_STORE": milvus_url, "RAG_COLLECTION": "killed", "RAG_INDEX_BATCH": "8"}
    proc = start("index", corpus, **env)
    killer = threading.Thread(target=_kill_when_embedded, args=(proc, random.uniform(0.2, 0.6), 0.1))
    killer.start()
    killer.join(timeout=300)
    store = _store(milvus_url, "killed", embedder)
    assert 0 < len(store.records()) < 40  # killed mid-run
    # The killed writer's pending record keeps its lease, but it is not a complete record: the rerun
    # writes that document again, replacing its partial chunks.
    done = run("index", corpus, timeout=300, **env)
    assert done.returncode == 0, done.stderr
    _assert_each_document_once(store, load_paths([corpus]).documents, settings)


def test_two_servers_share_one_milvus_an_upload_to_one_is_found_by_the_other(tmp_path, milvus_url):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    env = {"RAG_STORE": milvus_url, "RAG_COLLECTION": "served", "RAG_SEEDS_DIR": str(tmp_path / "seeds"),
           "RAG_DATA_DIR": str(tmp_path / "data")}
    assert run("index", tmp_path / "seeds", **env).returncode == 0
    # each server's own index folder holds nothing but its address: the chunks are in Milvus
    with (serving(tmp_path / "a", tmp_path / "a.log", **env) as (_, a),
          serving(tmp_path / "b", tmp_path / "b.log", **env) as (_, b)):
        answers = [httpx.post(f"{url}/api/ask", json={"question": PATHANKOT}, timeout=60).json()
                   for url in (a, b)]
        assert answers[0]["answered"] and answers[0]["citations"]
        assert [c["id"] for c in answers[0]["citations"]] == [c["id"] for c in answers[1]["citations"]]

        note = ("title Zorblaxian ferry schedule\n\nThe Zorblaxian ferry now leaves the harbour at "
                "seven every morning.\n")
        uploaded = httpx.post(f"{a}/api/documents", files={"files": ("ferry.txt", note.encode())},
                              timeout=120)
        assert uploaded.status_code == 200, uploaded.text
        found = httpx.post(f"{b}/api/search", json={"query": "Zorblaxian ferry", "k": 3}, timeout=60).json()
        assert "Zorblaxian" in found["results"][0]["text"]  # the other server sees it at once
