"""Faults for real: a second writer on one folder, kill -9 mid-index, a damaged index on open."""

from __future__ import annotations

import random
import re
import signal
import threading
import time

import pytest
from procs import make_corpus, run, start
from test_lexical import assert_bm25_matches_store

from rag.engine import Engine
from rag.errors import IndexDamaged
from rag.ingest.chunking import chunk_document
from rag.ingest.loaders import load_paths
from rag.store.lock import LOCK_NAME


def _wait_for_lock(index, proc, timeout=60.0) -> None:
    """Until ``proc`` has written its pid into the index folder's lock file."""
    lock = index / LOCK_NAME
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if lock.exists() and lock.read_text().strip() == str(proc.pid):
            return
        time.sleep(0.05)
    raise AssertionError(f"the first indexer never took the lock: {proc.communicate()}")


def test_second_indexer_on_the_same_folder_fails_clearly(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    make_corpus(corpus, 150)
    first = start("index", corpus, "--index", index)
    try:
        _wait_for_lock(index, first)
        second = run("index", corpus, "--index", index)
    finally:
        out, err = first.communicate(timeout=300)
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"Error: index folder {index} is in use by another rag process (pid {first.pid}); stop it, "
        "use its API, or share the index through a Chroma server (--store)"]
    assert first.returncode == 0, err
    assert "added 150" in out


def _state(settings, embedder) -> tuple[int, int]:
    """(complete records, chunks) of the index folder, opened and closed again."""
    engine = Engine(settings, embedder=embedder)
    try:
        return len(engine.store.records()), engine.store.count()
    finally:
        engine.close()


def _kill_when_embedded(proc, fraction: float, pause: float) -> None:
    """SIGKILL ``proc`` once its progress bar passes ``fraction`` of the run, ``pause`` s later."""
    seen = ""
    while proc.poll() is None:
        seen += proc.stderr.read(1) or ""
        bars = re.findall(r"(\d+)/(\d+) \[", seen[-200:])
        if bars and int(bars[-1][0]) >= fraction * int(bars[-1][1]):
            break
    time.sleep(pause)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_kill_9_at_random_points_then_rerun_leaves_a_consistent_index(tmp_path, settings, embedder):
    corpus = tmp_path / "corpus"
    files = make_corpus(corpus, 80)
    index = settings.index_dir
    rng = random.Random(2026)
    partial = []
    for _ in range(3):
        proc = start("index", corpus, "--index", index, RAG_INDEX_BATCH="16")
        killer = threading.Thread(target=_kill_when_embedded,
                                  args=(proc, rng.uniform(0.05, 0.7), rng.uniform(0, 0.3)))
        killer.start()
        killer.join(timeout=300)
        partial.append(_state(settings, embedder))
    done = run("index", corpus, "--index", index, timeout=300)
    assert done.returncode == 0, done.stderr
    assert any(0 < records < len(files) for records, _ in partial), partial  # killed mid-run

    engine = Engine(settings, embedder=embedder)
    store = engine.store
    engine.store.check()
    records = store.records()
    docs = load_paths([corpus], root=settings.documents_root).documents
    assert set(records) == {d.id for d in docs}  # every document, and only those
    got = store.chunks.get(include=["metadatas"])
    assert len(got["ids"]) == len(set(got["ids"]))
    for doc in docs:
        expected = [c.id for c in chunk_document(doc, settings.chunk_size, settings.chunk_overlap)]
        assert sorted(c.id for c in store.document_chunks(doc.id)) == sorted(expected)
        assert records[doc.id].chunks == len(expected) and records[doc.id].sha256 == doc.sha256
    assert store.count() == sum(r.chunks for r in records.values())  # no orphans
    assert store.docs.count() == len(records)  # no pending records left
    engine.close()


def test_kill_9_at_random_points_leaves_bm25_in_step_after_the_next_open(tmp_path, settings, embedder):
    corpus = tmp_path / "corpus"
    make_corpus(corpus, 60)
    rng = random.Random(912)
    for _ in range(3):  # BM25 is written after the store: a kill may land before, during or after it
        proc = start("index", corpus, "--index", settings.index_dir, RAG_INDEX_BATCH="8")
        killer = threading.Thread(target=_kill_when_embedded,
                                  args=(proc, rng.uniform(0.05, 0.9), rng.uniform(0, 0.2)))
        killer.start()
        killer.join(timeout=300)
        engine = Engine(settings, embedder=embedder)
        try:
            engine.store.lexical_search("harbour election", 5)  # the first search brings BM25 in step
            assert_bm25_matches_store(engine)
        finally:
            engine.close()


def test_open_reports_a_half_deleted_index_with_the_command_to_rebuild(seeded):
    seeded.store.chunks.delete(ids=seeded.store.chunks.get(limit=1)["ids"])
    with pytest.raises(IndexDamaged, match=r"half-deleted.*rag index --rebuild --collection documents"):
        seeded.search("Pathankot")


def test_open_reports_leftover_chunks_and_indexing_repairs_them(seeded, settings):
    seeded.store.docs.delete(ids=list(seeded.store.records()))
    with pytest.raises(IndexDamaged, match="holds 3 chunks but its records list 0"):
        seeded.search("Pathankot")
    report = seeded.index([settings.seeds_dir])
    assert (report.repaired, report.added) == (1, 1)
    assert seeded.search("Pathankot")
