"""BM25 kept in step with the store change by change, saved beside it, and hybrid search."""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
import time

import chromadb
import numpy as np
import pytest
import tantivy
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from rag.engine import Engine
from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import sha256_text
from rag.settings import PROJECT_ROOT
from rag.store.base import VectorSpace
from rag.store.chroma import ChromaStore
from rag.store.lexical import ANALYSIS, FORMAT, LexicalIndex, version
from rag.types import Document, Filters

WIRE = ("Officials from the United States and India met on Thursday to discuss counterterrorism "
        "cooperation and the Pathankot and Mumbai attacks, the foreign ministry said in a statement.\n")


def test_lexical_index_is_saved_and_opened_without_redoing_anything(seeded: Engine):
    folder = seeded.settings.index_dir / "lexical" / seeded.settings.collection
    assert (folder / "meta.json").is_file()
    fresh = LexicalIndex(seeded.store, folder)
    assert fresh.sync() == 0  # the saved index matches the store's records: nothing redone
    hits = fresh.search("Pathankot airbase attack", 3)
    assert hits and "Pathankot" in hits[0].chunk.text


def test_indexing_and_deleting_keep_bm25_in_step(seeded: Engine, settings):
    (settings.seeds_dir / "zebra.txt").write_text("date 2021-03-01\nZebras graze on the savanna.\n")
    seeded.index([settings.seeds_dir])
    hit = seeded.store.lexical_search("zebras savanna", 1)
    assert hit and hit[0].chunk.title == "Zebra"
    seeded.delete_document(hit[0].chunk.doc_id)
    assert seeded.store.lexical_search("zebras savanna", 1) == []


def test_words_match_with_or_without_their_accents(seeded: Engine, settings):
    (settings.seeds_dir / "temple.txt").write_text("date 2021-03-01\nThe monuments of Hōryū-ji near Nara.\n")
    seeded.index([settings.seeds_dir])
    for query in ("Horyu-ji monuments", "Hōryū-ji", "HORYU"):
        assert [r.chunk.title for r in seeded.store.lexical_search(query, 1)] == ["Temple"]


def test_hybrid_is_the_default_and_scores_are_cosine_similarities(seeded: Engine):
    assert seeded.settings.retriever == "hybrid"
    results = seeded.search("How many Indian troops died in the Pathankot attack?", k=3)
    assert "seven Indian troops" in results[0].chunk.text
    assert all(-1.0 <= r.similarity <= 1.0 for r in results)
    assert seeded.search("Pathankot", k=3, filters=Filters(since="2021-01-01")) == []


def test_copies_of_one_story_are_collapsed_with_their_sources_listed(seeded: Engine, settings):
    for outlet in ("reuters", "yahoo", "msn"):
        (settings.seeds_dir / f"{outlet}.txt").write_text(f"date 2020-09-11\n{outlet} wire\n\n{WIRE}")
    seeded.index([settings.seeds_dir])
    results = seeded.search("foreign ministry statement on counterterrorism cooperation", k=5)
    copies = [r for r in results if "foreign ministry said" in r.chunk.text]
    assert len(copies) == 1
    assert len(copies[0].duplicates) == 2


def test_answers_from_dated_passages_say_when(seeded: Engine):
    answer = seeded.ask("How many Indian troops died in the Pathankot attack?")
    assert answer.answer.startswith("As of 12 Sep 2020: ")


WORDS = ("river bridge council budget storm harbour vaccine election rail wheat court satellite "
         "festival museum drought tariff").split()
QUERIES = [*WORDS, "river bridge", "storm harbour vaccine", "court court tariff"]
_SENTENCE = st.lists(st.sampled_from(WORDS), min_size=3, max_size=12).map(
    lambda words: " ".join(words).capitalize() + ".")
_PUT = st.tuples(st.just("put"), st.integers(0, 5), st.lists(_SENTENCE, min_size=1, max_size=10),
                 st.sampled_from([None, "2021-01-02", "2022-03-04"]))
_DELETE = st.tuples(st.just("delete"), st.integers(0, 5))
_COLLECTIONS = itertools.count()


def _document(n: int, sentences: list[str], date: str | None) -> Document:
    """A made-up document (several chunks at chunk size 100)."""
    text = " ".join(sentences)
    return Document(id=f"d{n}", title=f"Report {n}", source=f"r{n}.txt", text=text,
                    sha256=sha256_text(text), date=date)


def _apply(store: ChromaStore, ops: list[tuple]) -> bool:
    """Put and delete documents through the store (whose hooks change BM25); True if any chunk left."""
    rng = np.random.default_rng(0)
    replaced = False
    for op in ops:
        doc_id = f"d{op[1]}"
        existed = doc_id in store.records()
        if op[0] == "delete":
            store.remove([doc_id])
        else:
            doc = _document(op[1], op[2], op[3])
            chunks = chunk_document(doc, 100, 20)
            vectors = rng.standard_normal((len(chunks), 4)).astype(np.float32)
            store.write([doc], chunks, vectors)
        replaced |= existed
    return replaced


def _results(index: LexicalIndex, query: str, filters: Filters) -> list[tuple[str, float]]:
    """Every matching chunk with its score, in a tie-proof order."""
    return sorted((r.chunk.id, round(r.lexical, 4)) for r in index.search(query, 1000, filters))


