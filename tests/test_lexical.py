"""BM25 kept in step with the store, saved beside it, and hybrid search through the engine."""

from __future__ import annotations

from rag.engine import Engine
from rag.store.lexical import LexicalIndex
from rag.types import Filters

WIRE = ("Officials from the United States and India met on Thursday to discuss counterterrorism "
        "cooperation and the Pathankot and Mumbai attacks, the foreign ministry said in a statement.\n")


def test_lexical_index_is_saved_and_loaded_without_rebuilding(seeded: Engine):
    folder = seeded.settings.index_dir / "lexical" / seeded.settings.collection
    assert (folder / "state.json").is_file()
    fresh = LexicalIndex(seeded.store, folder)
    assert fresh.sync() is False  # the saved index matches the store: loaded, not rebuilt
    hits = fresh.search("Pathankot airbase attack", 3)
    assert hits and "Pathankot" in hits[0].chunk.text


def test_indexing_and_deleting_keep_bm25_in_step(seeded: Engine, settings):
    (settings.seeds_dir / "zebra.txt").write_text("date 2021-03-01\nZebras graze on the savanna.\n")
    seeded.index([settings.seeds_dir])
    hit = seeded.store.lexical_search("zebras savanna", 1)
    assert hit and hit[0].chunk.title == "Zebra"
    seeded.delete_document(hit[0].chunk.doc_id)
    assert seeded.store.lexical_search("zebras savanna", 1) == []


def test_lexical_search_honours_date_filters(seeded: Engine, settings):
    (settings.seeds_dir / "later.txt").write_text("date 2023-05-01\nPathankot hosted a cricket match.\n")
    seeded.index([settings.seeds_dir])
    hits = seeded.store.lexical_search("Pathankot", 5, Filters(since="2021-01-01"))
    assert [h.chunk.date for h in hits] == ["2023-05-01"]
    hits = seeded.store.lexical_search("Pathankot", 5, Filters(until="2020-12-31"))
    assert hits and all(h.chunk.date == "2020-09-12" for h in hits)


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
