"""Incremental indexing: unchanged files embed nothing, edits replace, prune removes, bad files skip."""

from __future__ import annotations

import shutil

import pytest
from conftest import SEED_FILE, SEEDS

from rag.embedding import Embedder
from rag.engine import Engine
from rag.errors import IndexMismatch
from rag.ingest.indexer import index_paths
from rag.settings import Settings
from rag.store.chroma import ChromaStore


def chunk_ids(engine: Engine) -> list[str]:
    return [c.id for c in engine.store.all_chunks()]


def test_reindexing_unchanged_files_embeds_nothing(engine, settings):
    first = engine.index([settings.seeds_dir])
    assert (first.added, first.chunks) == (1, engine.store.count())
    again = engine.index([settings.seeds_dir])
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 1, 0)


def test_editing_a_file_replaces_its_chunks_without_duplicates(engine, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    note = folder / "note.txt"
    note.write_text("The harbour bridge opened in 1932. It carries eight lanes of traffic.\n")
    engine.index([folder])
    before = chunk_ids(engine)
    note.write_text("The harbour bridge opened in 1932. It now carries ten lanes of traffic.\n")
    report = engine.index([folder])
    after = chunk_ids(engine)
    assert report.updated == 1 and report.chunks == len(after)
    assert len(after) == len(set(after)) == len(before)
    assert set(after).isdisjoint(before)
    assert "ten lanes" in engine.search("how many lanes")[0].chunk.text


def test_a_document_that_loses_its_date_loses_it_in_the_store(engine, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("date 2021-03-01\nThe ferry resumed service.\n")
    engine.index([note])
    note.write_text("The ferry resumed service.\n")
    engine.index([note])
    assert [d.date for d in engine.documents()] == [None]
    again = engine.index([note])
    assert (again.updated, again.unchanged) == (0, 1)


def test_prune_removes_documents_whose_files_are_gone(engine, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Apples grow on trees in orchards.")
    (folder / "b.txt").write_text("Bananas grow in tropical plantations.")
    engine.index([folder])
    (folder / "b.txt").unlink()
    kept = engine.index([folder])
    assert kept.removed == 0 and len(engine.documents()) == 2
    pruned = engine.index([folder], prune=True)
    assert pruned.removed == 1
    assert [d.title for d in engine.documents()] == ["A"]
    assert all("Bananas" not in c.text for c in engine.store.all_chunks())


def test_bad_files_are_reported_and_good_files_land(engine, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(SEED_FILE, folder / "seed.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (folder / "latin1.txt").write_bytes("Le café était fermé à Noël.".encode("latin-1"))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04 not supported")
    report = engine.index([folder])
    reasons = {name.rsplit("/", 1)[-1]: reason for name, reason in report.failed}
    assert set(reasons) == {"empty.txt", "binary.txt", "broken.pdf", "sheet.xlsx"}
    assert "no text" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "PDF" in reasons["broken.pdf"]
    assert "unsupported" in reasons["sheet.xlsx"]
    assert report.added == 2
    titles = {d.title for d in engine.documents()}
    assert "Latin1" in titles
    assert engine.search("café fermé")[0].chunk.text == "Le café était fermé à Noël."


def test_an_index_built_with_another_dimension_is_refused(settings, embedder, tmp_path):
    class OtherModel(Embedder):
        name = "other-model"
        dimension = 768

    engine = Engine(settings, embedder=embedder)
    engine.index([settings.seeds_dir])
    engine.close()
    with pytest.raises(IndexMismatch, match="rebuild"):
        Engine(settings, embedder=OtherModel())
    Engine(settings, embedder=embedder).close()  # the refused engine let go of the folder


def test_store_repair_removes_orphan_chunks(engine, settings):
    engine.index([settings.seeds_dir])
    store: ChromaStore = engine.store
    doc = engine.documents()[0]
    store.docs.delete(ids=[doc.id])  # as if killed between writing chunks and the record
    store._consistent = False  # a fresh process has not yet found the store consistent
    assert store.repair() == 1
    assert store.count() == 0
    report = engine.index([settings.seeds_dir])
    assert report.added == 1 and store.count() == report.chunks


def test_two_clones_in_different_folders_give_the_same_ids(embedder, tmp_path):
    ids = []
    for clone in (tmp_path / "one", tmp_path / "elsewhere" / "two"):
        shutil.copytree(SEEDS, clone / "seeds")
        eng = Engine(Settings.load(environ={}, index_dir=clone / "index", seeds_dir=clone / "seeds",
                                   data_dir=clone / "data"), embedder=embedder)
        try:
            eng.ensure_index()
            ids.append(([d.id for d in eng.documents()], sorted(c.id for c in eng.store.all_chunks())))
        finally:
            eng.close()
    assert ids[0] == ids[1] and ids[0][1]


def test_reindexing_an_index_of_absolute_path_ids_moves_each_document_to_its_new_id(engine, settings):
    index_paths([settings.seeds_dir], engine.store, engine.embedder)  # as before ids were relative
    [old] = [d.id for d in engine.documents()]
    report = engine.index([settings.seeds_dir])
    [new] = [d.id for d in engine.documents()]
    assert new != old and (report.added, report.updated, report.removed) == (0, 1, 0)
    assert {c.doc_id for c in engine.store.all_chunks()} == {new}
    assert engine.index([settings.seeds_dir]).unchanged == 1


def test_chunk_text_is_kept_out_of_chromas_full_text_index_and_older_indexes_still_read(engine, settings):
    engine.index([settings.seeds_dir])
    store: ChromaStore = engine.store
    got = store.chunks.get(include=["documents", "metadatas", "embeddings"])
    assert got["ids"] and all(d is None for d in got["documents"])  # nothing for Chroma's FTS to index
    chunks = {c.id: c for c in store.get_chunks(got["ids"])}
    # an index written before kept the text as the Chroma document and not in the metadata
    old = [{k: v for k, v in m.items() if k != "text"} for m in got["metadatas"]]
    store.chunks.upsert(ids=got["ids"], embeddings=got["embeddings"], metadatas=old,
                        documents=[chunks[i].text for i in got["ids"]])
    store.chunks.update(ids=got["ids"], metadatas=[{"text": None} for _ in got["ids"]])  # drop the key
    assert all("text" not in m for m in store.chunks.get(include=["metadatas"])["metadatas"])
    assert store.get_chunks(got["ids"]) == [chunks[i] for i in got["ids"]]
    hit = engine.search("harbour")[0].chunk
    assert hit == chunks[hit.id]