@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.one_of(_PUT, _DELETE), min_size=1, max_size=10))
def test_changes_one_by_one_give_the_index_a_rebuild_would(tmp_path_factory, monkeypatch, ops):
    monkeypatch.setattr("rag.store.lexical._BUCKETS", 3)  # versions read in several parts, as past 50k
    folder = tmp_path_factory.mktemp("bm25")
    store = ChromaStore(chromadb.PersistentClient(path=str(folder / "chroma")),
                        f"prop{next(_COLLECTIONS)}", VectorSpace("test-model", 4), folder / "lexical")
    store.lexical.sync()  # in step from the start: from now on only write / remove change it
    replaced = _apply(store, ops)
    expected = {r.id: (version(r.sha256, r.title, r.date, r.chunks), r.chunks)
                for r in store.records().values()}
    assert store.lexical.held() == expected
    assert LexicalIndex(store, store.lexical.folder).sync() == 0  # nothing left to redo
    rebuilt = LexicalIndex(store, folder / "rebuilt")
    rebuilt.sync()
    assert rebuilt.held() == expected
    for query in QUERIES:
        for dates in (Filters(), Filters(since="2022-01-01"), Filters(until="2021-12-31")):
            got, want = _results(store.lexical, query, dates), _results(rebuilt, query, dates)
            if replaced:  # BM25 statistics still count replaced chunks until tantivy merges segments
                assert [cid for cid, _ in got] == [cid for cid, _ in want]
            else:
                assert got == want


def _damage(folder, how: str) -> None:
    """Break the saved BM25 index in one of the ways a disk or a person might."""
    segments = sorted(folder.glob("*.idx"), key=lambda p: p.stat().st_size)
    if how == "meta.json deleted":
        (folder / "meta.json").unlink()
    elif how == "a segment file deleted":
        segments[-1].with_suffix(".term").unlink()
    elif how == "bytes flipped inside a segment":
        data = bytearray(segments[-1].read_bytes())
        middle = len(data) // 2
        data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
        segments[-1].write_bytes(bytes(data))
    elif how == "a segment file truncated":
        store_file = segments[-1].with_suffix(".store")
        store_file.write_bytes(store_file.read_bytes()[:-20])
    elif how == "another format":
        (folder / "rag-lexical.json").write_text(json.dumps({"format": 0, "analysis": ANALYSIS}))
    elif how == "another analysis":  # words made as before accents were folded
        (folder / "rag-lexical.json").write_text(json.dumps({"format": FORMAT, "analysis": 1}))


@pytest.mark.parametrize("how", ["meta.json deleted", "a segment file deleted",
                                 "bytes flipped inside a segment", "a segment file truncated",
                                 "another format", "another analysis"])
def test_damaged_or_missing_bm25_files_are_rebuilt_not_trusted(seeded, settings, embedder, caplog, how):
    query = "How many Indian troops died in the Pathankot attack?"
    before = [(r.chunk.id, r.lexical) for r in seeded.store.lexical.search(query, 5)]
    folder = seeded.store.lexical.folder
    seeded.close()
    _damage(folder, how)
    reopened = Engine(settings, embedder=embedder)
    with caplog.at_level(logging.WARNING, logger="rag.store.lexical"):
        after = [(r.chunk.id, r.lexical) for r in reopened.store.lexical.search(query, 5)]
    reopened.close()
    assert after == before
    if how != "meta.json deleted":
        assert "rebuilding it from the store" in caplog.text


def test_date_filters_cut_without_changing_scores(seeded, settings):
    (settings.seeds_dir / "undated.txt").write_text("Pathankot has an airbase and a railway station.\n")
    (settings.seeds_dir / "later.txt").write_text("date 2023-05-01\nPathankot hosted a cricket match.\n")
    seeded.index([settings.seeds_dir])
    every = {r.chunk.id: r for r in seeded.store.lexical.search("Pathankot", 50)}
    since = seeded.store.lexical_search("Pathankot", 50, Filters(since="2021-01-01"))
    until = seeded.store.lexical_search("Pathankot", 50, Filters(until="2020-12-31"))
    assert [r.chunk.date for r in since] == ["2023-05-01"]  # undated passages fail "since"
    assert {r.chunk.date for r in until} == {"2020-09-12", None}  # ... and pass "until"
    assert all(r.lexical == every[r.chunk.id].lexical for r in since + until)


def _bm25_chunk_ids(folder) -> set[str]:
    """Every chunk id a saved BM25 index holds, read with tantivy directly."""
    index = tantivy.Index.open(str(folder))
    searcher = index.searcher()
    hits = searcher.search(tantivy.Query.all_query(), max(searcher.num_docs, 1)).hits
    return {searcher.doc(address)["chunk_id"][0] for _, address in hits}


def assert_bm25_matches_store(engine: Engine) -> None:
    """BM25 holds exactly the chunks of the store's complete documents, each at its version."""
    records = engine.store.records()
    assert engine.store.lexical.held() == {
        r.id: (version(r.sha256, r.title, r.date, r.chunks), r.chunks) for r in records.values()}
    expected = {c.id for c in engine.store.chunks_of(sorted(records))} if records else set()
    assert _bm25_chunk_ids(engine.store.lexical.folder) == expected


OPEN_WHEN_TOLD = """
import sys, time
from pathlib import Path
from rag.store.lexical import LexicalIndex
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
LexicalIndex(None, Path(sys.argv[1]))._open()
"""


def test_processes_opening_a_missing_folder_at_once_create_it_once(tmp_path):
    """Several `rag` processes on one Chroma server share the folder: none may empty it under another."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    for attempt in range(4):
        folder, go = tmp_path / str(attempt) / "lexical" / "shared", tmp_path / f"go{attempt}"
        openers = [subprocess.Popen([sys.executable, "-c", OPEN_WHEN_TOLD, str(folder), str(go)], env=env,
                                    stderr=subprocess.PIPE, text=True) for _ in range(6)]
        time.sleep(1.5)  # every child imported and waiting
        go.touch()
        failed = [err for p in openers if (err := p.communicate(timeout=60)[1]) and p.returncode]
        assert failed == []
        assert tantivy.Index.exists(str(folder))
